//! Training DKVMN through the shared window loop ([`crate::training`]).

use attune_core::{Dataset, Probability, Progress};
use rand::rngs::StdRng;

use super::config::DkvmnConfig;
use super::engine::{self, Params};
use super::model::Dkvmn;
use crate::batching::item_offsets;
use crate::training::{self, Answers, Schedule};
use crate::{Error, Result};

struct DkvmnEngine<'a> {
    config: &'a DkvmnConfig,
    item_skill: Vec<u32>,
    base_rate: f64,
}

impl training::Engine for DkvmnEngine<'_> {
    type Params = Params;
    type Model = Dkvmn;

    fn tensors<'a>(&self, p: &'a mut Params) -> Vec<&'a mut Vec<f32>> {
        p.tensors_mut()
    }

    fn batch(&self, p: &Params, windows: &[&Answers], total: f32, rng: &mut StdRng, grads: &mut Params) -> f32 {
        engine::batch_loss_and_grad(p, windows, total, self.config.dropout as f32, rng, grads)
    }

    fn model(&self, p: &Params) -> Dkvmn {
        Dkvmn {
            config: self.config.clone(),
            params: p.clone(),
            item_skill: self.item_skill.clone(),
            base_rate: self.base_rate,
            history: Vec::new(),
            skill_ids: Vec::new(),
        }
    }

    fn predict(&self, model: &Dkvmn, data: &Dataset) -> Vec<Probability> {
        model.predict_dataset(data)
    }
}

impl DkvmnConfig {
    /// Trains DKVMN on `train`, stopping early on `valid` when given (otherwise running
    /// `max_epochs`), and returns the weights of the best epoch.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::EmptyTrainingSet`], or [`Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, valid: Option<&Dataset>, progress: &dyn Progress) -> Result<Dkvmn> {
        self.validate()?;
        let v = train.vocab();
        let n_skills = v.n_skills();
        if n_skills == 0 {
            return Err(Error::EmptyTrainingSet { model: "dkvmn" });
        }
        let n_items = if self.item_bias { v.n_items() } else { 0 };
        let mut params = Params::init(n_skills, n_items, self.embedding, self.slots, self.seed);
        if self.item_bias {
            params.b_item = item_offsets(train, n_skills);
        }
        let engine = DkvmnEngine {
            config: self,
            item_skill: v.item_skills.iter().map(|s| s.first().map_or(u32::MAX, |s| s.0)).collect(),
            base_rate: train.correct_rate(),
        };
        let schedule = Schedule {
            name: "dkvmn",
            batch_size: self.batch_size,
            window: self.window,
            learning_rate: self.learning_rate,
            max_epochs: self.max_epochs,
            patience: self.patience,
            seed: self.seed,
        };
        let (mut model, history) = training::fit(&schedule, &engine, params, train, valid, progress)?;
        model.history = history;
        model.skill_ids = (0..n_skills).map(|k| v.skills.name(k as u32).unwrap_or("?").to_owned()).collect();
        Ok(model)
    }
}
