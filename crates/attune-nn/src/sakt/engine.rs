//! SAKT's forward and backward passes written by hand over [`crate::linalg`] products, one
//! window at a time (no padding), checked against finite differences in the tests.
//!
//! Layout of one window of `L` answers: key `j` is the interaction before answer `j` (key 0 a
//! learned start token), so query `t` (the skill of answer `t`) attends to keys `0..=t` — the
//! start and every earlier answer — and every answer, the first included, gets a prediction.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub(super) use crate::layers::layer_norm;
use crate::layers::{
    Dropout, FeedForwardCache, FeedForwardWeights, bce_with_logit, layer_norm_back, linear, linear_back,
};
use crate::{kernels, linalg};

/// One attention block: multi-head attention of the queries over the keys, residual and layer
/// norm, a two-layer ReLU feed-forward net, residual and layer norm (pyKT's `Blocks`).
/// Matrices are row-major `[in, out]`, applied as `x · W + b`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Block {
    pub(crate) w_q: Vec<f32>,
    pub(crate) b_q: Vec<f32>,
    pub(crate) w_k: Vec<f32>,
    pub(crate) b_k: Vec<f32>,
    pub(crate) w_v: Vec<f32>,
    pub(crate) b_v: Vec<f32>,
    pub(crate) w_o: Vec<f32>,
    pub(crate) b_o: Vec<f32>,
    pub(crate) ln1_g: Vec<f32>,
    pub(crate) ln1_b: Vec<f32>,
    /// The feed-forward sublayer.
    #[serde(flatten)]
    pub(crate) ffn: FeedForwardWeights,
}

impl Block {
    fn tensors_mut(&mut self) -> [&mut Vec<f32>; 16] {
        let [w_1, c_1, w_2, c_2, ln2_g, ln2_b] = self.ffn.tensors_mut();
        [
            &mut self.w_q,
            &mut self.b_q,
            &mut self.w_k,
            &mut self.b_k,
            &mut self.w_v,
            &mut self.b_v,
            &mut self.w_o,
            &mut self.b_o,
            &mut self.ln1_g,
            &mut self.ln1_b,
            w_1,
            c_1,
            w_2,
            c_2,
            ln2_g,
            ln2_b,
        ]
    }
}

/// All trainable parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Params {
    pub(crate) d: usize,
    pub(crate) heads: usize,
    pub(crate) n_skills: usize,
    /// Interaction embeddings `[2 · n_skills + 1, d]` (`skill + n_skills · correct`; the last
    /// row is the start token).
    pub(crate) e_int: Vec<f32>,
    /// Skill (query) embeddings `[n_skills, d]`.
    pub(crate) e_ex: Vec<f32>,
    /// Position embeddings of the keys `[window, d]`.
    pub(crate) pos: Vec<f32>,
    pub(crate) blocks: Vec<Block>,
    /// Read-out `[d]` and its bias.
    pub(crate) w_p: Vec<f32>,
    pub(crate) b_p: Vec<f32>,
    /// Offset of each item's logit, or empty.
    pub(crate) b_item: Vec<f32>,
}

impl Params {
    /// PyTorch's defaults, as pyKT gets them: N(0, 1) embeddings, Xavier-uniform attention
    /// projections with zero biases, Linear layers uniform ±1/√in, layer norms at identity.
    pub(crate) fn init(
        n_skills: usize,
        n_items: usize,
        d: usize,
        heads: usize,
        blocks: usize,
        window: usize,
        seed: u64,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = |n: usize| (0..n).map(|_| kernels::normal(&mut rng)).collect::<Vec<f32>>();
        let (e_int, e_ex, pos) = (normal((2 * n_skills + 1) * d), normal(n_skills * d), normal(window * d));
        let mut uniform = |n: usize, k: f32| (0..n).map(|_| rng.random_range(-k..k)).collect::<Vec<f32>>();
        let xavier = (6.0 / (4 * d) as f32).sqrt();
        let lin = 1.0 / (d as f32).sqrt();
        let blocks = (0..blocks)
            .map(|_| Block {
                w_q: uniform(d * d, xavier),
                b_q: vec![0.0; d],
                w_k: uniform(d * d, xavier),
                b_k: vec![0.0; d],
                w_v: uniform(d * d, xavier),
                b_v: vec![0.0; d],
                w_o: uniform(d * d, lin),
                b_o: vec![0.0; d],
                ln1_g: vec![1.0; d],
                ln1_b: vec![0.0; d],
                ffn: FeedForwardWeights {
                    w_1: uniform(d * d, lin),
                    c_1: uniform(d, lin),
                    w_2: uniform(d * d, lin),
                    c_2: uniform(d, lin),
                    ln2_g: vec![1.0; d],
                    ln2_b: vec![0.0; d],
                },
            })
            .collect();
        let (w_p, b_p) = (uniform(d, lin), uniform(1, lin));
        Self { d, heads, n_skills, e_int, e_ex, pos, blocks, w_p, b_p, b_item: vec![0.0; n_items] }
    }

