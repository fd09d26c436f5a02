//! The optimization-based meta-learners over DKT (Piech et al., NeurIPS 2015): fine-tuning,
//! MAML with the exact second-order meta-gradient (Finn et al., ICML 2017), first-order MAML,
//! Reptile (Nichol et al., 2018), Meta-SGD (Li et al., 2017) and ANIL (Raghu et al., ICLR
//! 2020), on the inner loop of [`crate::dkt_inner`].
//!
//! A new learner's inner loop descends the next-answer loss of their support over all of the
//! LSTM's weights (ANIL: the read-out only), from the normally fitted DKT (fine-tuning) or from
//! a starting point meta-learned across the training learners (Meta-SGD also learns a rate
//! per weight). The inner rate is the one fine-tuning with the same step count does best with
//! on the validation learners, so that each meta-learner starts where its baseline stands;
//! the epoch to stop at is chosen there too. An adapted learner is an ordinary [`Dkt`].

use attune_core::{Dataset, Interaction, KnowledgeTracer, Progress};
use attune_nn::Dkt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::dkt_inner::{Answer, DktLoss, Layout, answers_of, loss_and_gradient};
use crate::e5::{Adapted, E5_HORIZON, MetaLearner, validation_auc};
use crate::inner::{Order, descend_into, unroll_into};
use crate::irt_meta::{Algorithm, MetaConfig};
use crate::outer::{Adam, batch_gradient, keep_best};
use crate::tasks::episode;
use crate::{Error, Result};

/// A meta-trained starting point for new learners under DKT.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetaDkt {
    /// How it adapts.
    pub algorithm: Algorithm,
    /// The support size it was trained for.
    pub support: usize,
    /// Inner steps at adaptation.
    pub steps: usize,
    /// Inner rate (of the read-out only, for ANIL).
    pub rate: f64,
    /// Meta-SGD's learned rate per weight, in [`Layout`] order; empty for the others.
    #[serde(default)]
    pub rates: Vec<f32>,
    /// Where every new learner's inner loop starts: an ordinary DKT.
    pub start: Dkt,
    /// Validation AUC of the kept parameters (E5 on the validation learners).
    pub validation_auc: f64,
}

/// A training learner: their answers as the network reads them, the first `support` of them
/// the support set.
struct DktTask {
    answers: Vec<Answer>,
    support: usize,
}

impl MetaDkt {
    fn from_base(algorithm: Algorithm, base: &Dkt, support: usize, steps: usize, rate: f64) -> Self {
        Self { algorithm, support, steps, rate, rates: Vec::new(), start: base.clone(), validation_auc: f64::NAN }
    }

    /// Checks a loaded learner against the file's base DKT: the same shapes, finite weights,
    /// rates in `[0, 100]`; the error names the field.
    pub(crate) fn check(&self, base: &Dkt) -> std::result::Result<(), (&'static str, String)> {
        let l = Layout::of(base);
        if !l.fits(&self.start) || self.start.item_skill != base.item_skill {
            return Err((
                "start",
                format!("not a dkt of {} skills and {} hidden units like the base", l.n_skills, l.hidden),
            ));
        }
        let s = &self.start;
        let weights = s.token_gates.iter().chain(&s.w_hh).chain(&s.w_out).chain(&s.b_out).chain(&s.item_bias);
        if weights.clone().any(|w| !w.is_finite() || w.abs() > 1e6) {
            return Err(("start", "a weight is not finite or beyond ±1e6".into()));
        }
        if !(1..=100).contains(&self.steps) {
            return Err(("steps", format!("{}: between 1 and 100", self.steps)));
        }
        let rate_ok = |r: f64| r.is_finite() && (0.0..=100.0).contains(&r);
        if !rate_ok(self.rate) {
            return Err(("rate", format!("{}: in [0, 100]", self.rate)));
        }
        if !(self.rates.is_empty() || self.rates.len() == l.len()) || self.rates.iter().any(|&r| !rate_ok(f64::from(r)))
        {
            return Err(("rates", format!("{} rates: none or {} in [0, 100]", self.rates.len(), l.len())));
        }
        Ok(())
    }

    fn layout(&self) -> Layout {
        Layout::of(&self.start)
    }

