//! BOBCAT's outer loop, shared by the response models whose parameters are one vector of
//! `f64` (BiIRT over the Rasch model and over the 2PL): each training learner takes a test
//! drawn by the model's own rule, the query loss's gradient flows through the inner loop to
//! the parameters (Adam) and, for the Approx rule, straight through the selections to the
//! selection network; the epoch with the best validation AUC is kept.

use attune_core::{Dataset, ItemId, Progress};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::bobcat::{BiPolicy, Trace, policy_test, step_policy, straight_through};
use crate::e4::{AdaptiveTester, E4Settings, run_e4};
use crate::irt_meta::MetaConfig;
use crate::outer::{Adam, keep_best};
use crate::policy::{Policy, PolicyAdam, PolicyGrad};
use crate::tasks::draw_seed;
use crate::{Error, Result};

/// Adam rate of the selection network.
const POLICY_RATE: f32 = 1e-3;

/// What the shared outer loop needs of a bilevel response model.
pub(crate) trait Bilevel: AdaptiveTester + Clone {
    /// The selection rule.
    fn policy(&self) -> BiPolicy;
    /// The test length it is trained for.
    fn length(&self) -> usize;
    /// The selection network of a learned rule.
    fn net(&self) -> Option<&Policy>;
    /// The same, to update.
    fn net_mut(&mut self) -> Option<&mut Policy>;
    /// An item's index in the parameters.
    fn item_index(&self, item: ItemId) -> u32;
    /// The parameters the outer loop moves, as one vector.
    fn pack(&self) -> Vec<f64>;
    /// Sets the parameters from [`Bilevel::pack`]'s layout.
    fn unpack(&mut self, x: &[f64]);
    /// Adds one test's query-loss gradient, laid out as [`Bilevel::pack`].
    fn accumulate(&self, t: &Trace, grad: &mut [f64]);
    /// The query loss's gradient in each pool answer's weight in the support.
    fn selection_gradient(&self, t: &Trace) -> Vec<f64>;
    /// Zeroes the gradient of what stays fixed (the inner rate unless `learn_rate`).
    fn hold(&self, grad: &mut [f64], learn_rate: bool);
    /// Records the validation AUC it was kept for.
    fn set_validation_auc(&mut self, auc: f64);
}

/// The query AUC of tests of `m`'s length on the validation learners (two draws).
pub(crate) fn validation_auc<M: Bilevel>(m: &M, valid: &Dataset, seed: u64) -> f64 {
    let n = m.length();
    let settings = E4Settings { steps: vec![n], draws: 2, seed, resamples: 0, ..E4Settings::default() };
    run_e4(m, valid, &settings).auc_at.get(&n).copied().unwrap_or(f64::NAN)
}

/// Trains every start `make(s, rate)` for `s < starts` and each inner rate of `cfg`, with the
/// rate held or learned, and keeps the model with the best validation AUC.
///
/// # Errors
/// [`Error::Cancelled`]; [`Error::TooFewLearners`] when nothing was trained.
pub(crate) fn best_of<M: Bilevel>(
    starts: usize,
    make: impl Fn(usize, f64) -> M,
    train: &Dataset,
    valid: &Dataset,
    cfg: &MetaConfig,
    progress: &dyn Progress,
) -> Result<M> {
    let mut best: Option<(f64, M)> = None;
    for s in 0..starts {
        for learn_rate in [false, true] {
            for &rate in &cfg.inner_rates {
                let (auc, m) = outer_loop(make(s, rate), train, valid, cfg, learn_rate, progress)?;
                if best.as_ref().is_none_or(|(b, _)| auc > *b) {
                    best = Some((auc, m));
                }
            }
        }
    }
    let (auc, mut m) = best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })?;
    m.set_validation_auc(auc);
    Ok(m)
}

/// The outer loop from `start`; returns the best validation AUC and its model.
fn outer_loop<M: Bilevel>(
    start: M,
    train: &Dataset,
    valid: &Dataset,
    cfg: &MetaConfig,
    learn_rate: bool,
    progress: &dyn Progress,
) -> Result<(f64, M)> {
    let (policy, n) = (start.policy(), start.length());
    let mut adam = Adam::new(start.pack().len(), cfg.outer_rate);
    let mut grad = vec![0.0; start.pack().len()];
    let learners: Vec<_> = train.learners().collect();
    let mut order: Vec<usize> = (0..learners.len()).collect();
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut net_opt = start.net().map(|p| (PolicyAdam::new(p, POLICY_RATE), PolicyGrad::zeros(p)));
    let first = validation_auc(&start, valid, cfg.seed);
    keep_best(start, first, cfg.max_epochs, cfg.patience, Some(progress), |m, epoch| {
        order.shuffle(&mut rng);
        for batch in order.chunks(cfg.meta_batch) {
            grad.fill(0.0);
            let mut rollouts = Vec::new();
            for &k in batch {
                let seed = draw_seed(cfg.seed, epoch + 1, k);
                let index = |i: ItemId| m.item_index(i);
                let rows = learners[k].clone();
                let trace = policy_test(&*m, m.net(), policy, train, rows, seed, index, &mut rollouts, n);
                m.accumulate(&trace, &mut grad);
                if let (Some(net), Some((_, g)), BiPolicy::Approx) = (m.net(), net_opt.as_mut(), policy) {
                    straight_through(net, &trace, &m.selection_gradient(&trace), g);
                }
            }
            step_policy(m.net_mut(), net_opt.as_mut(), policy, &rollouts, batch.len());
            let scale = 1.0 / batch.len() as f64;
            grad.iter_mut().for_each(|g| *g *= scale);
            m.hold(&mut grad, learn_rate);
            let mut x = m.pack();
            adam.step(&mut x, &grad);
            m.unpack(&x);
        }
        Ok(validation_auc(m, valid, cfg.seed))
    })
}
