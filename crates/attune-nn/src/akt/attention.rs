//! AKT's monotonic attention layer (Ghosh et al. 2020, §3.3), forward and backward by hand.
//!
//! Queries and keys come from the same input through the same projection (AKT's `kq_same`),
//! so the scores of a head are `K_h K_hᵀ / √d_h`. Each score is scaled by a decay
//! `θ = exp(−softplus(γ_h) · dist)`, where `dist(i, j) = √((attention mass after j) · |i − j|)`
//! is computed from the undecayed softmax and, as in the reference code, treated as a
//! constant by the gradient. `θ` is clamped to `[1e-5, 1e5]`.

use rand::RngExt;
use rand::rngs::StdRng;

use crate::layers::{
    Dropout, FeedForwardCache, FeedForwardWeights, affine, layer_norm, layer_norm_back, linear, linear_back,
};
use crate::{kernels, linalg};

const THETA_MIN: f32 = 1e-5;

/// One attention layer: key/query and value projections, per-head decay rates, output
/// projection, residual and layer norm, and optionally (`w_1` not empty) a ReLU feed-forward
/// net with its own residual and layer norm. Matrices are row-major `[in, out]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Layer {
    pub(crate) w_k: Vec<f32>,
    pub(crate) b_k: Vec<f32>,
    pub(crate) w_v: Vec<f32>,
    pub(crate) b_v: Vec<f32>,
    pub(crate) w_o: Vec<f32>,
    pub(crate) b_o: Vec<f32>,
    /// Decay rate of each head before the softplus.
    pub(crate) gamma: Vec<f32>,
    pub(crate) ln1_g: Vec<f32>,
    pub(crate) ln1_b: Vec<f32>,
    /// The feed-forward sublayer (all empty when the layer has none).
    #[serde(flatten)]
    pub(crate) ffn: FeedForwardWeights,
}

impl Layer {
    /// PyTorch's initialisation as the AKT code sets it: Xavier-uniform key and value
    /// projections with zero biases, output projection uniform ±1/√d with a zero bias, decay
    /// rates Xavier-uniform over `[heads, 1, 1]`, Linear layers of the feed-forward net
    /// uniform ±1/√in, layer norms at identity. `ff == 0` leaves out the feed-forward net.
    pub(crate) fn init(d: usize, heads: usize, ff: usize, rng: &mut StdRng) -> Self {
        let mut uniform = |n: usize, k: f32| (0..n).map(|_| rng.random_range(-k..k)).collect::<Vec<f32>>();
        let xavier = (6.0 / (2 * d) as f32).sqrt();
        let lin = 1.0 / (d as f32).sqrt();
        let lin_ff = 1.0 / (ff.max(1) as f32).sqrt();
        let (w_k, w_v, w_o) = (uniform(d * d, xavier), uniform(d * d, xavier), uniform(d * d, lin));
        let gamma = uniform(heads, (6.0 / (1 + heads) as f32).sqrt());
        let (w_1, c_1, w_2, c_2) =
            (uniform(d * ff, lin), uniform(ff, lin), uniform(ff * d, lin_ff), uniform(d, lin_ff));
        let has_ff = ff > 0;
        let ones = |on: bool| if on { vec![1.0; d] } else { Vec::new() };
        let zeros = |on: bool| if on { vec![0.0; d] } else { Vec::new() };
        Self {
            w_k,
            b_k: vec![0.0; d],
            w_v,
            b_v: vec![0.0; d],
            w_o,
            b_o: vec![0.0; d],
            gamma,
            ln1_g: vec![1.0; d],
            ln1_b: vec![0.0; d],
            ffn: FeedForwardWeights {
                w_1,
                c_1,
                c_2: if has_ff { c_2 } else { Vec::new() },
                w_2,
                ln2_g: ones(has_ff),
                ln2_b: zeros(has_ff),
            },
        }
    }

