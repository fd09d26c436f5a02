//! Training DKT: windows of at most `window` answers, minibatches of similar lengths, Adam,
//! early stopping on validation AUC.

use attune_core::{Cancelled, Dataset, Progress, metrics};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::config::{DktConfig, Engine};
use super::fused;
use super::model::Dkt;
use crate::batching::{Window, epoch_batches, item_offsets, item_skills, windows};
use crate::{Error, Result};

impl DktConfig {
    /// Trains DKT on `train`, stopping early on `valid` when given (otherwise running
    /// `max_epochs`), and returns the weights of the best epoch.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::EmptyTrainingSet`], or [`Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, valid: Option<&Dataset>, progress: &dyn Progress) -> Result<Dkt> {
        self.validate()?;
        let n_skills = train.vocab().n_skills();
        let ws = windows(train, n_skills, self.window);
        if ws.is_empty() || n_skills == 0 {
            return Err(Error::EmptyTrainingSet { model: "dkt" });
        }
        let mut engine = EngineState::new(self, n_skills, train.vocab().n_items());
        if let EngineState::Fused(state) = &mut engine
            && !state.params.b_item.is_empty()
        {
            state.params.b_item = item_offsets(train, n_skills);
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let n_batches = ws.len().div_ceil(self.batch_size);
        let (items, base) = (item_skills(train), train.correct_rate());
        let mut best: Option<(f64, Dkt)> = None;
        let mut since_best = 0;
        let answers: usize = ws.iter().map(Vec::len).sum();
        // Every answer weighs the same: the summed loss of a batch is divided by the answers of
        // an average batch, not by its own (which would weigh an answer in a batch of short
        // windows many times more than one in a batch of long ones).
        let denominator = answers as f32 / n_batches as f32;
        let started = std::time::Instant::now();
        let mut history = Vec::new();
        progress.start("training DKT (batches)", (n_batches * self.max_epochs) as u64);
        for epoch in 1..=self.max_epochs {
            let epoch_start = std::time::Instant::now();
            let mut loss_sum = 0.0;
            for batch in epoch_batches(&ws, self.batch_size, self.sort_by_length, &mut rng) {
                let refs: Vec<&Window> = batch.iter().map(|&i| &ws[i]).collect();
                loss_sum += engine.train_step(self, &refs, n_skills, denominator, &mut rng);
                if !progress.advance(1) {
                    return Err(Cancelled.into());
                }
            }
            let train_seconds = epoch_start.elapsed().as_secs_f64();
            let mut model = engine.model(self, items.clone(), base);
            let auc = valid.map_or(f64::NAN, |valid| {
                let p: Vec<f64> = model.predict_dataset(valid).iter().map(|p| p.get()).collect();
                metrics::auc(&p, valid.correct())
            });
            history.push(super::model::EpochRecord {
                epoch,
                train_loss: loss_sum / n_batches.max(1) as f64,
                valid_auc: auc,
                elapsed_seconds: started.elapsed().as_secs_f64(),
                interactions_per_second: answers as f64 / train_seconds.max(1e-9),
            });
            progress.start(&format!("DKT epoch {epoch}: valid AUC {auc:.4}"), (n_batches * self.max_epochs) as u64);
            progress.advance((epoch * n_batches) as u64);
            model.history.clone_from(&history);
            if valid.is_none() {
                best = Some((f64::NAN, model));
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| auc > *b) {
                best = Some((auc, model));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= self.patience {
                    break;
                }
            }
        }
        let mut model = best.map(|b| b.1).ok_or(Error::EmptyTrainingSet { model: "dkt" })?;
        model.history = history;
        let v = train.vocab();
        model.skill_ids = (0..n_skills).map(|k| v.skills.name(k as u32).unwrap_or("?").to_owned()).collect();
        Ok(model)
    }
}

/// The fused engine's parameters, gradient buffers and optimiser. With `factors`, the gate
/// table is `embedding · W_ih + b_ih` (pyKT's parametrisation) and Adam updates the factors.
struct FusedState {
    params: fused::Params,
    grads: fused::Params,
    factors: Option<(fused::Factors, [Vec<f32>; 3])>,
    adam: crate::optim::Adam,
}

/// The state of either training engine.
enum EngineState {
    Fused(Box<FusedState>),
    #[cfg(feature = "burn")]
    Burn(Box<super::burn_engine::BurnState>),
}

