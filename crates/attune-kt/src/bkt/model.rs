use std::sync::atomic::{AtomicBool, Ordering};

use attune_core::{Cancelled, Dataset, Interaction, ItemId, KnowledgeTracer, Probability, Progress, SkillId};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::BktConfig;
use super::em::{self, Params};
use super::sequences::{SkillSequences, by_skill};
use crate::{Error, Result};

/// Fitted BKT parameters of one skill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillParams {
    /// P(known before the first practice).
    pub prior: f64,
    /// P(unknown → known) per practice opportunity.
    pub learn: f64,
    /// P(known → unknown) per opportunity (0 unless fitted with `forgets`).
    pub forget: f64,
    /// P(correct | unknown).
    pub guess: f64,
    /// P(wrong | known).
    pub slip: f64,
    /// Per-item guess and slip under `multigs`, sorted by item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<(ItemId, f64, f64)>,
    /// Log-likelihood of the training data of this skill under these parameters.
    pub log_likelihood: f64,
}

/// A fitted BKT model: parameters per skill, and each item's skills.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bkt {
    /// The configuration it was fitted with.
    pub config: BktConfig,
    /// Parameters by [`SkillId`]; `None` for skills without training data.
    pub skills: Vec<Option<SkillParams>>,
    /// Skills of each item ([`ItemId`] index), from the training data's Q-matrix.
    pub item_skills: Vec<Vec<SkillId>>,
    /// Training-set correct rate, predicted where no skill is known.
    pub base_rate: f64,
}

/// A learner's state under BKT: P(known) per skill.
pub type BktState = Vec<f64>;

impl BktConfig {
    /// Fits BKT to `train`, skills × restarts in parallel.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::EmptyTrainingSet`], or [`Error::Cancelled`] if the
    /// progress hook asks to stop.
    pub fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<Bkt> {
        self.validate()?;
        if train.is_empty() {
            return Err(Error::EmptyTrainingSet { model: "bkt" });
        }
        let n_skills = train.vocab().n_skills();
        let seqs = by_skill(train, n_skills);
        let tasks: Vec<(usize, usize)> = (0..n_skills)
            .filter(|&k| !seqs[k].weights.is_empty())
            .flat_map(|k| (0..self.restarts).map(move |r| (k, r)))
            .collect();
        progress.start("fitting BKT (skill x restart)", tasks.len() as u64);
        let cancelled = AtomicBool::new(false);
        let runs: Vec<(usize, Params, f64)> = tasks
            .par_iter()
            .filter_map(|&(k, r)| {
                if cancelled.load(Ordering::Relaxed) {
                    return None;
                }
                let mut p = self.random_start(&seqs[k], k, r);
                let ll = em::fit(&seqs[k], &mut p, self);
                if !progress.advance(1) {
                    cancelled.store(true, Ordering::Relaxed);
                }
                Some((k, p, ll))
            })
            .collect();
        if cancelled.load(Ordering::Relaxed) {
            return Err(Cancelled.into());
        }
        let mut best: Vec<Option<(Params, f64)>> = vec![None; n_skills];
        for (k, p, ll) in runs {
            // Ties keep the earlier restart, so results do not depend on thread timing.
            if best[k].as_ref().is_none_or(|(_, b)| ll > *b) {
                best[k] = Some((p, ll));
            }
        }
        let skills = best
            .into_iter()
            .enumerate()
            .map(|(k, b)| b.map(|(p, ll)| to_skill_params(p, ll, &seqs[k], self.multigs)))
            .collect();
        Ok(Bkt {
            config: self.clone(),
            skills,
            item_skills: train.vocab().item_skills.clone(),
            base_rate: train.correct_rate(),
        })
    }

