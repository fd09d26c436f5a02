//! Optimization-based meta-learners over the Rasch model (1PL IRT): fine-tuning, MAML (Finn
//! et al., ICML 2017), first-order MAML, Reptile (Nichol et al., 2018), Meta-SGD (Li et al.,
//! 2017) and ANIL (Raghu et al., ICLR 2020).
//!
//! Each starts from the 1PL fitted normally on the training learners and learns, across the
//! training learners as tasks, the starting point `Φ = (θ₀, b)` of a new learner's inner loop
//! (see [`crate::inner`]); Meta-SGD also learns a rate per parameter. Fine-tuning learns
//! nothing across learners: it runs the inner loop from the normal fit. The inner rate (and
//! fine-tuning's step count) is chosen on the validation learners, as is the epoch to stop
//! at. An adapted learner is an ordinary [`Irt`] with the learner's ability and item
//! difficulties, and keeps tracing with IRT's own update.

use std::fmt;
use std::str::FromStr;

use attune_core::{Dataset, Interaction, Progress, sigmoid};
use attune_kt::{Irt, IrtState};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::e5::{Adapted, E5_HORIZON, MetaLearner, validation_auc};
use crate::inner::{Order, Task, meta_gradient, trajectory};
use crate::outer::{Adam, keep_best};
use crate::strategy::{DEFAULT_STRATEGIES, DEFAULT_TEST_STRATEGIES, StrategySpec, parse_strategies};
use crate::tasks::episode;
use crate::{Error, Result};

/// An optimization-based way to adapt to a new learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Gradient steps on the support from the normal fit.
    FineTune,
    /// MAML with the exact second-order meta-gradient.
    Maml,
    /// First-order MAML.
    FoMaml,
    /// Reptile: move the starting point toward the parameters adapted on each whole task.
    Reptile,
    /// Meta-SGD: MAML that also learns a rate per parameter.
    MetaSgd,
    /// ANIL: only the ability adapts; the difficulties are meta-learned, not adapted.
    Anil,
}

impl Algorithm {
    /// Every algorithm, in the order tables list them.
    pub const ALL: [Self; 6] = [Self::FineTune, Self::Maml, Self::FoMaml, Self::Reptile, Self::MetaSgd, Self::Anil];

    /// The name `attune eval --model` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FineTune => "finetune",
            Self::Maml => "maml",
            Self::FoMaml => "fomaml",
            Self::Reptile => "reptile",
            Self::MetaSgd => "metasgd",
            Self::Anil => "anil",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            format!("unknown meta-learner {s:?} (known: {})", names.join(", "))
        })
    }
}

/// Settings of meta-training; defaults in [`MetaConfig::default`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetaConfig {
    /// Inner gradient steps of the meta-learners (default 5).
    pub inner_steps: usize,
    /// Inner rates tried; the best on validation is kept (default 0.1, 0.3, 1, 3).
    pub inner_rates: Vec<f64>,
    /// Step counts fine-tuning tries (default 1, 3, 5, 10).
    pub finetune_steps: Vec<usize>,
    /// Adam rate of the outer loop (default 0.01).
    pub outer_rate: f64,
    /// Tasks per outer step (default 32).
    pub meta_batch: usize,
    /// Most passes over the training learners (default 30).
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation AUC (default 4).
    pub patience: usize,
    /// Seed of the task order (default 42).
    pub seed: u64,
    /// Inner rates tried over neural base learners (DKT); the one fine-tuning does best with
    /// on validation is kept (default 0.03, 0.1, 0.3, 1).
    pub neural_inner_rates: Vec<f64>,
    /// Adam rate of the outer loop over neural base learners (default 0.001, DKT's own).
    pub neural_outer_rate: f64,
    /// Most passes over the training learners for neural base learners (default 6).
    pub neural_max_epochs: usize,
    /// Neural base learners: stop after this many epochs without a better validation AUC
    /// (default 2).
    pub neural_patience: usize,
    /// Learner-type counts the prototypical network tries; the best on validation is kept
    /// (default 2, 3, 4, 6, 8).
    pub learner_types: Vec<usize>,
    /// The candidates strategy selection chooses among (default [`DEFAULT_STRATEGIES`]).
    pub strategies: Vec<StrategySpec>,
    /// The candidates an E4 strategy chooses among (default [`DEFAULT_TEST_STRATEGIES`]).
    pub test_strategies: Vec<StrategySpec>,
    /// BiIRT over the 2PL: the slopes' prior precisions (`discrimination_l2`) whose fits it
    /// starts from, beside the base's own; the best on validation is kept (default 10, 100).
    pub slope_priors: Vec<f64>,
    /// BiIRT over the 2PL: the skill-pooling precisions (`skill_pooling_l2`, 0 = none) whose
    /// fits it starts from too, each with every slope prior, beside the base's own; only
    /// where the training items have skills (default 0, 0.3, 1, 3).
    pub pooling_priors: Vec<f64>,
}

