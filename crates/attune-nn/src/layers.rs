//! Building blocks the attention engines (SAKT, AKT) share: affine maps, layer norm and
//! dropout masks, each with its hand-written backward pass.

use rand::RngExt;
use rand::rngs::StdRng;

use crate::{kernels, linalg};

const LN_EPS: f32 = 1e-5;

/// Dropout masks (`0` or `1 / keep`), or none at prediction time.
pub(crate) struct Dropout<'a> {
    pub(crate) p: f32,
    pub(crate) rng: Option<&'a mut StdRng>,
}

impl Dropout<'_> {
    /// No dropout (prediction).
    pub(crate) fn off() -> Dropout<'static> {
        Dropout { p: 0.0, rng: None }
    }

    /// A fresh mask of `n` multipliers (all 1 when off).
    pub(crate) fn mask(&mut self, n: usize) -> Vec<f32> {
        match self.rng.as_deref_mut() {
            Some(rng) if self.p > 0.0 => {
                let keep = 1.0 - self.p;
                (0..n).map(|_| if rng.random::<f32>() < self.p { 0.0 } else { 1.0 / keep }).collect()
            }
            _ => vec![1.0; n],
        }
    }

    /// The same distribution as [`Dropout::mask`] from a stream seeded by one draw: a
    /// xoshiro generator and 32-bit thresholds, two per 64-bit draw, where ChaCha's `f32`
    /// per entry cost AKT a tenth of its training time on attention-weight masks. (SAKT and
    /// DKVMN keep `mask`, so their recorded runs reproduce.)
    pub(crate) fn fast_mask(&mut self, n: usize) -> Vec<f32> {
        use rand::SeedableRng;
        match self.rng.as_deref_mut() {
            Some(rng) if self.p > 0.0 => {
                let mut fast = rand::rngs::SmallRng::seed_from_u64(rng.random());
                let keep = 1.0 / (1.0 - self.p);
                // P(u32 < threshold) = p.
                let threshold = (f64::from(self.p) * 4_294_967_296.0) as u64;
                let mut out = Vec::with_capacity(n + 1);
                while out.len() < n {
                    let bits: u64 = fast.random();
                    for half in [bits & 0xFFFF_FFFF, bits >> 32] {
                        out.push(if half < threshold { 0.0 } else { keep });
                    }
                }
                out.truncate(n);
                out
            }
            _ => vec![1.0; n],
        }
    }
}

/// `out = x · W + b` for `rows` rows.
pub(crate) fn linear(x: &[f32], rows: usize, w: &[f32], b: &[f32], d_in: usize, d_out: usize) -> Vec<f32> {
    let mut out: Vec<f32> = (0..rows).flat_map(|_| b.iter().copied()).collect();
    linalg::gemm(rows, d_out, d_in, x, false, w, false, &mut out, 1.0);
    out
}

/// Gradients of `x · W + b`: `dW += xᵀ dy`, `db += Σ dy`, and `dx = dy · Wᵀ` added to `dx`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn linear_back(
    x: &[f32],
    dy: &[f32],
    w: &[f32],
    rows: usize,
    d_in: usize,
    d_out: usize,
    (dw, db): (&mut [f32], &mut [f32]),
    dx: Option<&mut [f32]>,
) {
    linalg::gemm(d_in, d_out, rows, x, true, dy, false, dw, 1.0);
    for row in dy.chunks_exact(d_out) {
        db.iter_mut().zip(row).for_each(|(a, g)| *a += g);
    }
    if let Some(dx) = dx {
        linalg::gemm(rows, d_in, d_out, dy, false, w, true, dx, 1.0);
    }
}

/// `row · W + b` for one row (the online paths).
pub(crate) fn affine(row: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = b.to_vec();
    kernels::add_vec_mat(row, w, &mut out);
    out
}

/// Layer norm over rows of `d`: returns `(y, x̂, 1/σ)`.
pub(crate) fn layer_norm(x: &[f32], d: usize, g: &[f32], b: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let rows = x.len() / d;
    let (mut y, mut xhat, mut rstd) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; rows]);
    for r in 0..rows {
        let row = &x[r * d..(r + 1) * d];
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let s = 1.0 / (var + LN_EPS).sqrt();
        rstd[r] = s;
        for j in 0..d {
            let xh = (row[j] - mean) * s;
            xhat[r * d + j] = xh;
            y[r * d + j] = g[j] * xh + b[j];
        }
    }
    (y, xhat, rstd)
}

