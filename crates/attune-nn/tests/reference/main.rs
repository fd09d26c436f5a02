//! The burn reference (attune-nn's `burn` feature): the plain-Rust DKT step against the burn
//! network, burn's gradients against finite differences, and MAML's second-order gradient
//! through nested burn autodiff. `cargo test -p attune-nn --features burn --test reference`.

#![allow(clippy::unwrap_used)]

mod second_order;

use attune_nn::{Dkt, DktConfig, DktNet, masked_bce};
use burn::module::Param;
use burn::prelude::*;

fn tiny() -> DktConfig {
    DktConfig { embedding: 6, hidden: 5, dropout: 0.0, ..DktConfig::default() }
}

fn sequence() -> Vec<(u32, bool)> {
    vec![(0, true), (2, false), (1, true), (0, false), (2, true), (1, true), (0, true)]
}

fn tensors(seq: &[(u32, bool)], n: usize, device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>, Tensor<2>) {
    let l = seq.len();
    let tok: Vec<i64> = seq.iter().map(|&(s, c)| i64::from(s) + n as i64 * i64::from(c)).collect();
    let tgt: Vec<i64> = seq.iter().map(|&(s, _)| i64::from(s)).collect();
    let y: Vec<f32> = seq.iter().map(|&(_, c)| f32::from(u8::from(c))).collect();
    (
        Tensor::<1, Int>::from_data(TensorData::new(tok, [l]), device).reshape([1, l]),
        Tensor::<1, Int>::from_data(TensorData::new(tgt, [l]), device).reshape([1, l]),
        Tensor::<1>::from_data(TensorData::new(y, [l]), device).reshape([1, l]),
    )
}

#[test]
fn the_plain_rust_step_matches_the_burn_network() {
    let device = Device::flex();
    device.seed(3);
    let (cfg, n) = (tiny(), 3);
    let net = DktNet::new(&cfg, n, &device);
    let seq = sequence();
    let (tok, tgt, _) = tensors(&seq, n, &device);
    let logits: Vec<f32> = net.forward(tok, tgt).into_data().try_into_vec::<f32>().unwrap();
    let model = Dkt::from_net(&net, &cfg, n, vec![0, 1, 2], 0.5);
    let mut state = attune_core::KnowledgeTracer::initial_state(&model);
    for (t, &(s, c)) in seq.iter().enumerate() {
        let p = attune_core::KnowledgeTracer::mastery(&model, &state, attune_core::SkillId(s)).unwrap().get();
        let want = 1.0 / (1.0 + (-f64::from(logits[t])).exp());
        assert!((p - want).abs() < 1e-5, "step {t}: {p} vs {want}");
        model.step(&mut state, s as usize + n * usize::from(c));
    }
}

#[test]
fn burn_gradients_match_finite_differences() {
    let device = Device::flex().autodiff();
    device.seed(4);
    let (cfg, n) = (tiny(), 3);
    let net = DktNet::new(&cfg, n, &device);
    let seq = sequence();
    let loss_of = |net: &DktNet| {
        let (tok, tgt, y) = tensors(&seq, n, &device);
        let mask = Tensor::<2>::ones([1, seq.len()], &device);
        masked_bce(net.forward(tok, tgt), y, mask)
    };
    let loss = loss_of(&net);
    let grads = loss.backward();
    let w = net.w_hh.weight.val();
    let analytic: Vec<f32> = w.grad(&grads).unwrap().into_data().try_into_vec::<f32>().unwrap();
    let base: Vec<f32> = w.clone().inner().into_data().try_into_vec::<f32>().unwrap();
    let dims = w.dims();
    // Central differences in f32 on a few entries of W_hh.
    for k in [0usize, 7, 13, 42, dims[0] * dims[1] - 1] {
        let eval = |delta: f32| {
            let mut v = base.clone();
            v[k] += delta;
            let mut perturbed = net.clone();
            perturbed.w_hh.weight = Param::from_tensor(
                Tensor::<1>::from_data(TensorData::new(v, [dims[0] * dims[1]]), &device).reshape(dims),
            );
            loss_of(&perturbed).into_scalar::<f32>()
        };
        let h = 1e-2;
        let fd = (eval(h) - eval(-h)) / (2.0 * h);
        assert!(
            (fd - analytic[k]).abs() < 2e-3 + 0.05 * fd.abs(),
            "entry {k}: analytic {} vs finite difference {fd}",
            analytic[k]
        );
    }
}