impl EngineState {
    fn new(cfg: &DktConfig, n_skills: usize, n_items: usize) -> Self {
        match cfg.engine {
            Engine::Fused => {
                let n_items = if cfg.item_bias { n_items } else { 0 };
                let mut params = fused::Params::init(n_skills, n_items, cfg.hidden, cfg.seed);
                let grads = params.zeros_like();
                let factors = cfg.factorize.then(|| {
                    let f = fused::Factors::init(2 * n_skills + 1, cfg.embedding, cfg.hidden, cfg.seed);
                    params.table = f.table();
                    let zeros = [vec![0.0; f.emb.len()], vec![0.0; f.w_ih.len()], vec![0.0; f.b_ih.len()]];
                    (f, zeros)
                });
                let sizes: Vec<usize> = match &factors {
                    Some((f, _)) => vec![
                        f.emb.len(),
                        f.w_ih.len(),
                        f.b_ih.len(),
                        params.w_hh.len(),
                        params.w_out.len(),
                        params.b_out.len(),
                        params.b_item.len(),
                    ],
                    None => params.clone().slices_mut().iter().map(|v| v.len()).collect(),
                };
                let adam = crate::optim::Adam::for_sizes(&sizes, cfg.learning_rate as f32);
                Self::Fused(Box::new(FusedState { params, grads, factors, adam }))
            }
            #[cfg(feature = "burn")]
            Engine::Burn => Self::Burn(Box::new(super::burn_engine::BurnState::new(cfg, n_skills))),
            #[cfg(not(feature = "burn"))]
            Engine::Burn => unreachable!("DktConfig::validate refuses the burn engine in builds without it"),
        }
    }

    /// One optimisation step on a minibatch; returns its loss.
    fn train_step(
        &mut self,
        cfg: &DktConfig,
        windows: &[&Window],
        n_skills: usize,
        denominator: f32,
        rng: &mut StdRng,
    ) -> f64 {
        match self {
            Self::Fused(state) => {
                let FusedState { params, grads, factors, adam } = state.as_mut();
                let b = fused_batch(windows, n_skills, denominator);
                let loss = fused::loss_and_grad(params, &b, cfg.dropout as f32, rng, Some(grads));
                match factors {
                    Some((f, [de, dw, db])) => {
                        f.pull_back(&grads.table, de, dw, db);
                        grads.table.fill(0.0);
                        adam.step(
                            &mut [
                                &mut f.emb,
                                &mut f.w_ih,
                                &mut f.b_ih,
                                &mut params.w_hh,
                                &mut params.w_out,
                                &mut params.b_out,
                                &mut params.b_item,
                            ],
                            &mut [de, dw, db, &mut grads.w_hh, &mut grads.w_out, &mut grads.b_out, &mut grads.b_item],
                        );
                        params.table = f.table();
                    }
                    None => adam.step(&mut params.slices_mut(), &mut grads.slices_mut()),
                }
                f64::from(loss)
            }
            #[cfg(feature = "burn")]
            Self::Burn(state) => state.train_step(cfg, windows),
        }
    }

    fn model(&self, cfg: &DktConfig, items: Vec<u32>, base: f64) -> Dkt {
        match self {
            Self::Fused(state) => Dkt::from_params(&state.params, cfg, items, base),
            #[cfg(feature = "burn")]
            Self::Burn(state) => Dkt::from_net(&state.net, cfg, state.n_skills, items, base),
        }
    }
}

pub(super) fn fused_batch(ws: &[&Window], n_skills: usize, denominator: f32) -> fused::Batch {
    let b = ws.len();
    let l = ws.iter().map(|w| w.len()).max().unwrap_or(1).max(1);
    let mut out = fused::Batch {
        b,
        l,
        tokens: vec![2 * n_skills; b * l],
        targets: vec![0; b * l],
        items: vec![0; b * l],
        labels: vec![0.0; b * l],
        mask: vec![0.0; b * l],
        denominator,
    };
    for (r, w) in ws.iter().enumerate() {
        for (t, &(s, c, item)) in w.iter().enumerate() {
            let k = r * l + t;
            out.items[k] = item as usize;
            out.tokens[k] = s as usize + n_skills * usize::from(c);
            out.targets[k] = s as usize;
            out.labels[k] = f32::from(u8::from(c));
            out.mask[k] = 1.0;
        }
    }
    out
}
