use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::bad;

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
    /// [`crate::Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        if self.embedding == 0 || self.embedding > 4096 {
            return bad("embedding", self.embedding.to_string(), "in 1..=4096");
        }
        if self.slots == 0 || self.slots > 4096 {
            return bad("slots", self.slots.to_string(), "in 1..=4096");
        }
        crate::error::check_training(self.dropout, self.batch_size, self.window, self.learning_rate, self.max_epochs)
    }
}
