use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::bad;

/// Hyperparameters of DKT. Defaults follow pyKT's DKT on ASSIST2009 (embedding and hidden
/// size 200, dropout 0.1, Adam with learning rate 1e-3, batch 64, sequences cut into windows
/// of 200, early stopping with patience 10).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DktConfig {
    /// Size of the interaction embedding (default 200).
    pub embedding: usize,
    /// LSTM hidden size (default 200).
    pub hidden: usize,
    /// Dropout before the output layer while training (default 0.1).
    pub dropout: f64,
    /// Windows per minibatch (default 64).
    pub batch_size: usize,
    /// Longest training window; longer sequences are cut (default 200).
    pub window: usize,
    /// Adam learning rate (default 1e-3).
    pub learning_rate: f64,
    /// Most epochs (default 50).
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation AUC (default 10).
    pub patience: usize,
    /// Seed of initialisation, shuffling and dropout (default 42).
    pub seed: u64,
    /// How training runs (default [`Engine::Fused`]).
    pub engine: Engine,
    /// Fused engine: parametrise the gate table as `embedding · W_ih + b_ih` as pyKT does
    /// (default `true`), rather than as one free table.
    pub factorize: bool,
    /// Batch windows of similar lengths together (less padding for the burn engine) instead
    /// of shuffling them across the whole training set (default `false`).
    pub sort_by_length: bool,
    /// Fused engine: add a learned offset per item to its skill's logit (default `true`), so
    /// that items of one skill may differ in difficulty, as IRT's items do. Where items are
    /// skills (the DKVMN files), it duplicates the skill's bias and changes nothing.
    pub item_bias: bool,
}

/// The training implementation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Hand-written forward and backward passes over hand-called matrix products, the embedding
    /// folded into a per-token gate table (`embedding` is then unused): the fast path.
    #[default]
    Fused,
    /// The generic burn network (`DktNet`) with burn's autodiff: the reference. Needs
    /// attune-nn's `burn` feature; without it the configuration is refused.
    Burn,
}

impl Default for DktConfig {
    fn default() -> Self {
        Self {
            embedding: 200,
            hidden: 200,
            dropout: 0.1,
            batch_size: 64,
            window: 200,
            learning_rate: 1e-3,
            max_epochs: 50,
            patience: 10,
            seed: 42,
            engine: Engine::Fused,
            factorize: true,
            sort_by_length: false,
            item_bias: true,
        }
    }
}

impl DktConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        if self.embedding == 0 || self.embedding > 4096 {
            return bad("embedding", self.embedding.to_string(), "in 1..=4096");
        }
        if self.hidden == 0 || self.hidden > 4096 {
            return bad("hidden", self.hidden.to_string(), "in 1..=4096");
        }
        if self.engine == Engine::Burn && cfg!(not(feature = "burn")) {
            return bad("engine", "burn".to_owned(), "fused (this build has no burn: attune-nn's `burn` feature)");
        }
        crate::error::check_training(self.dropout, self.batch_size, self.window, self.learning_rate, self.max_epochs)
    }
}

/// Without the `burn` feature a configuration asking for the burn engine is an error naming
/// the field, not a panic at the first training step.
#[cfg(all(test, not(feature = "burn")))]
mod tests {
    use super::*;

    #[test]
    fn the_burn_engine_is_refused_without_the_feature() {
        let cfg = DktConfig { engine: Engine::Burn, ..DktConfig::default() };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("engine") && err.contains("burn"), "{err}");
        assert!(DktConfig::default().validate().is_ok());
    }
}
