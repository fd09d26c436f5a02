//! Training DKVMN through the shared window loop ([`crate::training`]).

use attune_core::{Dataset, Probability, Progress};
use rand::rngs::StdRng;

use super::config::DkvmnConfig;
use super::engine::{self, Params};
use super::model::Dkvmn;
use crate::training::{self, Answers, Schedule, Tensors, WindowModel};
use crate::{EpochRecord, Result};

impl Tensors for Params {
    fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        Params::tensors_mut(self)
    }

    fn item_bias_mut(&mut self) -> &mut Vec<f32> {
        &mut self.b_item
    }
}

impl WindowModel for Dkvmn {
    type Config = DkvmnConfig;
    type Params = Params;
    const NAME: &'static str = "dkvmn";

    fn schedule(c: &DkvmnConfig) -> Schedule {
        Schedule {
            batch_size: c.batch_size,
            window: c.window,
            learning_rate: c.learning_rate,
            max_epochs: c.max_epochs,
            patience: c.patience,
            seed: c.seed,
            item_bias: c.item_bias,
        }
    }

    fn init(c: &DkvmnConfig, n_skills: usize, n_items: usize) -> Params {
        Params::init(n_skills, n_items, c.embedding, c.slots, c.seed)
    }

    fn window_loss_and_grad(
        c: &DkvmnConfig,
        p: &Params,
        w: &Answers,
        total: f32,
        rng: &mut StdRng,
        grads: Option<&mut Params>,
    ) -> f32 {
        engine::window_loss_and_grad(p, w, total, c.dropout as f32, rng, grads)
    }

    fn assemble(c: &DkvmnConfig, params: Params, item_skill: Vec<u32>, base_rate: f64) -> Self {
        Dkvmn { config: c.clone(), params, item_skill, base_rate, history: Vec::new(), skill_ids: Vec::new() }
    }

    fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        Dkvmn::predict_dataset(self, data)
    }

    fn set_records(&mut self, history: Vec<EpochRecord>, skill_ids: Vec<String>) {
        (self.history, self.skill_ids) = (history, skill_ids);
    }
}

impl DkvmnConfig {
    /// Trains DKVMN on `train`, stopping early on `valid` when given (otherwise running
    /// `max_epochs`), and returns the weights of the best epoch.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`], [`crate::Error::EmptyTrainingSet`], or
    /// [`crate::Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, valid: Option<&Dataset>, progress: &dyn Progress) -> Result<Dkvmn> {
        self.validate()?;
        training::fit::<Dkvmn>(self, train, valid, progress)
    }
}