    /// Every tensor, in a fixed order (Adam's).
    pub(crate) fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut out: Vec<&mut Vec<f32>> = vec![&mut self.e_int, &mut self.e_ex, &mut self.pos];
        for b in &mut self.blocks {
            out.extend(b.tensors_mut());
        }
        out.extend([&mut self.w_p, &mut self.b_p, &mut self.b_item]);
        out
    }

    /// Longest window the position table covers.
    pub(crate) fn window(&self) -> usize {
        self.pos.len() / self.d.max(1)
    }
}

pub(crate) use crate::training::Answers;

/// What the backward pass of one block needs from its forward pass.
struct BlockCache {
    x: Vec<f32>,
    qp: Vec<f32>,
    kp: Vec<f32>,
    vp: Vec<f32>,
    /// Softmax weights per head `[heads, L, L]`, and their dropout mask.
    att: Vec<f32>,
    att_mask: Vec<f32>,
    o: Vec<f32>,
    m_mask: Vec<f32>,
    xhat1: Vec<f32>,
    rstd1: Vec<f32>,
    y1: Vec<f32>,
    ffn: FeedForwardCache,
}

/// One block forward: queries `q0` `[L, d]` over keys `x` `[L, d]`.
fn block_forward(p: &Block, heads: usize, q0: &[f32], x: Vec<f32>, drop: &mut Dropout<'_>) -> (Vec<f32>, BlockCache) {
    let d = p.b_q.len();
    let l = x.len() / d;
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let qp = linear(q0, l, &p.w_q, &p.b_q, d, d);
    let kp = linear(&x, l, &p.w_k, &p.b_k, d, d);
    let vp = linear(&x, l, &p.w_v, &p.b_v, d, d);
    let mut att = vec![0.0; heads * l * l];
    let att_mask = drop.mask(heads * l * l);
    let mut o = vec![0.0; l * d];
    let mut dropped = vec![0.0; l * l];
    for h in 0..heads {
        let s = &mut att[h * l * l..(h + 1) * l * l];
        linalg::gemm_ld(l, l, dh, (&qp[h * dh..], d, false), (&kp[h * dh..], d, true), (s, l), 0.0);
        // Causal softmax: query t sees keys 0..=t.
        for t in 0..l {
            let row = &mut s[t * l..(t + 1) * l];
            let max = row[..=t].iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v * scale));
            let mut sum = 0.0;
            for v in &mut row[..=t] {
                *v = kernels::exp(*v * scale - max);
                sum += *v;
            }
            row[..=t].iter_mut().for_each(|v| *v /= sum);
            row[t + 1..].fill(0.0);
        }
        let m = &att_mask[h * l * l..(h + 1) * l * l];
        dropped.iter_mut().zip(s.iter().zip(m)).for_each(|(a, (s, m))| *a = s * m);
        linalg::gemm_ld(l, dh, l, (&dropped, l, false), (&vp[h * dh..], d, false), (&mut o[h * dh..], d), 0.0);
    }
    let m_mask = drop.mask(l * d);
    let mut r1 = linear(&o, l, &p.w_o, &p.b_o, d, d);
    r1.iter_mut().zip(&m_mask).zip(q0).for_each(|((r, m), q)| *r = q + *r * m);
    let (y1, xhat1, rstd1) = layer_norm(&r1, d, &p.ln1_g, &p.ln1_b);
    let masks = (drop.mask(l * d), drop.mask(l * d));
    let (y2, ffn) = p.ffn.view().forward(&y1, masks);
    let cache = BlockCache { x, qp, kp, vp, att, att_mask, o, m_mask, xhat1, rstd1, y1, ffn };
    (y2, cache)
}

