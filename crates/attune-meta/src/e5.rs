//! Protocol E5, cold-start knowledge tracing: held-out learners, the first `k` answers are
//! the support set a learner adapts on; tracing then continues over the next answers, each
//! predicted from the earlier ones, and is scored on answers `k + 1 … k + 20` and on the
//! windows of MAML-KT (Bhattacharjee & Wayllace, 2026), answers 3–10 and 11–15 (those of
//! their answers that come after the support).

use std::collections::BTreeMap;

use attune_core::{Dataset, Interaction, KnowledgeTracer, metrics};
use rayon::prelude::*;
use serde::Serialize;

use crate::tasks::episode;

/// The support sizes E5 reports.
pub const E5_SUPPORT: [usize; 4] = [1, 3, 5, 10];

/// Answers after the support that E5 scores.
pub const E5_HORIZON: usize = 20;

/// MAML-KT's windows of 1-based answer positions.
pub const E5_WINDOWS: [(usize, usize); 2] = [(3, 10), (11, 15)];

/// A student model adapted to one learner, and that learner's state after the support.
pub struct Adapted<L: KnowledgeTracer> {
    /// The learner's model.
    pub model: L,
    /// The state after reading the support set.
    pub state: L::State,
}

/// A meta-learner: trained across learners, it adapts to a new learner from a support set.
/// The adapted model keeps tracing with its ordinary update.
pub trait MetaLearner: Sync {
    /// The student model an adaptation gives.
    type Learner<'a>: KnowledgeTracer
    where
        Self: 'a;

    /// Adapts to a learner from their first answers (on the model's ids).
    fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<Self::Learner<'a>>;
}

/// The E5 AUC of `learner` on `valid` at support size `k`: what every E5 meta-learner's
/// rate, step count and stopping epoch are chosen by.
pub(crate) fn validation_auc<M: MetaLearner>(learner: &M, valid: &Dataset, k: usize) -> f64 {
    let t = trace_e5(learner, valid, k);
    metrics::auc(&t.p, &t.y)
}

/// Every scored prediction of one support size, answer by answer, learners in dataset order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traced {
    /// Predicted probability of a right answer.
    pub p: Vec<f64>,
    /// The recorded answer.
    pub y: Vec<bool>,
    /// The learner's index in the dataset (for resampling by learner).
    pub learner: Vec<u32>,
    /// The answer's 1-based position in the learner's sequence.
    pub position: Vec<u32>,
}

impl Traced {
    /// The predictions whose positions lie in `lo ..= hi`.
    pub fn window(&self, lo: usize, hi: usize) -> (Vec<f64>, Vec<bool>) {
        let keep = |k: &usize| (lo..=hi).contains(&(self.position[*k] as usize));
        let idx: Vec<usize> = (0..self.p.len()).filter(keep).collect();
        (idx.iter().map(|&k| self.p[k]).collect(), idx.iter().map(|&k| self.y[k]).collect())
    }
}

/// The E5 metrics of one support size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct E5Scores {
    /// AUC on answers `k + 1 … k + 20`.
    pub auc: f64,
    /// Accuracy on the same answers.
    pub accuracy: f64,
    /// Answers scored.
    pub n: usize,
    /// AUC per window (`"3-10"`, `"11-15"`), NaN where the support covers the window.
    pub window_auc: BTreeMap<String, f64>,
    /// Accuracy per window.
    pub window_accuracy: BTreeMap<String, f64>,
}

impl Traced {
    /// The metrics of these predictions.
    pub fn scores(&self) -> E5Scores {
        let mut window_auc = BTreeMap::new();
        let mut window_accuracy = BTreeMap::new();
        for (lo, hi) in E5_WINDOWS {
            let (p, y) = self.window(lo, hi);
            let name = format!("{lo}-{hi}");
            window_auc.insert(name.clone(), metrics::auc(&p, &y));
            window_accuracy.insert(name, if p.is_empty() { f64::NAN } else { metrics::accuracy(&p, &y) });
        }
        E5Scores {
            auc: metrics::auc(&self.p, &self.y),
            accuracy: if self.p.is_empty() { f64::NAN } else { metrics::accuracy(&self.p, &self.y) },
            n: self.p.len(),
            window_auc,
            window_accuracy,
        }
    }
}

/// Adapts `learner` to every learner of `data` (model ids) on their first `k` answers and
/// traces the next [`E5_HORIZON`], learners in parallel; learners with no answer after the
/// support are skipped.
pub fn trace_e5<M: MetaLearner>(learner: &M, data: &Dataset, k: usize) -> Traced {
    let rows: Vec<_> = data.learners().collect();
    let per: Vec<Traced> = rows
        .par_iter()
        .enumerate()
        .map(|(index, rows)| {
            let mut out = Traced::default();
            let Some(ep) = episode(rows.clone(), k, E5_HORIZON) else { return out };
            let support: Vec<Interaction<'_>> = data.interactions(ep.support.clone()).collect();
            let Adapted { model, mut state } = learner.adapt(&support);
            for (offset, row) in ep.query.clone().enumerate() {
                let obs = data.interaction(row);
                out.p.push(model.predict_interaction(&state, &obs).get());
                out.y.push(obs.correct);
                out.learner.push(u32::try_from(index).unwrap_or(u32::MAX));
                out.position.push(u32::try_from(k + offset + 1).unwrap_or(u32::MAX));
                model.update(&mut state, &obs);
            }
            out
        })
        .collect();
    let mut all = Traced::default();
    for t in per {
        all.p.extend(t.p);
        all.y.extend(t.y);
        all.learner.extend(t.learner);
        all.position.extend(t.position);
    }
    all
}

/// A learner that is not adapted: the base model, its state updated from the support as
/// tracing does (E5's first baseline, `none`).
pub struct NotAdapted<'m, T: KnowledgeTracer>(pub &'m T);

impl<T: KnowledgeTracer + Sync> MetaLearner for NotAdapted<'_, T>
where
    T::State: Send,
{
    type Learner<'a>
        = &'a T
    where
        Self: 'a;

    fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<&'a T> {
        let mut state = self.0.initial_state();
        for obs in support {
            self.0.update(&mut state, obs);
        }
        Adapted { model: self.0, state }
    }
}
