//! Training SAKT: windows of at most `window` answers, minibatches mixed across lengths, Adam,
//! early stopping on validation AUC.

use attune_core::{Cancelled, Dataset, Progress, metrics};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::config::SaktConfig;
use super::engine::{self, Answers, Params};
use super::model::Sakt;
use crate::batching::{epoch_batches, item_offsets, windows};
use crate::optim::Adam;
use crate::{EpochRecord, Error, Result};

impl SaktConfig {
    /// Trains SAKT on `train`, stopping early on `valid` when given (otherwise running
    /// `max_epochs`), and returns the weights of the best epoch.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::EmptyTrainingSet`], or [`Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, valid: Option<&Dataset>, progress: &dyn Progress) -> Result<Sakt> {
        self.validate()?;
        let n_skills = train.vocab().n_skills();
        let ws = windows(train, n_skills, self.window);
        if ws.is_empty() || n_skills == 0 {
            return Err(Error::EmptyTrainingSet { model: "sakt" });
        }
        let n_items = if self.item_bias { train.vocab().n_items() } else { 0 };
        let mut params =
            Params::init(n_skills, n_items, self.embedding, self.heads, self.blocks, self.window, self.seed);
        if self.item_bias {
            params.b_item = item_offsets(train, n_skills);
        }
        let mut grads = params.zeros_like();
        let sizes: Vec<usize> = params.tensors_mut().iter().map(|t| t.len()).collect();
        let mut adam = Adam::for_sizes(&sizes, self.learning_rate as f32);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let n_batches = ws.len().div_ceil(self.batch_size);
        let answers: usize = ws.iter().map(Vec::len).sum();
        // Every answer weighs the same (see DKT's training).
        let denominator = answers as f32 / n_batches as f32;
        let item_skill: Vec<u32> =
            train.vocab().item_skills.iter().map(|s| s.first().map_or(u32::MAX, |s| s.0)).collect();
        let model_of = |params: &Params| Sakt {
            config: self.clone(),
            params: params.clone(),
            item_skill: item_skill.clone(),
            base_rate: train.correct_rate(),
            history: Vec::new(),
            skill_ids: Vec::new(),
        };
        let (mut best, mut since_best, mut history): (Option<(f64, Sakt)>, usize, Vec<EpochRecord>) =
            (None, 0, Vec::new());
        let started = std::time::Instant::now();
        progress.start("training SAKT (batches)", (n_batches * self.max_epochs) as u64);
        for epoch in 1..=self.max_epochs {
            let epoch_start = std::time::Instant::now();
            let mut loss_sum = 0.0;
            for batch in epoch_batches(&ws, self.batch_size, false, &mut rng) {
                let refs: Vec<&Answers> = batch.iter().map(|&i| ws[i].as_slice()).collect();
                loss_sum += f64::from(engine::batch_loss_and_grad(
                    &params,
                    &refs,
                    denominator,
                    self.dropout as f32,
                    &mut rng,
                    &mut grads,
                ));
                adam.step(&mut params.tensors_mut(), &mut grads.tensors_mut());
                if !progress.advance(1) {
                    return Err(Cancelled.into());
                }
            }
            let train_seconds = epoch_start.elapsed().as_secs_f64();
            let model = model_of(&params);
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
            progress.start(&format!("SAKT epoch {epoch}: valid AUC {auc:.4}"), (n_batches * self.max_epochs) as u64);
            progress.advance((epoch * n_batches) as u64);
            if valid.is_none() || best.as_ref().is_none_or(|(b, _)| auc > *b) {
                best = Some((auc, model));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= self.patience {
                    break;
                }
            }
        }
        let mut model = best.map(|b| b.1).ok_or(Error::EmptyTrainingSet { model: "sakt" })?;
        model.history = history;
        let v = train.vocab();
        model.skill_ids = (0..n_skills).map(|k| v.skills.name(k as u32).unwrap_or("?").to_owned()).collect();
        Ok(model)
    }
}