impl Default for MetaConfig {
    fn default() -> Self {
        Self {
            inner_steps: 5,
            inner_rates: vec![0.1, 0.3, 1.0, 3.0],
            finetune_steps: vec![1, 3, 5, 10],
            outer_rate: 0.01,
            meta_batch: 32,
            max_epochs: 30,
            patience: 4,
            seed: 42,
            neural_inner_rates: vec![0.03, 0.1, 0.3, 1.0],
            neural_outer_rate: 1e-3,
            neural_max_epochs: 6,
            neural_patience: 2,
            learner_types: vec![2, 3, 4, 6, 8],
            strategies: parse_strategies(DEFAULT_STRATEGIES).unwrap_or_default(),
            test_strategies: parse_strategies(DEFAULT_TEST_STRATEGIES).unwrap_or_default(),
            slope_priors: vec![10.0, 100.0],
            pooling_priors: vec![0.0, 0.3, 1.0, 3.0],
        }
    }
}

impl MetaConfig {
    pub(crate) fn validate(&self, learner: &'static str) -> Result<()> {
        let bad = |param, value: String, reason| Err(Error::InvalidConfig { learner, param, value, reason });
        if !(1..=100).contains(&self.inner_steps) {
            return bad("inner_steps", self.inner_steps.to_string(), "between 1 and 100");
        }
        if self.inner_rates.is_empty() || self.inner_rates.iter().any(|r| !(r.is_finite() && *r > 0.0 && *r <= 100.0)) {
            return bad("inner_rates", format!("{:?}", self.inner_rates), "one or more rates in (0, 100]");
        }
        if self.finetune_steps.is_empty() || self.finetune_steps.iter().any(|s| !(1..=100).contains(s)) {
            return bad("finetune_steps", format!("{:?}", self.finetune_steps), "one or more counts in 1..=100");
        }
        if !(self.outer_rate.is_finite() && self.outer_rate > 0.0 && self.outer_rate <= 1.0) {
            return bad("outer_rate", self.outer_rate.to_string(), "in (0, 1]");
        }
        if self.meta_batch == 0 || self.max_epochs == 0 {
            return bad("meta_batch", self.meta_batch.to_string(), "meta_batch and max_epochs at least 1");
        }
        let rates = &self.neural_inner_rates;
        if rates.is_empty() || rates.iter().any(|r| !(r.is_finite() && *r > 0.0 && *r <= 100.0)) {
            return bad("neural_inner_rates", format!("{rates:?}"), "one or more rates in (0, 100]");
        }
        if !(self.neural_outer_rate.is_finite() && self.neural_outer_rate > 0.0 && self.neural_outer_rate <= 1.0) {
            return bad("neural_outer_rate", self.neural_outer_rate.to_string(), "in (0, 1]");
        }
        if self.neural_max_epochs == 0 || self.neural_patience == 0 {
            return bad("neural_max_epochs", self.neural_max_epochs.to_string(), "epochs and patience at least 1");
        }
        if self.learner_types.is_empty() || self.learner_types.iter().any(|t| !(1..=64).contains(t)) {
            return bad("learner_types", format!("{:?}", self.learner_types), "one or more counts in 1..=64");
        }
        Ok(())
    }
}

/// A meta-trained starting point for new learners under the Rasch model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetaIrt {
    /// How it adapts.
    pub algorithm: Algorithm,
    /// The support size it was trained for.
    pub support: usize,
    /// Inner steps at adaptation.
    pub steps: usize,
    /// Starting ability.
    pub theta0: f64,
    /// Starting difficulty per item; the last entry is that of an unseen item.
    pub difficulty: Vec<f64>,
    /// Inner rate of the ability.
    pub rate_theta: f64,
    /// Inner rate per item difficulty (zero for ANIL); the last entry for unseen items.
    pub rate_item: Vec<f64>,
    /// Validation AUC of the kept parameters (E5 on the validation learners).
    pub validation_auc: f64,
    /// The normal fit, for its configuration and the tracing update.
    pub base: Irt,
}

impl MetaIrt {
    /// The starting point of `base` itself: no meta-learning.
    pub(crate) fn from_base(algorithm: Algorithm, base: &Irt, support: usize, steps: usize, rate: f64) -> Self {
        let mut difficulty = base.difficulty.clone();
        difficulty.push(base.mean_difficulty);
        let n = difficulty.len();
        let item_rate = if algorithm == Algorithm::Anil { 0.0 } else { rate };
        Self {
            algorithm,
            support,
            steps,
            theta0: 0.0,
            difficulty,
            rate_theta: rate,
            rate_item: vec![item_rate; n],
            validation_auc: f64::NAN,
            base: base.clone(),
        }
    }

