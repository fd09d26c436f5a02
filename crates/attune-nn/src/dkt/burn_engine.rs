//! DKT trained through the generic burn network (`engine = "burn"`): the reference the fused
//! engine is checked against. Compiled only with the `burn` feature.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;

use super::config::DktConfig;
use super::net::{DktNet, masked_bce};
use crate::batching::Window;

struct Batch {
    tokens: Tensor<2, Int>,
    targets: Tensor<2, Int>,
    labels: Tensor<2>,
    mask: Tensor<2>,
}

fn batch(ws: &[&Window], n_skills: usize, device: &Device) -> Batch {
    let b = ws.len();
    let l = ws.iter().map(|w| w.len()).max().unwrap_or(1).max(1);
    let pad = (2 * n_skills) as i64;
    let (mut tok, mut tgt, mut y, mut m) = (vec![pad; b * l], vec![0i64; b * l], vec![0f32; b * l], vec![0f32; b * l]);
    for (r, w) in ws.iter().enumerate() {
        for (t, &(s, c, _)) in w.iter().enumerate() {
            let k = r * l + t;
            tok[k] = i64::from(s) + n_skills as i64 * i64::from(c);
            tgt[k] = i64::from(s);
            y[k] = f32::from(u8::from(c));
            m[k] = 1.0;
        }
    }
    let int = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [b * l]), device).reshape([b, l]);
    let float = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [b * l]), device).reshape([b, l]);
    Batch { tokens: int(tok), targets: int(tgt), labels: float(y), mask: float(m) }
}

/// The burn engine's network and optimiser.
pub(super) struct BurnState {
    device: Device,
    pub(super) net: DktNet,
    pub(super) n_skills: usize,
    optim: burn::optim::ModuleOptimizer,
}

impl BurnState {
    pub(super) fn new(cfg: &DktConfig, n_skills: usize) -> Self {
        let device = Device::flex().autodiff();
        device.seed(cfg.seed);
        let net = DktNet::new(cfg, n_skills, &device);
        Self { device, net, n_skills, optim: AdamConfig::new().init() }
    }

    /// One Adam step on a minibatch; returns its loss.
    pub(super) fn train_step(&mut self, cfg: &DktConfig, windows: &[&Window]) -> f64 {
        let n_skills = self.n_skills;
        let b = batch(windows, n_skills, &self.device);
        let loss = masked_bce(self.net.forward(b.tokens, b.targets), b.labels, b.mask);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &self.net);
        let taken = std::mem::replace(&mut self.net, DktNet::new(cfg, n_skills, &self.device));
        self.net = self.optim.step(cfg.learning_rate, taken, grads);
        value
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::super::fused;
    use super::super::model::Dkt;
    use super::super::train::fused_batch;
    use super::*;

    /// The fused engine computes the burn network's loss for the same weights.
    #[test]
    fn fused_loss_equals_the_burn_networks() {
        let device = Device::flex();
        device.seed(9);
        let cfg = DktConfig { embedding: 6, hidden: 5, dropout: 0.0, ..DktConfig::default() };
        let n = 3;
        let net = DktNet::new(&cfg, n, &device);
        let model = Dkt::from_net(&net, &cfg, n, vec![0, 1, 2], 0.5);
        let params = fused::Params::from_model(&model);
        let a: Window = vec![(0, true, 0), (2, false, 2), (1, true, 1), (0, false, 0), (2, true, 2)];
        let b: Window = vec![(1, false, 1), (1, true, 1), (0, true, 0)];
        let windows = [&a, &b];
        let burn_batch = batch(&windows, n, &device);
        let burn_loss =
            masked_bce(net.forward(burn_batch.tokens, burn_batch.targets), burn_batch.labels, burn_batch.mask)
                .into_scalar::<f32>();
        let fused_loss =
            fused::loss_and_grad(&params, &fused_batch(&windows, n, 0.0), 0.0, &mut StdRng::seed_from_u64(0), None);
        assert!((burn_loss - fused_loss).abs() < 1e-5, "burn {burn_loss} vs fused {fused_loss}");
    }
}
