//! The training loop of the window-at-a-time engines (SAKT, DKVMN): minibatches of windows
//! mixed across lengths, every answer weighing the same, Adam, validation AUC after every
//! epoch, early stopping, progress and cancellation.

use attune_core::{Cancelled, Dataset, Probability, Progress, metrics};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::batching::{epoch_batches, item_offsets, item_skills, windows};
use crate::optim::Adam;
use crate::{EpochRecord, Error, Result};

/// One window's answers `(skill, correct, item)`.
pub(crate) type Answers = [(u32, bool, u32)];

/// Parameters as a fixed list of tensors (Adam's order).
pub(crate) trait Tensors: Clone {
    fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>>;

    /// The per-item logit offsets (empty when the model has none).
    fn item_bias_mut(&mut self) -> &mut Vec<f32>;

    fn zeros_like(&self) -> Self {
        let mut z = self.clone();
        z.tensors_mut().into_iter().for_each(|t| t.fill(0.0));
        z
    }

    fn add(&mut self, other: &Self) {
        let mut other = other.clone();
        for (a, b) in self.tensors_mut().into_iter().zip(other.tensors_mut()) {
            a.iter_mut().zip(b.iter()).for_each(|(a, b)| *a += b);
        }
    }
}

/// A model trained window by window through [`fit`].
pub(crate) trait WindowModel: Sized {
    type Config: Clone;
    type Params: Tensors + Sync;
    /// What errors and progress call it.
    const NAME: &'static str;

    fn schedule(config: &Self::Config) -> Schedule;
    fn init(config: &Self::Config, n_skills: usize, n_items: usize) -> Self::Params;
    /// Loss of one window divided by `total`, with `grads` its gradient added there.
    fn window_loss_and_grad(
        config: &Self::Config,
        p: &Self::Params,
        w: &Answers,
        total: f32,
        rng: &mut StdRng,
        grads: Option<&mut Self::Params>,
    ) -> f32;
    fn assemble(config: &Self::Config, params: Self::Params, item_skill: Vec<u32>, base_rate: f64) -> Self;
    fn predict_dataset(&self, data: &Dataset) -> Vec<Probability>;
    fn set_records(&mut self, history: Vec<EpochRecord>, skill_ids: Vec<String>);
}

/// What the loop needs from a model's configuration.
pub(crate) struct Schedule {
    pub(crate) batch_size: usize,
    pub(crate) window: usize,
    pub(crate) learning_rate: f64,
    pub(crate) max_epochs: usize,
    pub(crate) patience: usize,
    pub(crate) seed: u64,
    pub(crate) item_bias: bool,
}

/// Loss of a minibatch divided by `total`, its gradient added to `grads`; windows dealt to two
/// threads.
pub(crate) fn batch_loss_and_grad<M: WindowModel>(
    config: &M::Config,
    p: &M::Params,
    windows: &[&Answers],
    total: f32,
    rng: &mut StdRng,
    grads: &mut M::Params,
) -> f32
where
    M::Config: Sync,
    M::Params: Send,
{
    crate::batching::deal_windows(
        windows,
        rng,
        grads,
        || p.zeros_like(),
        |w, rng, g| M::window_loss_and_grad(config, p, w, total, rng, Some(g)),
        |a, b| a.add(b),
    )
}