    fn random_start(&self, seqs: &SkillSequences, skill: usize, restart: usize) -> Params {
        let mut rng = StdRng::seed_from_u64(
            self.seed ^ ((skill as u64) << 20 | restart as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let n_gs = if self.multigs { seqs.items.len().max(1) } else { 1 };
        let hi = self.max_guess_slip.min(0.4);
        Params {
            prior: rng.random_range(0.05..0.95),
            learn: rng.random_range(0.01..0.5),
            forget: if self.forgets { rng.random_range(0.01..0.3) } else { 0.0 },
            guess: (0..n_gs).map(|_| rng.random_range(0.05..hi)).collect(),
            slip: (0..n_gs).map(|_| rng.random_range(0.05..hi)).collect(),
        }
    }
}

fn to_skill_params(p: Params, ll: f64, seqs: &SkillSequences, multigs: bool) -> SkillParams {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut items: Vec<(ItemId, f64, f64)> = if multigs {
        seqs.items.iter().enumerate().map(|(j, &it)| (it, p.guess[j], p.slip[j])).collect()
    } else {
        Vec::new()
    };
    items.sort_by_key(|t| t.0);
    SkillParams {
        prior: p.prior,
        learn: p.learn,
        forget: p.forget,
        guess: mean(&p.guess),
        slip: mean(&p.slip),
        items,
        log_likelihood: ll,
    }
}

impl SkillParams {
    fn guess_slip(&self, item: ItemId) -> (f64, f64) {
        match self.items.binary_search_by_key(&item, |t| t.0) {
            Ok(j) => (self.items[j].1, self.items[j].2),
            Err(_) => (self.guess, self.slip),
        }
    }
}

impl Bkt {
    fn params(&self, skill: SkillId) -> Option<&SkillParams> {
        self.skills.get(skill.index()).and_then(Option::as_ref)
    }

    fn predict_skills(&self, state: &BktState, item: ItemId, skills: &[SkillId]) -> Probability {
        let (mut sum, mut n) = (0.0, 0usize);
        for &s in skills {
            if let (Some(p), Some(&known)) = (self.params(s), state.get(s.index())) {
                let (g, sl) = p.guess_slip(item);
                sum += known * (1.0 - sl) + (1.0 - known) * g;
                n += 1;
            }
        }
        Probability::new(if n == 0 { self.base_rate } else { sum / n as f64 })
    }
}

impl KnowledgeTracer for Bkt {
    type State = BktState;

    fn initial_state(&self) -> BktState {
        self.skills.iter().map(|p| p.as_ref().map_or(0.0, |p| p.prior)).collect()
    }

    fn update(&self, state: &mut BktState, obs: &Interaction<'_>) {
        for &s in obs.skills {
            let (Some(p), Some(known)) = (self.params(s), state.get_mut(s.index())) else {
                continue;
            };
            let (g, sl) = p.guess_slip(obs.item);
            let k = *known;
            let post = if obs.correct {
                k * (1.0 - sl) / (k * (1.0 - sl) + (1.0 - k) * g)
            } else {
                k * sl / (k * sl + (1.0 - k) * (1.0 - g))
            };
            let next = post * (1.0 - p.forget) + (1.0 - post) * p.learn;
            *known = if next.is_finite() { next } else { k };
        }
    }

    fn predict(&self, state: &BktState, item: ItemId) -> Probability {
        let skills = self.item_skills.get(item.index()).map_or(&[][..], Vec::as_slice);
        self.predict_skills(state, item, skills)
    }

    fn predict_interaction(&self, state: &BktState, obs: &Interaction<'_>) -> Probability {
        self.predict_skills(state, obs.item, obs.skills)
    }

    fn mastery(&self, state: &BktState, skill: SkillId) -> Option<Probability> {
        // The skill's own guess and slip (under `multigs`, the mean over its items).
        let p = self.params(skill)?;
        let known = *state.get(skill.index())?;
        Some(Probability::new(known * (1.0 - p.slip) + (1.0 - known) * p.guess))
    }

    fn knowledge(&self, state: &BktState, skill: SkillId) -> Option<Probability> {
        self.params(skill)?;
        state.get(skill.index()).map(|&p| Probability::new(p))
    }
}
