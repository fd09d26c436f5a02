//! Training AKT through the shared window loop ([`crate::training`]).

use attune_core::{Dataset, Probability, Progress};
use rand::rngs::StdRng;

use super::config::AktConfig;
use super::engine::{self, Params, Shape};
use super::model::Akt;
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

impl WindowModel for Akt {
    type Config = AktConfig;
    type Params = Params;
    const NAME: &'static str = "akt";

    fn schedule(c: &AktConfig) -> Schedule {
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

    fn init(c: &AktConfig, n_skills: usize, n_items: usize) -> Params {
        // Difficulties need the items even when the logit offsets are off.
        let shape = Shape {
            n_skills,
            n_items,
            d: c.embedding,
            heads: c.heads,
            ff: c.ff,
            fc: c.fc,
            window: c.window,
            rasch: c.rasch,
        };
        Params::init(&shape, c.seed)
    }

    fn window_loss_and_grad(
        c: &AktConfig,
        p: &Params,
        w: &Answers,
        total: f32,
        rng: &mut StdRng,
        grads: Option<&mut Params>,
    ) -> f32 {
        engine::window_loss_and_grad(p, w, total, c.l2 as f32, c.dropout as f32, rng, grads)
    }

    fn assemble(c: &AktConfig, params: Params, item_skill: Vec<u32>, base_rate: f64) -> Self {
        Akt { config: c.clone(), params, item_skill, base_rate, history: Vec::new(), skill_ids: Vec::new() }
    }

    fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        Akt::predict_dataset(self, data)
    }

    fn set_records(&mut self, history: Vec<EpochRecord>, skill_ids: Vec<String>) {
        (self.history, self.skill_ids) = (history, skill_ids);
    }
}

impl AktConfig {
    /// Trains AKT on `train`, stopping early on `valid` when given (otherwise running
    /// `max_epochs`), and returns the weights of the best epoch.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`], [`crate::Error::EmptyTrainingSet`], or
    /// [`crate::Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, valid: Option<&Dataset>, progress: &dyn Progress) -> Result<Akt> {
        self.validate()?;
        training::fit::<Akt>(self, train, valid, progress)
    }
}
