//! L2-regularised logistic regression over sparse rows, with an analytic gradient evaluated
//! in parallel over row chunks.

pub(crate) use attune_core::sigmoid;
use rayon::prelude::*;

/// Sparse rows (CSR) with labels.
#[derive(Debug, Default)]
pub(crate) struct Design {
    pub(crate) indptr: Vec<usize>,
    pub(crate) idx: Vec<u32>,
    pub(crate) val: Vec<f64>,
    pub(crate) y: Vec<bool>,
}

impl Design {
    pub(crate) fn new() -> Self {
        Self { indptr: vec![0], ..Self::default() }
    }

    pub(crate) fn push_row(&mut self, features: &[(u32, f64)], y: bool) {
        for &(j, v) in features {
            self.idx.push(j);
            self.val.push(v);
        }
        self.indptr.push(self.idx.len());
        self.y.push(y);
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.y.len()
    }

    /// Divides each column that holds values other than 0 and 1 by its root mean square, so
    /// that raw counts (up to hundreds) do not make the problem ill-conditioned for the
    /// Newton–CG solver.
    /// Returns the scales (1 for indicator columns); the weights of the original columns are
    /// the fitted ones divided by them. (Measured: scaling the indicator columns too, by their
    /// curvature, makes Best-LR on ASSIST2009 converge more slowly, not faster.)
    pub(crate) fn standardize(&mut self, n_features: usize) -> Vec<f64> {
        let mut sq = vec![0.0; n_features];
        let mut indicator = vec![true; n_features];
        for (&j, &v) in self.idx.iter().zip(&self.val) {
            sq[j as usize] += v * v;
            indicator[j as usize] &= v == 0.0 || v == 1.0;
        }
        let n = self.n_rows().max(1) as f64;
        let scales: Vec<f64> =
            sq.iter().zip(&indicator).map(|(&s, &ind)| if ind || s == 0.0 { 1.0 } else { (s / n).sqrt() }).collect();
        for (&j, v) in self.idx.iter().zip(self.val.iter_mut()) {
            *v /= scales[j as usize];
        }
        scales
    }
}

/// Negative log-likelihood of the rows plus `l2/2 * |w / scales|^2` over all weights but the
/// last (the bias), so that the penalty applies to the weights of the unscaled columns (see
/// [`Design::standardize`]); writes the gradient into `grad`. The fits minimise it by
/// Newton–CG (`crate::newton`); this direct form is the reference the tests check against.
#[cfg(test)]
pub(crate) fn objective(d: &Design, w: &[f64], l2: f64, scales: &[f64], grad: &mut [f64]) -> f64 {
    let bias = w.len() - 1;
    let loss = parallel_gradient(d.n_rows(), grad, |rows, g| {
        let mut loss = 0.0;
        for r in rows {
            let span = d.indptr[r]..d.indptr[r + 1];
            let z = w[bias] + span.clone().map(|k| w[d.idx[k] as usize] * d.val[k]).sum::<f64>();
            let (l, resid) = loss_and_residual(z, d.y[r]);
            loss += l;
            g[bias] += resid;
            for k in span {
                g[d.idx[k] as usize] += resid * d.val[k];
            }
        }
        loss
    });
    let mut reg = 0.0;
    for j in 0..bias {
        let inv = 1.0 / scales[j];
        reg += (w[j] * inv).powi(2);
        grad[j] += l2 * w[j] * inv * inv;
    }
    loss + 0.5 * l2 * reg
}

/// Rows are cut into at most this many chunks, sized by the row count alone: enough work for
/// the cores, few per-chunk vectors to add up, and the same additions in the same order on any
/// number of threads, so that a fit gives the same weights everywhere.
const CHUNKS: usize = 8;

/// Sums a loss and its gradient over `n_rows` rows, in parallel chunks: `f(rows, g)` adds the
/// gradient of `rows` into the zeroed `g` and returns their loss. `grad` receives the total,
/// the chunks added in order (deterministic).
pub(crate) fn parallel_gradient(
    n_rows: usize,
    grad: &mut [f64],
    f: impl Fn(std::ops::Range<usize>, &mut [f64]) -> f64 + Sync,
) -> f64 {
    let n_params = grad.len();
    let chunk = n_rows.div_ceil(CHUNKS).max(1024);
    let parts: Vec<(f64, Vec<f64>)> = (0..n_rows.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut g = vec![0.0; n_params];
            let loss = f(c * chunk..((c + 1) * chunk).min(n_rows), &mut g);
            (loss, g)
        })
        .collect();
    grad.fill(0.0);
    let mut loss = 0.0;
    for (l, g) in parts {
        loss += l;
        grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
    }
    loss
}

/// `-log p(y | z)` and its derivative in `z`, computed stably.
#[inline]
pub(crate) fn loss_and_residual(z: f64, y: bool) -> (f64, f64) {
    // log(1 + e^z) without overflow.
    let softplus = attune_core::softplus(z);
    let p = sigmoid(z);
    if y { (softplus - z, p - 1.0) } else { (softplus, p) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::check_gradient;

    #[test]
    fn gradient_matches_finite_differences() {
        let mut d = Design::new();
        d.push_row(&[(0, 1.0), (2, 0.5)], true);
        d.push_row(&[(1, 1.0), (2, 2.0)], false);
        d.push_row(&[(0, 1.0), (1, 1.0)], true);
        d.push_row(&[], false);
        let w = [0.3, -0.7, 0.2, 0.1];
        check_gradient(|w, g| objective(&d, w, 0.5, &[1.0, 2.0, 0.5], g), &w, 1e-6);
    }

    #[test]
    fn standardizing_keeps_indicators_and_scales_counts() {
        let mut d = Design::new();
        d.push_row(&[(0, 1.0), (1, 3.0)], true);
        d.push_row(&[(0, 1.0), (1, 4.0)], false);
        let s = d.standardize(2);
        assert_eq!(s[0], 1.0);
        assert!((s[1] - 12.5f64.sqrt()).abs() < 1e-12);
        assert!((d.val[1] * s[1] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn loss_is_finite_for_extreme_logits() {
        for z in [-800.0, -40.0, 0.0, 40.0, 800.0] {
            for y in [true, false] {
                let (l, r) = loss_and_residual(z, y);
                assert!(l.is_finite() && r.is_finite(), "{z} {y}");
            }
        }
    }
}