    fn unseen(&self) -> u32 {
        (self.difficulty.len() - 1) as u32
    }

    pub(crate) fn item_index(&self, i: attune_core::ItemId) -> u32 {
        i.0.min(self.unseen())
    }

    pub(crate) fn start(&self, task: &Task) -> (Vec<f64>, Vec<f64>) {
        let mut psi = Vec::with_capacity(task.slots.len() + 1);
        let mut rates = Vec::with_capacity(task.slots.len() + 1);
        psi.push(self.theta0);
        rates.push(self.rate_theta);
        for &s in &task.slots {
            psi.push(self.difficulty[s as usize]);
            // Unseen items keep the population's difficulty.
            rates.push(if s == self.unseen() { 0.0 } else { self.rate_item[s as usize] });
        }
        (psi, rates)
    }

    /// Fits `algorithm` for support size `k` on the training learners (model ids of `base`),
    /// choosing the inner rate, step count and stopping epoch on the validation learners.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::TooFewLearners`] without a training learner with more
    /// than `k` answers, [`Error::Cancelled`].
    pub fn train(
        algorithm: Algorithm,
        base: &Irt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        cfg.validate(algorithm.as_str())?;
        if base.config.dims != 1 || base.config.discrimination {
            return Err(Error::UnsupportedBase {
                learner: algorithm.as_str(),
                base: "irt".into(),
                supported: "irt1pl",
            });
        }
        let mut best: Option<Self> = None;
        let mut consider = |m: Self| {
            if best.as_ref().is_none_or(|b| m.validation_auc > b.validation_auc) {
                best = Some(m);
            }
        };
        if algorithm == Algorithm::FineTune {
            progress.start(
                "fine-tuning: choosing steps and rate",
                (cfg.finetune_steps.len() * cfg.inner_rates.len()) as u64,
            );
            for &steps in &cfg.finetune_steps {
                for &rate in &cfg.inner_rates {
                    let mut m = Self::from_base(algorithm, base, k, steps, rate);
                    m.validation_auc = m.validation(valid);
                    consider(m);
                    if !progress.advance(1) {
                        return Err(attune_core::Cancelled.into());
                    }
                }
            }
        } else {
            let m0 = Self::from_base(algorithm, base, k, cfg.inner_steps, 1.0);
            let tasks = tasks_of(&m0, train, k, algorithm == Algorithm::Reptile);
            if tasks.is_empty() {
                return Err(Error::TooFewLearners { needed: 1, found: 0 });
            }
            progress.start(
                &format!("meta-training {algorithm} (k = {k})"),
                (cfg.inner_rates.len() * cfg.max_epochs) as u64,
            );
            for &rate in &cfg.inner_rates {
                let start = Self::from_base(algorithm, base, k, cfg.inner_steps, rate);
                consider(start.meta_train(&tasks, valid, cfg, progress)?);
            }
        }
        best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })
    }

    /// E5 validation AUC of these parameters at their support size.
    fn validation(&self, valid: &Dataset) -> f64 {
        validation_auc(self, valid, self.support)
    }

    /// The outer loop: Adam on `(θ₀, b, rates)` over meta-batches of tasks, keeping the epoch
    /// with the best validation AUC.
    fn meta_train(
        mut self,
        tasks: &[Task],
        valid: &Dataset,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let n = self.difficulty.len();
        let learn_rates = self.algorithm == Algorithm::MetaSgd;
        let mut adam = Adam::new(2 + 2 * n, cfg.outer_rate);
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        self.validation_auc = self.validation(valid);
        let mut grad = vec![0.0; 2 + 2 * n];
        let start = self.validation_auc;
        let (_, best) = keep_best(self, start, cfg.max_epochs, cfg.patience, Some(progress), |m, _| {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                grad.fill(0.0);
                for &t in batch {
                    m.accumulate(&tasks[t], &mut grad);
                }
                let scale = 1.0 / batch.len() as f64;
                grad.iter_mut().for_each(|g| *g *= scale);
                // The unseen item stays the population's.
                grad[n] = 0.0;
                grad[1 + 2 * n] = 0.0;
                if !learn_rates {
                    grad[1 + n..].fill(0.0);
                }
                let mut x = m.pack();
                adam.step(&mut x, &grad);
                m.unpack(&x);
            }
            m.validation_auc = m.validation(valid);
            Ok(m.validation_auc)
        })?;
        Ok(best)
    }

    /// Adds one task's outer gradient to `grad` (layout of [`MetaIrt::pack`]).
    pub(crate) fn accumulate(&self, task: &Task, grad: &mut [f64]) {
        let n = self.difficulty.len();
        let (psi0, rates) = self.start(task);
        let (psi_bar, rate_bar) = match self.algorithm {
            Algorithm::Reptile => {
                // Reptile's direction: from the start toward the parameters adapted on the whole task.
                let traj = trajectory(task, psi0.clone(), &rates, self.steps, true);
                let end = &traj[self.steps];
                (psi0.iter().zip(end).map(|(a, b)| a - b).collect(), vec![0.0; rates.len()])
            }
            algorithm => {
                let order = if algorithm == Algorithm::FoMaml { Order::First } else { Order::Second };
                let (_, psi_bar, rate_bar) =
                    meta_gradient(task, psi0, &rates, self.steps, &self.difficulty, order, |item, g| {
                        grad[1 + item as usize] += g;
                    });
                (psi_bar, rate_bar)
            }
        };
        grad[0] += psi_bar[0];
        grad[1 + n] += rate_bar[0];
        for (j, &item) in task.slots.iter().enumerate() {
            grad[1 + item as usize] += psi_bar[1 + j];
            grad[2 + n + item as usize] += rate_bar[1 + j];
        }
    }

    pub(crate) fn pack(&self) -> Vec<f64> {
        let mut x = Vec::with_capacity(2 + 2 * self.difficulty.len());
        x.push(self.theta0);
        x.extend(&self.difficulty);
        x.push(self.rate_theta);
        x.extend(&self.rate_item);
        x
    }

    pub(crate) fn unpack(&mut self, x: &[f64]) {
        let n = self.difficulty.len();
        self.theta0 = x[0].clamp(-6.0, 6.0);
        for (b, &v) in self.difficulty.iter_mut().zip(&x[1..=n]) {
            *b = v.clamp(-1e3, 1e3);
        }
        self.rate_theta = x[1 + n].clamp(0.0, 100.0);
        for (r, &v) in self.rate_item.iter_mut().zip(&x[2 + n..]) {
            *r = v.clamp(0.0, 100.0);
        }
    }
}