    pub(crate) fn tensors_mut(&mut self) -> [&mut Vec<f32>; 15] {
        let [w_1, c_1, w_2, c_2, ln2_g, ln2_b] = self.ffn.tensors_mut();
        [
            &mut self.w_k,
            &mut self.b_k,
            &mut self.w_v,
            &mut self.b_v,
            &mut self.w_o,
            &mut self.b_o,
            &mut self.gamma,
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

    fn d(&self) -> usize {
        self.b_k.len()
    }

    fn ff(&self) -> usize {
        self.ffn.c_1.len()
    }

    /// `softplus(γ_h)` of every head.
    fn decays(&self) -> Vec<f32> {
        self.gamma.iter().map(|&g| attune_core::softplus_f32(g)).collect()
    }
}

/// Attention weights of one query row over its `n = s.len()` visible keys at positions
/// `0..n`, the query at position `i`: `s` holds the scaled scores; `a` receives the weights
/// and `dist` the distances. Written as passes without a running reduction, so each
/// vectorises.
pub(crate) fn monotonic_row(s: &[f32], i: usize, decay: f32, a: &mut [f32], dist: &mut [f32]) {
    let n = s.len();
    if n == 0 {
        return;
    }
    let (a, dist) = (&mut a[..n], &mut dist[..n]);
    let max = kernels::max_of(s);
    a.iter_mut().zip(s).for_each(|(a, &s)| *a = kernels::exp(s - max));
    let inv = 1.0 / kernels::sum_of(a);
    // The undecayed softmax mass after each key (a suffix sum) …
    let mut after = 0.0;
    for (d, &e) in dist.iter_mut().zip(a.iter()).rev() {
        *d = after;
        after += e * inv;
    }
    // … times its distance to the query, and the decayed scores.
    let i = i as f32;
    for (j, (d, (a, &s))) in dist.iter_mut().zip(a.iter_mut().zip(s)).enumerate() {
        *d = (*d * (i - j as f32)).max(0.0).sqrt();
        *a = s * kernels::exp(-decay * *d).max(THETA_MIN);
    }
    let max = kernels::max_of(a);
    a.iter_mut().for_each(|a| *a = kernels::exp(*a - max));
    let inv = 1.0 / kernels::sum_of(a);
    a.iter_mut().for_each(|a| *a *= inv);
}

/// Backward of [`monotonic_row`]: `da` (the weights' gradient, dropout already applied) is
/// turned into the gradient of the scaled scores in place; returns the gradient of the
/// decay rate before the softplus. `scratch` holds at least `s.len()` entries.
fn monotonic_row_back(
    (s, a, dist): (&[f32], &[f32], &[f32]),
    (decay, gamma): (f32, f32),
    da: &mut [f32],
    scratch: &mut [f32],
) -> f32 {
    let n = s.len();
    let (da, scratch) = (&mut da[..n], &mut scratch[..n]);
    let dot = kernels::dot(da, a);
    for (j, (d, g)) in da.iter_mut().zip(scratch.iter_mut()).enumerate() {
        let dz = a[j] * (*d - dot);
        let e = kernels::exp(-decay * dist[j]);
        let theta = e.max(THETA_MIN);
        // θ's gradient through γ, where the clamp does not hold it.
        *g = if e >= THETA_MIN { dz * s[j] * theta * dist[j] } else { 0.0 };
        *d = dz * theta;
    }
    -kernels::sigmoid(gamma) * kernels::sum_of(scratch)
}

/// How many keys query `i` sees: itself and those before it (`peek`), or only those before.
fn visible(i: usize, peek: bool) -> usize {
    if peek { i + 1 } else { i }
}

/// What the backward pass of one layer needs from its forward pass.
pub(crate) struct LayerCache {
    peek: bool,
    k: Vec<f32>,
    v: Vec<f32>,
    /// Per head `[L, L]`: scaled scores, weights, distances and the weights' dropout mask.
    s: Vec<f32>,
    att: Vec<f32>,
    dist: Vec<f32>,
    att_mask: Vec<f32>,
    o: Vec<f32>,
    m_mask: Vec<f32>,
    xhat1: Vec<f32>,
    rstd1: Vec<f32>,
    /// The feed-forward sublayer's input and cache, when the layer has one.
    ffn: Option<(Vec<f32>, FeedForwardCache)>,
}

/// One layer forward over a window of `L` rows: queries and keys from `x` `[L, d]`, values
/// from `values` (or `x`). Row 0 of a layer that does not `peek` sees no key: its attention
/// output is zero (the reference code's zero padding).
pub(crate) fn forward(
    p: &Layer,
    heads: usize,
    x: &[f32],
    values: Option<&[f32]>,
    peek: bool,
    drop: &mut Dropout<'_>,
) -> (Vec<f32>, LayerCache) {
    let d = p.d();
    let l = x.len() / d;
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let decays = p.decays();
    let k = linear(x, l, &p.w_k, &p.b_k, d, d);
    let v = linear(values.unwrap_or(x), l, &p.w_v, &p.b_v, d, d);
    let (mut s, mut att, mut dist) = (vec![0.0; heads * l * l], vec![0.0; heads * l * l], vec![0.0; heads * l * l]);
    let att_mask = drop.fast_mask(heads * l * l);
    let mut o = vec![0.0; l * d];
    let mut dropped = vec![0.0; l * l];
    for h in 0..heads {
        let range = h * l * l..(h + 1) * l * l;
        let (sh, ah, dist_h) = (&mut s[range.clone()], &mut att[range.clone()], &mut dist[range.clone()]);
        linalg::gemm_ld(l, l, dh, (&k[h * dh..], d, false), (&k[h * dh..], d, true), (sh, l), 0.0);
        for i in 0..l {
            let n = visible(i, peek);
            let row = i * l..i * l + n;
            sh[row.clone()].iter_mut().for_each(|v| *v *= scale);
            monotonic_row(&sh[row.clone()], i, decays[h], &mut ah[row.clone()], &mut dist_h[row]);
        }
        let m = &att_mask[range];
        dropped.iter_mut().zip(ah.iter().zip(m)).for_each(|(x, (a, m))| *x = a * m);
        linalg::gemm_ld(l, dh, l, (&dropped, l, false), (&v[h * dh..], d, false), (&mut o[h * dh..], d), 0.0);
    }
    let m_mask = drop.fast_mask(l * d);
    let mut r1 = linear(&o, l, &p.w_o, &p.b_o, d, d);
    r1.iter_mut().zip(&m_mask).zip(x).for_each(|((r, m), x)| *r = x + *r * m);
    let (y1, xhat1, rstd1) = layer_norm(&r1, d, &p.ln1_g, &p.ln1_b);
    let ff = p.ff();
    let mut cache = LayerCache { peek, k, v, s, att, dist, att_mask, o, m_mask, xhat1, rstd1, ffn: None };
    if ff == 0 {
        return (y1, cache);
    }
    let masks = (drop.fast_mask(l * ff), drop.fast_mask(l * d));
    let (y2, ffn) = p.ffn.view().forward(&y1, masks);
    cache.ffn = Some((y1, ffn));
    (y2, cache)
}

/// [`forward`] without dropout for a layer whose rows see themselves, returning its output,
/// keys and values: what answer-by-answer use caches, for a whole window in one pass.
pub(crate) fn encode(p: &Layer, heads: usize, x: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (y, c) = forward(p, heads, x, None, true, &mut Dropout::off());
    (y, c.k, c.v)
}

/// One layer backward from `dy`: accumulates the layer's gradients into `g`, adds the
/// gradient of `x` to `dx` and that of `values` to `dvalues` (or to `dx` when the values
/// were `x`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    p: &Layer,
    g: &mut Layer,
    heads: usize,
    c: &LayerCache,
    x: &[f32],
    values: Option<&[f32]>,
    dy: &[f32],
    dx: &mut [f32],
    dvalues: Option<&mut [f32]>,
) {
    let d = p.d();
    let l = dy.len() / d;
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let dy1 = match &c.ffn {
        Some((y1, ffn)) => p.ffn.view().backward(g.ffn.grads(), ffn, y1, dy),
        None => dy.to_vec(),
    };
    let dr1 = layer_norm_back(&dy1, &c.xhat1, &c.rstd1, &p.ln1_g, &mut g.ln1_g, &mut g.ln1_b);
    dx.iter_mut().zip(&dr1).for_each(|(a, b)| *a += b);
    let dm: Vec<f32> = dr1.iter().zip(&c.m_mask).map(|(d, m)| d * m).collect();
    let mut d_o = vec![0.0; l * d];
    linear_back(&c.o, &dm, &p.w_o, l, d, d, (&mut g.w_o, &mut g.b_o), Some(&mut d_o));
    let decays = p.decays();
    let (mut dk, mut dv) = (vec![0.0; l * d], vec![0.0; l * d]);
    let (mut dropped, mut da, mut scratch) = (vec![0.0; l * l], vec![0.0; l * l], vec![0.0; l]);
    for h in 0..heads {
        let range = h * l * l..(h + 1) * l * l;
        let (s, a, dist, m) = (&c.s[range.clone()], &c.att[range.clone()], &c.dist[range.clone()], &c.att_mask[range]);
        dropped.iter_mut().zip(a.iter().zip(m)).for_each(|(x, (a, m))| *x = a * m);
        linalg::gemm_ld(l, l, dh, (&d_o[h * dh..], d, false), (&c.v[h * dh..], d, true), (&mut da, l), 0.0);
        linalg::gemm_ld(l, dh, l, (&dropped, l, true), (&d_o[h * dh..], d, false), (&mut dv[h * dh..], d), 0.0);
        for i in 0..l {
            let n = visible(i, c.peek);
            let row = i * l..i * l + n;
            let dr = &mut da[i * l..(i + 1) * l];
            dr[..n].iter_mut().zip(&m[row.clone()]).for_each(|(d, m)| *d *= m);
            let cached = (&s[row.clone()], &a[row.clone()], &dist[row]);
            g.gamma[h] += monotonic_row_back(cached, (decays[h], p.gamma[h]), &mut dr[..n], &mut scratch);
            dr[..n].iter_mut().for_each(|v| *v *= scale);
            dr[n..].fill(0.0);
        }
        // Scores K Kᵀ: the key rows get dS·K and dSᵀ·K.
        linalg::gemm_ld(l, dh, l, (&da, l, false), (&c.k[h * dh..], d, false), (&mut dk[h * dh..], d), 0.0);
        linalg::gemm_ld(l, dh, l, (&da, l, true), (&c.k[h * dh..], d, false), (&mut dk[h * dh..], d), 1.0);
    }
    linear_back(x, &dk, &p.w_k, l, d, d, (&mut g.w_k, &mut g.b_k), Some(dx));
    match (values, dvalues) {
        (Some(vin), Some(dvin)) => linear_back(vin, &dv, &p.w_v, l, d, d, (&mut g.w_v, &mut g.b_v), Some(dvin)),
        _ => linear_back(x, &dv, &p.w_v, l, d, d, (&mut g.w_v, &mut g.b_v), Some(dx)),
    }
}

/// One query row of a layer for the online paths: `x` the row's input `[d]`, `q` its
/// projected key/query, attending from position `i` over the cached `keys`/`values`
/// (`[n, d]`, positions `0..n`) and, when the layer peeks, the row's own key and value
/// `own` at position `n`. Returns the layer's output row.
pub(crate) fn row(
    p: &Layer,
    heads: usize,
    x: &[f32],
    q: &[f32],
    (keys, values): (&[f32], &[f32]),
    own: Option<(&[f32], &[f32])>,
) -> Vec<f32> {
    let d = p.d();
    let cached = keys.len() / d;
    let n = cached + usize::from(own.is_some());
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let mut o = vec![0.0; d];
    let (mut s, mut a, mut dist) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    // Rows of the cache, then the query's own key and value where it sees itself.
    let key_rows = || keys.chunks_exact(d).chain(own.map(|o| o.0));
    let value_rows = || values.chunks_exact(d).chain(own.map(|o| o.1));
    for (h, &decay) in p.decays().iter().enumerate() {
        let cols = h * dh..(h + 1) * dh;
        let q_h = &q[cols.clone()];
        for (sj, k) in s.iter_mut().zip(key_rows()) {
            *sj = kernels::dot(q_h, &k[cols.clone()]) * scale;
        }
        monotonic_row(&s, cached, decay, &mut a, &mut dist);
        let o_h = &mut o[cols.clone()];
        for (&aj, v) in a.iter().zip(value_rows()) {
            o_h.iter_mut().zip(&v[cols.clone()]).for_each(|(o, v)| *o += aj * v);
        }
    }
    let mut r1 = affine(&o, &p.w_o, &p.b_o);
    r1.iter_mut().zip(x).for_each(|(r, x)| *r += x);
    let (y1, _, _) = layer_norm(&r1, d, &p.ln1_g, &p.ln1_b);
    if p.ff() == 0 {
        return y1;
    }
    p.ffn.view().row(&y1)
}