    /// The inner rate of every weight.
    pub(crate) fn rate_vector(&self) -> Vec<f64> {
        let l = self.layout();
        if self.rates.len() == l.len() {
            return self.rates.iter().map(|&r| f64::from(r)).collect();
        }
        let mut rates = vec![if self.algorithm == Algorithm::Anil { 0.0 } else { self.rate }; l.len()];
        rates[l.head()].fill(self.rate);
        rates
    }

    /// Fits `algorithm` for support size `k` over `base` (fitted normally on `train`, model
    /// ids), choosing the inner rate (and fine-tuning's step count) and the stopping epoch on
    /// the validation learners.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::TooFewLearners`] without a training learner with
    /// more than `k` answers, [`Error::Cancelled`].
    pub fn train(
        algorithm: Algorithm,
        base: &Dkt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        cfg.validate(algorithm.as_str())?;
        if !Layout::of(base).fits(base) {
            return Err(Error::UnsupportedBase {
                learner: algorithm.as_str(),
                base: "dkt with inconsistent weight shapes".into(),
                supported: "a fitted dkt",
            });
        }
        let step_counts =
            if algorithm == Algorithm::FineTune { cfg.finetune_steps.clone() } else { vec![cfg.inner_steps] };
        let grid: Vec<(usize, f64)> =
            step_counts.iter().flat_map(|&s| cfg.neural_inner_rates.iter().map(move |&r| (s, r))).collect();
        progress.start(&format!("{algorithm} over dkt (k = {k}): choosing the inner rate"), grid.len() as u64);
        let mut best: Option<Self> = None;
        for &(steps, rate) in &grid {
            let mut m = Self::from_base(algorithm, base, k, steps, rate);
            m.validation_auc = m.validation(valid);
            if best.as_ref().is_none_or(|b| m.validation_auc > b.validation_auc) {
                best = Some(m);
            }
            if !progress.advance(1) {
                return Err(attune_core::Cancelled.into());
            }
        }
        let best = best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })?;
        if algorithm == Algorithm::FineTune {
            return Ok(best);
        }
        let tasks = tasks_of(base, train, k);
        if tasks.is_empty() {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        best.meta_train(&tasks, valid, cfg, progress)
    }

    /// E5 validation AUC of these parameters at their support size.
    fn validation(&self, valid: &Dataset) -> f64 {
        validation_auc(self, valid, self.support)
    }

    /// The outer loop: Adam on the starting point (and Meta-SGD's rates) over meta-batches of
    /// tasks, tasks of a batch in parallel, keeping the epoch with the best validation AUC.
    fn meta_train(self, tasks: &[DktTask], valid: &Dataset, cfg: &MetaConfig, progress: &dyn Progress) -> Result<Self> {
        let l = self.layout();
        let learn_rates = self.algorithm == Algorithm::MetaSgd;
        let mut x = l.flatten(&self.start);
        let mut rates = self.rate_vector();
        let mut adam = Adam::new(x.len(), cfg.neural_outer_rate);
        let mut adam_rates = Adam::new(x.len(), cfg.neural_outer_rate);
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        let batches = tasks.len().div_ceil(cfg.meta_batch);
        progress.start(
            &format!("meta-training {} over dkt (k = {})", self.algorithm, self.support),
            (cfg.neural_max_epochs * batches) as u64,
        );
        let start = self.validation_auc;
        let (_, best) = keep_best(self, start, cfg.neural_max_epochs, cfg.neural_patience, None, |m, _| {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                let task = |t: usize, g: &mut [f64], r: &mut [f64]| m.add_task_gradient(&tasks[t], &x, &rates, g, r);
                if let Some((g, g_rates)) = batch_gradient(batch, l.len(), task) {
                    adam.step(&mut x, &g);
                    if learn_rates {
                        adam_rates.step(&mut rates, &g_rates);
                        rates.iter_mut().for_each(|r| *r = r.clamp(0.0, 100.0));
                    }
                }
                if !progress.advance(1) {
                    return Err(attune_core::Cancelled.into());
                }
            }
            l.write(&x, &mut m.start);
            if learn_rates {
                m.rates = rates.iter().map(|&r| r as f32).collect();
            }
            m.validation_auc = m.validation(valid);
            Ok(m.validation_auc)
        })?;
        Ok(best)
    }

    /// Adds one task's outer gradient with respect to the starting point and the rates to
    /// `g` and `g_rates`; `false` (and nothing added) where it is not finite.
    fn add_task_gradient(&self, task: &DktTask, x: &[f64], rates: &[f64], g: &mut [f64], g_rates: &mut [f64]) -> bool {
        let l = self.layout();
        WORK.with_borrow_mut(|w| {
            w.traj.resize_with(1, Vec::new);
            w.traj[0].clear();
            w.traj[0].extend_from_slice(x);
            if self.algorithm == Algorithm::Reptile {
                // Reptile's direction: from the start toward the weights adapted on the whole task.
                let whole = DktLoss { layout: l, answers: &task.answers, scored: 0..task.answers.len() };
                descend_into(&whole, rates, self.steps, &mut w.traj, &mut w.g);
                let end = &w.traj[self.steps];
                if !end.iter().all(|v| v.is_finite()) {
                    return false;
                }
                g.iter_mut().zip(x).zip(end).for_each(|((g, a), b)| *g += a - b);
                return true;
            }
            let support = DktLoss { layout: l, answers: &task.answers, scored: 0..task.support };
            descend_into(&support, rates, self.steps, &mut w.traj, &mut w.g);
            w.q.resize(l.len(), 0.0);
            loss_and_gradient(l, &w.traj[self.steps], &task.answers, task.support..task.answers.len(), &mut w.q);
            let order = if self.algorithm == Algorithm::FoMaml { Order::First } else { Order::Second };
            unroll_into(&support, &w.traj, rates, order, &mut w.q, &mut w.rate_bar, &mut w.scratch);
            if !w.q.iter().chain(&w.rate_bar).all(|v| v.is_finite()) {
                return false;
            }
            g.iter_mut().zip(&w.q).for_each(|(g, q)| *g += q);
            g_rates.iter_mut().zip(&w.rate_bar).for_each(|(g, r)| *g += r);
            true
        })
    }
}

