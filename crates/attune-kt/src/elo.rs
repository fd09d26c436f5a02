//! The Elo rating system for learners and items (Pelánek, Computers & Education 2016):
//! `P(correct) = σ(θ_s − b_i)`, both updated after each answer by `K(n) (y − p)` with the
//! uncertainty function `K(n) = α / (1 + β n)` of the number `n` of earlier updates.

use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, Progress};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::{Result, check_range};
use crate::logistic::{loss_and_residual, sigmoid};

/// Hyperparameters of Elo. `alpha` and `beta` are chosen from the grids by the prequential
/// log-loss of one pass over the training data (each answer predicted before it updates).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EloConfig {
    /// Candidate `α` (default 0.2, 0.4, 0.8, 1.6).
    pub alphas: Vec<f64>,
    /// Candidate `β` (default 0.01, 0.05, 0.1, 0.5).
    pub betas: Vec<f64>,
}

impl Default for EloConfig {
    fn default() -> Self {
        Self { alphas: vec![0.2, 0.4, 0.8, 1.6], betas: vec![0.01, 0.05, 0.1, 0.5] }
    }
}

/// A fitted Elo model: item difficulties frozen after the training pass.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Elo {
    /// The chosen `α`.
    pub alpha: f64,
    /// The chosen `β`.
    pub beta: f64,
    /// Difficulty by item.
    pub difficulty: Vec<f64>,
    /// Prequential log-loss of the training pass with the chosen `α`, `β`.
    pub train_log_loss: f64,
}

/// A learner's rating and answer count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EloState {
    /// Ability.
    pub theta: f64,
    /// Answers seen.
    pub n: u32,
}

impl EloConfig {
    /// Runs the training pass for every `(α, β)` and keeps the best.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for empty or non-positive grids, [`Error::EmptyTrainingSet`],
    /// [`Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<Elo> {
        if self.alphas.is_empty() || self.betas.is_empty() {
            return Err(Error::InvalidConfig { param: "alphas/betas", value: "[]".into(), reason: "non-empty grids" });
        }
        for &a in &self.alphas {
            check_range("alphas", a, 1e-6, 100.0, "in (0, 100]")?;
        }
        for &b in &self.betas {
            check_range("betas", b, 0.0, 100.0, "in [0, 100]")?;
        }
        if train.is_empty() {
            return Err(Error::EmptyTrainingSet { model: "elo" });
        }
        progress.start("fitting Elo (grid)", (self.alphas.len() * self.betas.len()) as u64);
        let mut best: Option<Elo> = None;
        for &alpha in &self.alphas {
            for &beta in &self.betas {
                let m = pass(train, alpha, beta);
                if best.as_ref().is_none_or(|b| m.train_log_loss < b.train_log_loss) {
                    best = Some(m);
                }
                if !progress.advance(1) {
                    return Err(attune_core::Cancelled.into());
                }
            }
        }
        best.ok_or(Error::EmptyTrainingSet { model: "elo" })
    }
}

fn pass(train: &Dataset, alpha: f64, beta: f64) -> Elo {
    let n_items = train.vocab().n_items();
    let mut difficulty = vec![0.0; n_items];
    let mut item_n = vec![0u32; n_items];
    let k = |n: u32| alpha / (1.0 + beta * f64::from(n));
    let mut loss = 0.0;
    for rows in train.learners() {
        let mut st = EloState::default();
        for r in rows {
            let i = train.items()[r].index();
            let y = train.correct()[r];
            let z = st.theta - difficulty[i];
            let (l, resid) = loss_and_residual(z, y);
            loss += l;
            // resid = p - y
            st.theta -= k(st.n) * resid;
            difficulty[i] += k(item_n[i]) * resid;
            st.n += 1;
            item_n[i] += 1;
        }
    }
    Elo { alpha, beta, difficulty, train_log_loss: loss / train.len().max(1) as f64 }
}

impl KnowledgeTracer for Elo {
    type State = EloState;

    fn initial_state(&self) -> EloState {
        EloState::default()
    }

    fn update(&self, st: &mut EloState, obs: &Interaction<'_>) {
        let p = self.predict(st, obs.item).get();
        let k = self.alpha / (1.0 + self.beta * f64::from(st.n));
        st.theta += k * (f64::from(u8::from(obs.correct)) - p);
        st.n += 1;
    }

    fn predict(&self, st: &EloState, item: ItemId) -> Probability {
        let b = self.difficulty.get(item.index()).copied().unwrap_or(0.0);
        Probability::new(sigmoid(st.theta - b))
    }
}