/// One block backward from `dy2`: accumulates the block's gradients, adds the queries'
/// gradient to `dq0`, returns the keys' gradient.
fn block_backward(
    p: &Block,
    g: &mut Block,
    heads: usize,
    c: &BlockCache,
    q0: &[f32],
    dy2: &[f32],
    dq0: &mut [f32],
) -> Vec<f32> {
    let d = p.b_q.len();
    let l = dy2.len() / d;
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let dy1 = p.ffn.view().backward(g.ffn.grads(), &c.ffn, &c.y1, dy2);
    let dr1 = layer_norm_back(&dy1, &c.xhat1, &c.rstd1, &p.ln1_g, &mut g.ln1_g, &mut g.ln1_b);
    dq0.iter_mut().zip(&dr1).for_each(|(a, b)| *a += b);
    let dm: Vec<f32> = dr1.iter().zip(&c.m_mask).map(|(d, m)| d * m).collect();
    let mut d_o = vec![0.0; l * d];
    linear_back(&c.o, &dm, &p.w_o, l, d, d, (&mut g.w_o, &mut g.b_o), Some(&mut d_o));
    let (mut dqp, mut dkp, mut dvp) = (vec![0.0; l * d], vec![0.0; l * d], vec![0.0; l * d]);
    let (mut dropped, mut da) = (vec![0.0; l * l], vec![0.0; l * l]);
    for h in 0..heads {
        let a = &c.att[h * l * l..(h + 1) * l * l];
        let m = &c.att_mask[h * l * l..(h + 1) * l * l];
        dropped.iter_mut().zip(a.iter().zip(m)).for_each(|(x, (a, m))| *x = a * m);
        // d(dropped weights) = dO_h · V_hᵀ; dV_h = dropped weightsᵀ · dO_h.
        linalg::gemm_ld(l, l, dh, (&d_o[h * dh..], d, false), (&c.vp[h * dh..], d, true), (&mut da, l), 0.0);
        linalg::gemm_ld(l, dh, l, (&dropped, l, true), (&d_o[h * dh..], d, false), (&mut dvp[h * dh..], d), 0.0);
        // Through dropout and the softmax: dS = A ⊙ (dA − Σ_j dA ⊙ A), times the scale.
        for t in 0..l {
            let (ar, mr) = (&a[t * l..(t + 1) * l], &m[t * l..(t + 1) * l]);
            let dr = &mut da[t * l..(t + 1) * l];
            let mut dot = 0.0;
            for j in 0..=t {
                dr[j] *= mr[j];
                dot += dr[j] * ar[j];
            }
            for j in 0..=t {
                dr[j] = ar[j] * (dr[j] - dot) * scale;
            }
            dr[t + 1..].fill(0.0);
        }
        linalg::gemm_ld(l, dh, l, (&da, l, false), (&c.kp[h * dh..], d, false), (&mut dqp[h * dh..], d), 0.0);
        linalg::gemm_ld(l, dh, l, (&da, l, true), (&c.qp[h * dh..], d, false), (&mut dkp[h * dh..], d), 0.0);
    }
    let mut dx = vec![0.0; l * d];
    linear_back(q0, &dqp, &p.w_q, l, d, d, (&mut g.w_q, &mut g.b_q), Some(dq0));
    linear_back(&c.x, &dkp, &p.w_k, l, d, d, (&mut g.w_k, &mut g.b_k), Some(&mut dx));
    linear_back(&c.x, &dvp, &p.w_v, l, d, d, (&mut g.w_v, &mut g.b_v), Some(&mut dx));
    dx
}