/// Training tasks: each learner with more than `k` answers, support the first `k`, query the
/// next [`E5_HORIZON`].
pub(crate) fn tasks_of(m: &MetaIrt, data: &Dataset, k: usize, query_slots: bool) -> Vec<Task> {
    data.learners()
        .filter_map(|rows| {
            let ep = episode(rows, k, E5_HORIZON)?;
            let pairs = |r: std::ops::Range<usize>| -> Vec<(u32, bool)> {
                r.map(|i| (m.item_index(data.items()[i]), data.correct()[i])).collect()
            };
            Some(Task::new(&pairs(ep.support), &pairs(ep.query), query_slots))
        })
        .collect()
}

impl MetaLearner for MetaIrt {
    type Learner<'a> = Irt;

    fn adapt(&self, support: &[Interaction<'_>]) -> Adapted<Irt> {
        let task = self.support_task(support);
        let (psi0, rates) = self.start(&task);
        let psi = trajectory(&task, psi0, &rates, self.steps, false).pop().unwrap_or_default();
        self.adapted(&task, &psi)
    }
}

impl MetaIrt {
    /// A support set as a task on this model's item indices.
    pub(crate) fn support_task(&self, support: &[Interaction<'_>]) -> Task {
        let pairs: Vec<(u32, bool)> = support.iter().map(|o| (self.item_index(o.item), o.correct)).collect();
        Task::new(&pairs, &[], false)
    }

    /// The ordinary IRT learner at adapted parameters `psi` of `task`.
    pub(crate) fn adapted(&self, task: &Task, psi: &[f64]) -> Adapted<Irt> {
        let mut model = self.base.clone();
        let n = self.base.difficulty.len();
        model.difficulty.copy_from_slice(&self.difficulty[..n]);
        model.mean_difficulty = self.difficulty[n];
        for (j, &item) in task.slots.iter().enumerate() {
            if let Some(b) = model.difficulty.get_mut(item as usize) {
                *b = psi[1 + j];
            }
        }
        let theta = psi.first().copied().unwrap_or(self.theta0).clamp(-6.0, 6.0);
        // The Laplace precision at the adapted ability: the prior's plus each support answer's
        // information, so that tracing goes on weighing new answers against the support.
        let mut precision = self.base.config.ability_l2;
        for &(s, _) in &task.support {
            let p = sigmoid(theta - psi[1 + s as usize]);
            precision += p * (1.0 - p);
        }
        Adapted { model, state: IrtState { theta: vec![theta], precision: vec![precision] } }
    }
}
