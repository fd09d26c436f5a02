//! Simulated practice: learners whose true ability grows with practice answer the items a
//! recommender picks, and the observed success rate is compared with the target.

use attune_core::{Interaction, ItemId, KnowledgeTracer, Probability, StudentId};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::cat::{Estimate, Estimator, ItemBank};
use crate::recommend::{Candidate, PracticeConfig, recommend};

/// A knowledge tracer over a calibrated item bank: the learner's ability is the EAP estimate
/// from their answers (item ids are bank indices).
#[derive(Clone, Debug)]
pub struct BankTracer {
    /// The bank.
    pub bank: ItemBank,
}

/// A learner's answers and current ability estimate under a [`BankTracer`].
#[derive(Clone, Debug, Default)]
pub struct BankState {
    answers: Vec<(usize, bool)>,
    /// Current estimate.
    pub estimate: Option<Estimate>,
}

impl KnowledgeTracer for BankTracer {
    type State = BankState;

    fn initial_state(&self) -> BankState {
        BankState::default()
    }

    fn update(&self, state: &mut BankState, obs: &Interaction<'_>) {
        if obs.item.index() < self.bank.len() {
            state.answers.push((obs.item.index(), obs.correct));
            let prev = state.estimate.unwrap_or(Estimate::PRIOR);
            state.estimate = Some(Estimator::Eap.estimate(&self.bank, &state.answers, prev));
        }
    }

    fn predict(&self, state: &BankState, item: ItemId) -> Probability {
        let est = state.estimate.unwrap_or(Estimate::PRIOR);
        match self.bank.items.get(item.index()) {
            // Posterior-predictive with the estimate's uncertainty (probit approximation).
            Some(it) => {
                let z = it.a * (est.theta - it.b) / (1.0 + std::f64::consts::PI / 8.0 * (it.a * est.se).powi(2)).sqrt();
                Probability::new(it.c + (1.0 - it.c) * attune_core::sigmoid(z))
            }
            None => Probability::new(0.5),
        }
    }
}

/// What the simulation observed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PracticeStats {
    /// The target success probability.
    pub target: f64,
    /// Share of recommended items answered correctly.
    pub observed_success: f64,
    /// Mean predicted success of the recommended items.
    pub mean_predicted: f64,
    /// Answers simulated.
    pub answers: usize,
    /// Mean absolute difference between each learner's success rate and the target.
    pub mean_learner_gap: f64,
}

/// `learners` learners (abilities from N(0, 1)) each practise `steps` recommended items from
/// `bank`; every answer raises their true ability by `gain`.
pub fn simulate_practice(
    bank: &ItemBank,
    learners: usize,
    steps: usize,
    gain: f64,
    config: &PracticeConfig,
    seed: u64,
) -> PracticeStats {
    let tracer = BankTracer { bank: bank.clone() };
    let per: Vec<(usize, f64, usize)> = (0..learners)
        .into_par_iter()
        .map(|l| {
            let mut rng = StdRng::seed_from_u64(seed ^ (l as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut theta = crate::cat::standard_normal(&mut rng);
            let mut state = tracer.initial_state();
            let mut used = vec![false; bank.len()];
            let (mut correct, mut predicted, mut n) = (0usize, 0.0, 0usize);
            for _ in 0..steps {
                let candidates: Vec<Candidate<'_>> = (0..bank.len())
                    .filter(|&i| !used[i])
                    .map(|i| Candidate { item: ItemId(u32::try_from(i).unwrap_or(u32::MAX)), skills: &[] })
                    .collect();
                let Some(rec) = recommend(&tracer, &state, &candidates, None, config) else { break };
                let i = rec.item.index();
                used[i] = true;
                let ok = rng.random::<f64>() < bank.items[i].p(theta);
                let obs = Interaction { student: StudentId(0), item: rec.item, skills: &[], correct: ok, time: 0 };
                tracer.update(&mut state, &obs);
                correct += usize::from(ok);
                predicted += rec.reason.predicted;
                n += 1;
                theta += gain;
            }
            (correct, predicted, n)
        })
        .collect();
    let answers: usize = per.iter().map(|p| p.2).sum();
    let correct: usize = per.iter().map(|p| p.0).sum();
    let n = answers.max(1) as f64;
    let gaps: Vec<f64> =
        per.iter().filter(|p| p.2 > 0).map(|p| (p.0 as f64 / p.2 as f64 - config.target).abs()).collect();
    PracticeStats {
        target: config.target,
        observed_success: correct as f64 / n,
        mean_predicted: per.iter().map(|p| p.1).sum::<f64>() / n,
        answers,
        mean_learner_gap: gaps.iter().sum::<f64>() / gaps.len().max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cat::BankModel;

    #[test]
    fn recommended_items_succeed_at_the_target_rate() {
        let bank = ItemBank::simulate(BankModel::TwoPl, 400, 9);
        for target in [0.6, 0.7, 0.8] {
            let cfg = PracticeConfig { target, ..PracticeConfig::default() };
            let s = simulate_practice(&bank, 300, 30, 0.02, &cfg, 4);
            assert!((s.observed_success - target).abs() <= 0.05, "target {target}: observed {}", s.observed_success);
            assert!((s.mean_predicted - target).abs() < 0.05, "{s:?}");
        }
    }
}
