//! DKT as a burn module: the generic, autodiff-able version (the reference for faster kernels
//! and the base learner meta-learners differentiate through).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};

use super::config::DktConfig;

/// Deep Knowledge Tracing (Piech et al., NeurIPS 2015): an LSTM over interaction embeddings
/// (`skill + n_skills · correct`), a linear read-out per skill. The LSTM gates are fused: the
/// input projection of every step is one matrix product, each step adds `h · W_hh`.
#[derive(Module, Debug)]
pub struct DktNet {
    /// Interaction embeddings; row `2 · n_skills` is padding.
    pub embedding: Embedding,
    /// Input-to-gates projection `[embedding, 4 · hidden]` (gates i, f, g, o), with bias.
    pub w_ih: Linear,
    /// Hidden-to-gates projection `[hidden, 4 · hidden]`, no bias.
    pub w_hh: Linear,
    /// Dropout before the read-out.
    pub dropout: Dropout,
    /// Read-out `[hidden, n_skills]`.
    pub output: Linear,
}

impl DktNet {
    /// A freshly initialised network for `n_skills` skills.
    pub fn new(cfg: &DktConfig, n_skills: usize, device: &Device) -> Self {
        let h = cfg.hidden;
        Self {
            embedding: EmbeddingConfig::new(2 * n_skills + 1, cfg.embedding).init(device),
            w_ih: LinearConfig::new(cfg.embedding, 4 * h).init(device),
            w_hh: LinearConfig::new(h, 4 * h).with_bias(false).init(device),
            dropout: DropoutConfig::new(cfg.dropout).init(),
            output: LinearConfig::new(h, n_skills).init(device),
        }
    }

    /// Logits of every answer of the batch, each predicted from the answers before it (the
    /// first from the initial state).
    ///
    /// # Shapes
    /// - `tokens`: `[batch, len]`, interaction tokens (`skill + n_skills · correct`)
    /// - `targets`: `[batch, len]`, the skill of each answer
    /// - output: `[batch, len]`
    pub fn forward(&self, tokens: Tensor<2, Int>, targets: Tensor<2, Int>) -> Tensor<2> {
        let [b, l] = tokens.dims();
        let device = tokens.device();
        let hidden = self.w_hh.weight.val().dims()[0];
        let projected = self.w_ih.forward(self.embedding.forward(tokens));
        let mut h: Tensor<2> = Tensor::zeros([b, hidden], &device);
        let mut c: Tensor<2> = Tensor::zeros([b, hidden], &device);
        let mut states = Vec::with_capacity(l);
        states.push(h.clone());
        for t in 0..l.saturating_sub(1) {
            let x_t: Tensor<2> = projected.clone().slice(s![.., t, ..]).squeeze_dim(1);
            let gates = x_t + self.w_hh.forward(h);
            let gate = |k: usize| gates.clone().slice(s![.., k * hidden..(k + 1) * hidden]);
            let (i, f, g, o) = (gate(0), gate(1), gate(2), gate(3));
            c = sigmoid(f) * c + sigmoid(i) * g.tanh();
            h = sigmoid(o) * c.clone().tanh();
            states.push(h.clone());
        }
        let states: Tensor<3> = Tensor::stack(states, 1);
        let out = self.output.forward(self.dropout.forward(states));
        let picked: Tensor<3> = out.gather(2, targets.unsqueeze_dim(2));
        picked.squeeze_dim(2)
    }
}

/// Mean binary cross-entropy of `logits` against `labels` over the positions where `mask` is 1.
///
/// # Shapes
/// all `[batch, len]`; output `[1]`
pub fn masked_bce(logits: Tensor<2>, labels: Tensor<2>, mask: Tensor<2>) -> Tensor<1> {
    let loss = ((labels.neg() + 1.0) * logits.clone() - log_sigmoid(logits)) * mask.clone();
    loss.sum() / mask.sum().clamp_min(1.0)
}