/// Trains `M` on `train`, stopping early on `valid` when given (otherwise running
/// `max_epochs`); returns the model of the best epoch with every epoch's record.
///
/// # Errors
/// [`Error::EmptyTrainingSet`] or [`Error::Cancelled`].
pub(crate) fn fit<M: WindowModel>(
    config: &M::Config,
    train: &Dataset,
    valid: Option<&Dataset>,
    progress: &dyn Progress,
) -> Result<M>
where
    M::Config: Sync,
    M::Params: Send,
{
    let s = M::schedule(config);
    let v = train.vocab();
    let n_skills = v.n_skills();
    let ws = windows(train, n_skills, s.window);
    if ws.is_empty() || n_skills == 0 {
        return Err(Error::EmptyTrainingSet { model: M::NAME });
    }
    let mut params = M::init(config, n_skills, v.n_items());
    *params.item_bias_mut() = if s.item_bias { item_offsets(train, n_skills) } else { Vec::new() };
    let item_skill = item_skills(train);
    let base_rate = train.correct_rate();
    let mut grads = params.zeros_like();
    let sizes: Vec<usize> = params.tensors_mut().iter().map(|t| t.len()).collect();
    let mut adam = Adam::for_sizes(&sizes, s.learning_rate as f32);
    let mut rng = StdRng::seed_from_u64(s.seed);
    let n_batches = ws.len().div_ceil(s.batch_size);
    let answers: usize = ws.iter().map(Vec::len).sum();
    // Every answer weighs the same: a batch's summed loss is divided by the answers of an
    // average batch, not by its own.
    let denominator = answers as f32 / n_batches as f32;
    let mut best: Option<(f64, M)> = None;
    let (mut since_best, mut history) = (0, Vec::new());
    let started = std::time::Instant::now();
    let total_steps = (n_batches * s.max_epochs) as u64;
    progress.start(&format!("training {} (batches)", M::NAME), total_steps);
    for epoch in 1..=s.max_epochs {
        let epoch_start = std::time::Instant::now();
        let mut loss_sum = 0.0;
        for batch in epoch_batches(&ws, s.batch_size, false, &mut rng) {
            let refs: Vec<&Answers> = batch.iter().map(|&i| ws[i].as_slice()).collect();
            loss_sum += f64::from(batch_loss_and_grad::<M>(config, &params, &refs, denominator, &mut rng, &mut grads));
            adam.step(&mut params.tensors_mut(), &mut grads.tensors_mut());
            if !progress.advance(1) {
                return Err(Cancelled.into());
            }
        }
        let train_seconds = epoch_start.elapsed().as_secs_f64();
        let model = M::assemble(config, params.clone(), item_skill.clone(), base_rate);
        let auc = valid.map_or(f64::NAN, |valid| {
            let p: Vec<f64> = model.predict_dataset(valid).iter().map(|p| p.get()).collect();
            metrics::auc(&p, valid.correct())
        });
        history.push(EpochRecord {
            epoch,
            train_loss: loss_sum / n_batches.max(1) as f64,
            valid_auc: auc,
            elapsed_seconds: started.elapsed().as_secs_f64(),
            interactions_per_second: answers as f64 / train_seconds.max(1e-9),
        });
        progress.start(&format!("{} epoch {epoch}: valid AUC {auc:.4}", M::NAME), total_steps);
        progress.advance((epoch * n_batches) as u64);
        if valid.is_none() || best.as_ref().is_none_or(|(b, _)| auc > *b) {
            best = Some((auc, model));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= s.patience {
                break;
            }
        }
    }
    let mut model = best.map(|b| b.1).ok_or(Error::EmptyTrainingSet { model: M::NAME })?;
    let skill_ids = (0..n_skills).map(|k| v.skills.name(k as u32).unwrap_or("?").to_owned()).collect();
    model.set_records(history, skill_ids);
    Ok(model)
}

/// Checks the gradient `loss` adds to its buffer against central finite differences at four
/// entries of every tensor (`|analytic − fd| < abs + rel·|fd|`); returns how many of the
/// checked entries were clearly non-zero, so a test can insist the check had teeth.
#[cfg(test)]
pub(crate) fn check_gradients<P: Tensors>(
    p: &P,
    loss: impl Fn(&P, Option<&mut P>) -> f32,
    eps: f32,
    abs: f64,
    rel: f64,
) -> usize {
    check_gradients_of(p, loss, eps, (abs, rel), |_| true)
}

/// [`check_gradients`] on the tensors (by index in Adam's order) that `checked` selects.
#[cfg(test)]
pub(crate) fn check_gradients_of<P: Tensors>(
    p: &P,
    loss: impl Fn(&P, Option<&mut P>) -> f32,
    eps: f32,
    (abs, rel): (f64, f64),
    checked: impl Fn(usize) -> bool,
) -> usize {
    let mut g = p.zeros_like();
    loss(p, Some(&mut g));
    let analytic: Vec<Vec<f32>> = g.tensors_mut().into_iter().map(|t| t.clone()).collect();
    let mut non_zero = 0;
    for (which, an) in analytic.iter().enumerate() {
        let len = an.len();
        if len == 0 || !checked(which) {
            continue;
        }
        for k in [0, len / 3, len / 2, len - 1] {
            let f = |delta: f32| {
                let mut q = p.clone();
                q.tensors_mut()[which][k] += delta;
                f64::from(loss(&q, None))
            };
            let fd = (f(eps) - f(-eps)) / (2.0 * f64::from(eps));
            let a = f64::from(an[k]);
            assert!(
                (fd - a).abs() < abs + rel * fd.abs(),
                "tensor {which}[{k}]: analytic {a} vs finite difference {fd}"
            );
            non_zero += usize::from(a.abs() > 1e-4);
        }
    }
    non_zero
}
