//! Building blocks the attention engines (SAKT, AKT) share: affine maps, layer norm and
//! dropout masks, each with its hand-written backward pass.

use rand::Rng;
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
    let softplus = if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() };
    (softplus - y * z, kernels::sigmoid(z) - y)
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
