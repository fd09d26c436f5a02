//! The training loop of the window-at-a-time engines (SAKT, DKVMN): minibatches of windows
//! mixed across lengths, every answer weighing the same, Adam, validation AUC after every
//! epoch, early stopping, progress and cancellation.

use attune_core::{Cancelled, Dataset, Probability, Progress, metrics};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::batching::{epoch_batches, windows};
use crate::optim::Adam;
use crate::{EpochRecord, Error, Result};

/// One window's answers `(skill, correct, item)`.
pub(crate) type Answers = [(u32, bool, u32)];

/// What the loop needs from a model's configuration.
pub(crate) struct Schedule {
    pub(crate) name: &'static str,
    pub(crate) batch_size: usize,
    pub(crate) window: usize,
    pub(crate) learning_rate: f64,
    pub(crate) max_epochs: usize,
    pub(crate) patience: usize,
    pub(crate) seed: u64,
}

/// How one engine is trained: its parameters' tensors (in Adam's order), one minibatch's loss
/// (divided by the given total) with its gradient added to the buffer, a fitted model from
/// parameters, and that model's predictions of a dataset.
pub(crate) trait Engine {
    type Params: Clone;
    type Model;
    fn tensors<'a>(&self, p: &'a mut Self::Params) -> Vec<&'a mut Vec<f32>>;
    fn batch(
        &self,
        p: &Self::Params,
        windows: &[&Answers],
        total: f32,
        rng: &mut StdRng,
        grads: &mut Self::Params,
    ) -> f32;
    fn model(&self, p: &Self::Params) -> Self::Model;
    fn predict(&self, model: &Self::Model, data: &Dataset) -> Vec<Probability>;
}

/// Trains from `params` on `train`, stopping early on `valid` when given (otherwise running
/// `max_epochs`); returns the model of the best epoch and every epoch's record.
///
/// # Errors
/// [`Error::EmptyTrainingSet`] or [`Error::Cancelled`].
pub(crate) fn fit<E: Engine>(
    s: &Schedule,
    engine: &E,
    mut params: E::Params,
    train: &Dataset,
    valid: Option<&Dataset>,
    progress: &dyn Progress,
) -> Result<(E::Model, Vec<EpochRecord>)> {
    let ws = windows(train, train.vocab().n_skills(), s.window);
    if ws.is_empty() {
        return Err(Error::EmptyTrainingSet { model: s.name });
    }
    let mut grads = params.clone();
    engine.tensors(&mut grads).into_iter().for_each(|t| t.fill(0.0));
    let sizes: Vec<usize> = engine.tensors(&mut params).iter().map(|t| t.len()).collect();
    let mut adam = Adam::for_sizes(&sizes, s.learning_rate as f32);
    let mut rng = StdRng::seed_from_u64(s.seed);
    let n_batches = ws.len().div_ceil(s.batch_size);
    let answers: usize = ws.iter().map(Vec::len).sum();
    // Every answer weighs the same: a batch's summed loss is divided by the answers of an
    // average batch, not by its own.
    let denominator = answers as f32 / n_batches as f32;
    let mut best: Option<(f64, E::Model)> = None;
    let (mut since_best, mut history) = (0, Vec::new());
    let started = std::time::Instant::now();
    let total_steps = (n_batches * s.max_epochs) as u64;
    progress.start(&format!("training {} (batches)", s.name), total_steps);
    for epoch in 1..=s.max_epochs {
        let epoch_start = std::time::Instant::now();
        let mut loss_sum = 0.0;
        for batch in epoch_batches(&ws, s.batch_size, false, &mut rng) {
            let refs: Vec<&Answers> = batch.iter().map(|&i| ws[i].as_slice()).collect();
            loss_sum += f64::from(engine.batch(&params, &refs, denominator, &mut rng, &mut grads));
            adam.step(&mut engine.tensors(&mut params), &mut engine.tensors(&mut grads));
            if !progress.advance(1) {
                return Err(Cancelled.into());
            }
        }
        let train_seconds = epoch_start.elapsed().as_secs_f64();
        let model = engine.model(&params);
        let auc = valid.map_or(f64::NAN, |valid| {
            let p: Vec<f64> = engine.predict(&model, valid).iter().map(|p| p.get()).collect();
            metrics::auc(&p, valid.correct())
        });
        history.push(EpochRecord {
            epoch,
            train_loss: loss_sum / n_batches.max(1) as f64,
            valid_auc: auc,
            elapsed_seconds: started.elapsed().as_secs_f64(),
            interactions_per_second: answers as f64 / train_seconds.max(1e-9),
        });
        progress.start(&format!("{} epoch {epoch}: valid AUC {auc:.4}", s.name), total_steps);
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
    let model = best.map(|b| b.1).ok_or(Error::EmptyTrainingSet { model: s.name })?;
    Ok((model, history))
}