/// The interaction tokens of the keys: the start token, then each answer but the last.
fn key_tokens(p: &Params, w: &Answers) -> Vec<usize> {
    let n = p.n_skills;
    std::iter::once(2 * n)
        .chain(w.iter().take(w.len().saturating_sub(1)).map(|&(s, c, _)| s as usize + n * usize::from(c)))
        .collect()
}

/// The logit of every answer of window `w` (`w.len()` ≤ the position table), each from the
/// answers before it in the window; no dropout.
pub(crate) fn window_logits(p: &Params, w: &Answers) -> Vec<f32> {
    let mut logits = Vec::with_capacity(w.len());
    run_window(p, w, 1.0, &mut Dropout::off(), None, Some(&mut logits));
    logits
}

/// Loss of window `w` divided by `total`, and with `grads` its gradient added there.
pub(crate) fn window_loss_and_grad(
    p: &Params,
    w: &Answers,
    total: f32,
    dropout: f32,
    rng: &mut StdRng,
    grads: Option<&mut Params>,
) -> f32 {
    run_window(p, w, total, &mut Dropout { p: dropout, rng: Some(rng) }, grads, None)
}

fn run_window(
    p: &Params,
    w: &Answers,
    total: f32,
    drop: &mut Dropout<'_>,
    grads: Option<&mut Params>,
    logits_out: Option<&mut Vec<f32>>,
) -> f32 {
    let (d, l) = (p.d, w.len());
    if l == 0 {
        return 0.0;
    }
    let keys = key_tokens(p, w);
    let mut x = vec![0.0; l * d];
    let mut q0 = vec![0.0; l * d];
    for (j, &tok) in keys.iter().enumerate() {
        let row = &mut x[j * d..(j + 1) * d];
        let (e, pe) = (&p.e_int[tok * d..(tok + 1) * d], &p.pos[j * d..(j + 1) * d]);
        row.iter_mut().zip(e.iter().zip(pe)).for_each(|(r, (e, pe))| *r = e + pe);
        let s = w[j].0 as usize;
        q0[j * d..(j + 1) * d].copy_from_slice(&p.e_ex[s * d..(s + 1) * d]);
    }
    let mut caches = Vec::with_capacity(p.blocks.len());
    for block in &p.blocks {
        let (y, cache) = block_forward(block, p.heads, &q0, x, drop);
        caches.push(cache);
        x = y;
    }
    let out_mask = drop.mask(l * d);
    let mut loss = 0.0;
    let mut dz = vec![0.0; l];
    let mut logits = Vec::with_capacity(l);
    for (t, &(_, correct, item)) in w.iter().enumerate() {
        let (row, m) = (&x[t * d..(t + 1) * d], &out_mask[t * d..(t + 1) * d]);
        let z = p.b_p[0]
            + p.b_item.get(item as usize).copied().unwrap_or(0.0)
            + row.iter().zip(m).zip(&p.w_p).map(|((y, m), w)| y * m * w).sum::<f32>();
        logits.push(z);
        let (l, dl) = bce_with_logit(z, correct);
        loss += l;
        dz[t] = dl / total;
    }
    if let Some(out) = logits_out {
        *out = logits;
    }
    let Some(g) = grads else { return loss / total };
    let mut dy = vec![0.0; l * d];
    for (t, &(_, _, item)) in w.iter().enumerate() {
        let (row, m) = (&x[t * d..(t + 1) * d], &out_mask[t * d..(t + 1) * d]);
        g.b_p[0] += dz[t];
        if let Some(b) = g.b_item.get_mut(item as usize) {
            *b += dz[t];
        }
        for j in 0..d {
            g.w_p[j] += dz[t] * row[j] * m[j];
            dy[t * d + j] = dz[t] * p.w_p[j] * m[j];
        }
    }
    let mut dq0 = vec![0.0; l * d];
    for (k, cache) in caches.iter().enumerate().rev() {
        dy = block_backward(&p.blocks[k], &mut g.blocks[k], p.heads, cache, &q0, &dy, &mut dq0);
    }
    for (j, &tok) in keys.iter().enumerate() {
        let dx = &dy[j * d..(j + 1) * d];
        g.e_int[tok * d..(tok + 1) * d].iter_mut().zip(dx).for_each(|(a, b)| *a += b);
        g.pos[j * d..(j + 1) * d].iter_mut().zip(dx).for_each(|(a, b)| *a += b);
        let s = w[j].0 as usize;
        g.e_ex[s * d..(s + 1) * d].iter_mut().zip(&dq0[j * d..(j + 1) * d]).for_each(|(a, b)| *a += b);
    }
    loss / total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::Tensors;

    fn tiny() -> (Params, Vec<(u32, bool, u32)>) {
        let mut p = Params::init(3, 4, 8, 2, 2, 6, 5);
        // Non-trivial layer norms and item offsets, so their gradients are exercised.
        for (k, b) in p.blocks.iter_mut().enumerate() {
            b.ln1_g.iter_mut().enumerate().for_each(|(j, v)| *v = 1.0 + 0.1 * ((j + k) as f32).sin());
            b.ffn.ln2_b.iter_mut().enumerate().for_each(|(j, v)| *v = 0.05 * (j as f32).cos());
            b.b_q.iter_mut().enumerate().for_each(|(j, v)| *v = 0.02 * (j as f32 + 1.0).sin());
        }
        p.b_item = vec![0.1, -0.2, 0.3, 0.0];
        let w = vec![(0, true, 0), (2, false, 2), (1, true, 1), (0, false, 3), (2, true, 2), (1, false, 1)];
        (p, w)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (p, w) = tiny();
        let loss = |q: &Params, g: Option<&mut Params>| {
            window_loss_and_grad(q, &w, 1.0, 0.0, &mut StdRng::seed_from_u64(0), g)
        };
        // Small steps: a ReLU kink within ±eps of some unit would bias a wider one; the
        // tolerance covers f32 rounding of the loss (~1e-4 at this step).
        let non_zero = crate::training::check_gradients(&p, loss, 1e-3, 6e-4, 0.02);
        assert!(non_zero > p.clone().tensors_mut().len(), "too few non-zero gradients checked ({non_zero})");
    }

    /// No answer sees its own or a later answer: changing answer t leaves the logits of
    /// answers 0..=t unchanged.
    #[test]
    fn attention_is_causal() {
        let (p, w) = tiny();
        let base = window_logits(&p, &w);
        for t in 0..w.len() {
            let mut v = w.clone();
            v[t].1 = !v[t].1;
            let changed = window_logits(&p, &v);
            for s in 0..=t {
                assert!((base[s] - changed[s]).abs() < 1e-6, "answer {s} depends on answer {t}");
            }
            if t + 1 < w.len() {
                assert!((base[t + 1] - changed[t + 1]).abs() > 1e-6, "answer {} ignores answer {t}", t + 1);
            }
        }
    }

    #[test]
    fn two_threads_equal_one() {
        let (p, w) = tiny();
        let windows: Vec<&Answers> = vec![&w, &w[..4], &w[1..], &w[..2]];
        let mut g1 = p.zeros_like();
        let mut rng = StdRng::seed_from_u64(1);
        let mut l1 = 0.0;
        for x in &windows {
            l1 += window_loss_and_grad(&p, x, 10.0, 0.0, &mut rng, Some(&mut g1));
        }
        let mut g2 = p.zeros_like();
        let config = crate::SaktConfig { dropout: 0.0, ..crate::SaktConfig::default() };
        let mut rng = StdRng::seed_from_u64(1);
        let l2 = crate::training::batch_loss_and_grad::<crate::Sakt>(&config, &p, &windows, 10.0, &mut rng, &mut g2);
        assert!((l1 - l2).abs() < 1e-5);
        for (a, b) in g1.tensors_mut().into_iter().zip(g2.tensors_mut()) {
            a.iter().zip(b.iter()).for_each(|(x, y)| assert!((x - y).abs() < 1e-5));
        }
    }
}