/// Gradient of layer norm: accumulates `dg`, `db`, returns `dx`.
pub(crate) fn layer_norm_back(
    dy: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    g: &[f32],
    dg: &mut [f32],
    db: &mut [f32],
) -> Vec<f32> {
    let d = g.len();
    let mut dx = vec![0.0; dy.len()];
    for (r, &s) in rstd.iter().enumerate() {
        let (dyr, xr) = (&dy[r * d..(r + 1) * d], &xhat[r * d..(r + 1) * d]);
        let (mut mean_dxh, mut mean_dxh_xh) = (0.0, 0.0);
        for j in 0..d {
            dg[j] += dyr[j] * xr[j];
            db[j] += dyr[j];
            let dxh = dyr[j] * g[j];
            mean_dxh += dxh;
            mean_dxh_xh += dxh * xr[j];
        }
        mean_dxh /= d as f32;
        mean_dxh_xh /= d as f32;
        for j in 0..d {
            dx[r * d + j] = s * (dyr[j] * g[j] - mean_dxh - xr[j] * mean_dxh_xh);
        }
    }
    dx
}

/// Binary cross-entropy of logit `z` against `correct`: `(loss, dloss/dz)`.
pub(crate) fn bce_with_logit(z: f32, correct: bool) -> (f32, f32) {
    let y = f32::from(u8::from(correct));
    let softplus = attune_core::softplus_f32(z);
    (softplus - y * z, kernels::sigmoid(z) - y)
}

/// A residual ReLU feed-forward sublayer and its layer norm, `LN(y + drop(relu(y W₁ + c₁)) W₂ + c₂)`
/// with a second dropout on the branch; matrices `[d, ff]` and `[ff, d]`.
pub(crate) struct FeedForward<'a> {
    pub(crate) w_1: &'a [f32],
    pub(crate) c_1: &'a [f32],
    pub(crate) w_2: &'a [f32],
    pub(crate) c_2: &'a [f32],
    pub(crate) ln_g: &'a [f32],
    pub(crate) ln_b: &'a [f32],
}

/// The weights of a [`FeedForward`] sublayer, owned by the attention layer or block holding
/// it; flattened into the holder when saved, so saved models keep their field names.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FeedForwardWeights {
    pub(crate) w_1: Vec<f32>,
    pub(crate) c_1: Vec<f32>,
    pub(crate) w_2: Vec<f32>,
    pub(crate) c_2: Vec<f32>,
    pub(crate) ln2_g: Vec<f32>,
    pub(crate) ln2_b: Vec<f32>,
}

impl FeedForwardWeights {
    /// The sublayer over these weights.
    pub(crate) fn view(&self) -> FeedForward<'_> {
        let (w_1, c_1, w_2, c_2) = (&self.w_1[..], &self.c_1[..], &self.w_2[..], &self.c_2[..]);
        FeedForward { w_1, c_1, w_2, c_2, ln_g: &self.ln2_g, ln_b: &self.ln2_b }
    }

    /// These weights as a gradient accumulator.
    pub(crate) fn grads(&mut self) -> FeedForwardGrads<'_> {
        let (w_1, c_1, w_2, c_2) = (&mut self.w_1[..], &mut self.c_1[..], &mut self.w_2[..], &mut self.c_2[..]);
        FeedForwardGrads { w_1, c_1, w_2, c_2, ln_g: &mut self.ln2_g, ln_b: &mut self.ln2_b }
    }

    /// The tensors, in the holder's parameter order.
    pub(crate) fn tensors_mut(&mut self) -> [&mut Vec<f32>; 6] {
        [&mut self.w_1, &mut self.c_1, &mut self.w_2, &mut self.c_2, &mut self.ln2_g, &mut self.ln2_b]
    }
}

/// Gradients of a [`FeedForward`]'s weights, in the same order.
pub(crate) struct FeedForwardGrads<'a> {
    pub(crate) w_1: &'a mut [f32],
    pub(crate) c_1: &'a mut [f32],
    pub(crate) w_2: &'a mut [f32],
    pub(crate) c_2: &'a mut [f32],
    pub(crate) ln_g: &'a mut [f32],
    pub(crate) ln_b: &'a mut [f32],
}