/// The buffers of one thread's task gradients, reused across tasks: each is as long as the
/// network's weights, and allocating them per task cost more than the arithmetic.
#[derive(Default)]
struct Workspace {
    traj: Vec<Vec<f64>>,
    g: Vec<f64>,
    q: Vec<f64>,
    rate_bar: Vec<f64>,
    scratch: [Vec<f64>; 3],
}

thread_local! {
    static WORK: std::cell::RefCell<Workspace> = std::cell::RefCell::default();
}

/// Training tasks: each learner with more than `k` answers, support the first `k`, query the
/// next [`E5_HORIZON`].
fn tasks_of(base: &Dkt, data: &Dataset, k: usize) -> Vec<DktTask> {
    data.learners()
        .filter_map(|rows| {
            let ep = episode(rows, k, E5_HORIZON)?;
            let support: Vec<Interaction<'_>> = data.interactions(ep.support).collect();
            let query: Vec<Interaction<'_>> = data.interactions(ep.query).collect();
            let mut answers = answers_of(base, &support);
            let n_support = answers.len();
            answers.extend(answers_of(base, &query));
            (answers.len() > n_support).then_some(DktTask { answers, support: n_support })
        })
        .collect()
}

impl MetaLearner for MetaDkt {
    type Learner<'a> = Dkt;

    fn adapt(&self, support: &[Interaction<'_>]) -> Adapted<Dkt> {
        let mut model = self.start.clone();
        let answers = answers_of(&self.start, support);
        let l = self.layout();
        if !answers.is_empty() && self.steps > 0 && l.fits(&model) {
            // In the model's own single precision: half the memory traffic of the training
            // loop's f64, and the adapted weights are f32 anyway.
            let mut psi = l.flatten_f32(&self.start);
            let mut g = vec![0.0f32; psi.len()];
            let rate = self.rate as f32;
            for _ in 0..self.steps {
                loss_and_gradient(l, &psi, &answers, 0..answers.len(), &mut g);
                if self.rates.len() == psi.len() {
                    psi.iter_mut().zip(&self.rates).zip(&g).for_each(|((x, a), g)| *x -= a * g);
                } else {
                    let from = if self.algorithm == Algorithm::Anil { l.head().start } else { 0 };
                    psi[from..].iter_mut().zip(&g[from..]).for_each(|(x, g)| *x -= rate * g);
                }
            }
            if psi.iter().all(|x| x.is_finite()) {
                l.write_f32(&psi, &mut model);
            }
        }
        let mut state = model.initial_state();
        for obs in support {
            model.update(&mut state, obs);
        }
        Adapted { model, state }
    }
}
