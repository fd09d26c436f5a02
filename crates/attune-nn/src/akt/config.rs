use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::bad;

/// Hyperparameters of AKT. Defaults: the AKT paper's architecture (model width 256, 8 heads,
/// one block — knowledge encoder, question encoder, retriever — read-out 512 → 256, dropout
/// 0.05, `l2` 1e-5 on the difficulties, Rasch embeddings) with pyKT's feed-forward width 512
/// and the shared training settings (batch 64, windows of 200, patience 10), except
/// Adam's rate: 3e-4, chosen on validation (E3 `assist2009_pid`, fold 1, validation AUC:
/// 1e-3 0.8203, peaking at epoch 7; 3e-4 0.8250 at epoch 11; 1e-4 0.8257 at epoch 25).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AktConfig {
    /// Embedding and model width (default 256); a multiple of `heads`.
    pub embedding: usize,
    /// Attention heads (default 8).
    pub heads: usize,
    /// Width of the attention layers' feed-forward nets (default 512).
    pub ff: usize,
    /// Widths of the read-out's two hidden layers (default 512 and 256).
    pub fc: (usize, usize),
    /// Rasch embeddings: a learned difficulty per item scaling per-skill variations of the
    /// question and interaction embeddings (default `true`).
    pub rasch: bool,
    /// Weight of the squared difficulties in the loss, per answer (default 1e-5).
    pub l2: f64,
    /// Dropout on attention weights, residual branches and the read-out (default 0.05).
    pub dropout: f64,
    /// Windows per minibatch (default 64).
    pub batch_size: usize,
    /// Longest window attended over (default 200).
    pub window: usize,
    /// Adam learning rate (default 3e-4).
    pub learning_rate: f64,
    /// Most epochs (default 50).
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation AUC (default 10).
    pub patience: usize,
    /// Seed of initialisation, shuffling and dropout (default 42).
    pub seed: u64,
    /// A learned offset per item on the logit, started from the items' correct rates
    /// (default `true`), as the other neural models'.
    pub item_bias: bool,
}

impl Default for AktConfig {
    fn default() -> Self {
        Self {
            embedding: 256,
            heads: 8,
            ff: 512,
            fc: (512, 256),
            rasch: true,
            l2: 1e-5,
            dropout: 0.05,
            batch_size: 64,
            window: 200,
            learning_rate: 3e-4,
            max_epochs: 50,
            patience: 10,
            seed: 42,
            item_bias: true,
        }
    }
}

impl AktConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        if self.heads == 0 || self.embedding == 0 || self.embedding > 4096 || !self.embedding.is_multiple_of(self.heads)
        {
            return bad(
                "embedding/heads",
                format!("{}/{}", self.embedding, self.heads),
                "embedding in 1..=4096, a multiple of heads",
            );
        }
        let widths = [self.ff, self.fc.0, self.fc.1];
        if widths.iter().any(|w| !(1..=16_384).contains(w)) {
            return bad("ff/fc", format!("{}/{:?}", self.ff, self.fc), "each in 1..=16384");
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return bad("l2", self.l2.to_string(), "a non-negative number");
        }
        crate::error::check_training(self.dropout, self.batch_size, self.window, self.learning_rate, self.max_epochs)
    }
}