/// What [`FeedForward::backward`] needs from the forward pass.
#[derive(Default)]
pub(crate) struct FeedForwardCache {
    h1: Vec<f32>,
    h_mask: Vec<f32>,
    f_mask: Vec<f32>,
    xhat: Vec<f32>,
    rstd: Vec<f32>,
}

impl FeedForward<'_> {
    /// Forward over `rows` rows of `y`, with dropout masks on the hidden units (`rows · ff`)
    /// and on the branch (`rows · d`) drawn by the caller.
    pub(crate) fn forward(&self, y: &[f32], (h_mask, f_mask): (Vec<f32>, Vec<f32>)) -> (Vec<f32>, FeedForwardCache) {
        let (d, ff) = (self.c_2.len(), self.c_1.len());
        let rows = y.len() / d;
        let h1 = linear(y, rows, self.w_1, self.c_1, d, ff);
        let hidden: Vec<f32> = h1.iter().zip(&h_mask).map(|(h, m)| h.max(0.0) * m).collect();
        let mut r2 = linear(&hidden, rows, self.w_2, self.c_2, ff, d);
        r2.iter_mut().zip(&f_mask).zip(y).for_each(|((r, m), y)| *r = y + *r * m);
        let (out, xhat, rstd) = layer_norm(&r2, d, self.ln_g, self.ln_b);
        (out, FeedForwardCache { h1, h_mask, f_mask, xhat, rstd })
    }

    /// Forward of one row without dropout (answer-by-answer prediction): vector–matrix
    /// products, where a matrix-product call would cost more than the work.
    pub(crate) fn row(&self, y: &[f32]) -> Vec<f32> {
        let mut hidden = affine(y, self.w_1, self.c_1);
        hidden.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut r2 = affine(&hidden, self.w_2, self.c_2);
        r2.iter_mut().zip(y).for_each(|(r, y)| *r += y);
        layer_norm(&r2, self.c_2.len(), self.ln_g, self.ln_b).0
    }

    /// Backward from `dout`: accumulates the weights' gradients into `g` and returns the
    /// gradient of the input `y`.
    pub(crate) fn backward(&self, g: FeedForwardGrads<'_>, c: &FeedForwardCache, y: &[f32], dout: &[f32]) -> Vec<f32> {
        let (d, ff) = (self.c_2.len(), self.c_1.len());
        let rows = dout.len() / d;
        let dr2 = layer_norm_back(dout, &c.xhat, &c.rstd, self.ln_g, g.ln_g, g.ln_b);
        let mut dy = dr2.clone();
        let df: Vec<f32> = dr2.iter().zip(&c.f_mask).map(|(d, m)| d * m).collect();
        let hidden: Vec<f32> = c.h1.iter().zip(&c.h_mask).map(|(h, m)| h.max(0.0) * m).collect();
        let mut dhidden = vec![0.0; rows * ff];
        linear_back(&hidden, &df, self.w_2, rows, ff, d, (g.w_2, g.c_2), Some(&mut dhidden));
        let dh1: Vec<f32> = dhidden
            .iter()
            .zip(c.h1.iter().zip(&c.h_mask))
            .map(|(dv, (h, m))| if *h > 0.0 { dv * m } else { 0.0 })
            .collect();
        linear_back(y, &dh1, self.w_1, rows, d, ff, (g.w_1, g.c_1), Some(&mut dy));
        dy
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// Both masks drop a fraction `p` of the entries and scale the rest by `1 / (1 − p)`.
    #[test]
    fn masks_drop_a_fraction_p() {
        let mut rng = StdRng::seed_from_u64(3);
        for p in [0.05f32, 0.2, 0.5] {
            let mut drop = Dropout { p, rng: Some(&mut rng) };
            for mask in [drop.mask(100_001), drop.fast_mask(100_001)] {
                assert_eq!(mask.len(), 100_001);
                let zeros = mask.iter().filter(|&&m| m == 0.0).count() as f32 / mask.len() as f32;
                assert!((zeros - p).abs() < 0.006, "p {p}: dropped {zeros}");
                assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / (1.0 - p)).abs() < 1e-6));
            }
        }
        assert!(Dropout::off().fast_mask(7).iter().all(|&m| m == 1.0));
    }
}
