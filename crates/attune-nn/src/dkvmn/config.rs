use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Hyperparameters of DKVMN. Defaults: memory width 200 and dropout 0.2 as pyKT's, 20 slots
/// as the DKVMN paper's ASSIST2009 model, batch 64, windows of 200, patience 10, and Adam at
/// 3e-3: at 1e-3 the validation AUC was still rising at epoch 50. Chosen on E1 ASSIST2009's
/// validation split among four runs (BENCHMARKS.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DkvmnConfig {
    /// Width of keys, values and memory rows (default 200).
    pub embedding: usize,
    /// Memory slots (default 20).
    pub slots: usize,
    /// Dropout on the read-out's input (default 0.2).
    pub dropout: f64,
    /// Windows per minibatch (default 64).
    pub batch_size: usize,
    /// Longest training window (default 200).
    pub window: usize,
    /// Adam learning rate (default 3e-3).
    pub learning_rate: f64,
    /// Most epochs (default 50).
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation AUC (default 10).
    pub patience: usize,
    /// Seed of initialisation, shuffling and dropout (default 42).
    pub seed: u64,
    /// A learned offset per item on the logit, started from the items' correct rates
    /// (default `true`), as DKT's.
    pub item_bias: bool,
}

impl Default for DkvmnConfig {
    fn default() -> Self {
        Self {
            embedding: 200,
            slots: 20,
            dropout: 0.2,
            batch_size: 64,
            window: 200,
            learning_rate: 3e-3,
            max_epochs: 50,
            patience: 10,
            seed: 42,
            item_bias: true,
        }
    }
}

impl DkvmnConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |param: &'static str, value: String, reason: &'static str| {
            Err(Error::InvalidConfig { param, value, reason })
        };
        if self.embedding == 0 || self.embedding > 4096 {
            return bad("embedding", self.embedding.to_string(), "in 1..=4096");
        }
        if self.slots == 0 || self.slots > 4096 {
            return bad("slots", self.slots.to_string(), "in 1..=4096");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout", self.dropout.to_string(), "in [0, 1)");
        }
        if self.batch_size == 0 || self.window < 2 {
            return bad("batch_size/window", format!("{}/{}", self.batch_size, self.window), "batch >= 1, window >= 2");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", self.learning_rate.to_string(), "a positive number");
        }
        if self.max_epochs == 0 {
            return bad("max_epochs", "0".into(), "at least 1");
        }
        Ok(())
    }
}
