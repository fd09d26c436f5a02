//! Truncated Newton (Newton–CG) for L2-regularised logistic regression over a sparse design:
//! each step solves `H d = -g` approximately by conjugate gradients preconditioned with the
//! Hessian's diagonal, using only Hessian–vector products (Lin, Weng & Keerthi, *Trust region
//! Newton method for large-scale logistic regression*, JMLR 2008; here with a line search,
//! Nocedal & Wright, *Numerical Optimization*, Algorithm 7.1).
//!
//! Why not L-BFGS: one-hot item columns seen once sit beside columns seen thousands of times,
//! and L-BFGS needs about 2,000 passes over ASSIST2009 to converge on Best-LR; the diagonal
//! preconditioner absorbs exactly that spread, and Newton–CG converges in a few hundred
//! passes. Line-search trials cost no pass at all: margins move along the precomputed `X d`.

use rayon::prelude::*;

use crate::logistic::{Design, loss_and_residual, parallel_gradient, sigmoid};

/// Settings of a Newton–CG run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewtonCg {
    /// Most Newton steps.
    pub(crate) max_iter: usize,
    /// Stop when the largest gradient component is below this.
    pub(crate) grad_tol: f64,
    /// Stop when the objective improves by less than this fraction.
    pub(crate) rel_tol: f64,
    /// Most conjugate-gradient steps per Newton step.
    pub(crate) max_cg: usize,
}

impl Default for NewtonCg {
    fn default() -> Self {
        Self { max_iter: 100, grad_tol: 1e-6, rel_tol: 1e-10, max_cg: 250 }
    }
}

/// Rows per parallel chunk of the per-row passes; fixed, and the line search's partial sums are
/// added in chunk order, so a fit gives the same weights on any number of threads.
const CHUNK: usize = 8192;

/// The objective `sum_i loss(z_i) + l2/2 |w / scales|^2` (all weights but the last, the bias)
/// with `z = X w + bias`, and what a Newton step needs at one point.
struct Point {
    z: Vec<f64>,
    loss: f64,
    grad: Vec<f64>,
    /// Per-row curvature `p (1 - p)`.
    curv: Vec<f64>,
    /// Diagonal of the Hessian (the preconditioner).
    diag: Vec<f64>,
}

/// Minimises the regularised negative log-likelihood over `w` (bias last) from its current
/// value. `on_iter` is called after each Newton step and may return `false` to stop.
/// Returns the final objective.
pub(crate) fn minimize(
    cfg: NewtonCg,
    d: &Design,
    w: &mut [f64],
    l2: f64,
    scales: &[f64],
    mut on_iter: impl FnMut(usize) -> bool,
) -> f64 {
    let n = w.len();
    let pen: Vec<f64> = (0..n).map(|j| if j + 1 == n { 0.0 } else { l2 / (scales[j] * scales[j]) }).collect();
    let reg = |w: &[f64]| 0.5 * w.iter().zip(&pen).map(|(w, p)| p * w * w).sum::<f64>();
    let mut z = vec![0.0; d.n_rows()];
    margins(d, w, &mut z);
    let mut pt = evaluate(d, w, &pen, z);
    let mut fx = pt.loss + reg(w);
    let g0 = norm(&pt.grad).max(f64::MIN_POSITIVE);
    let mut step = vec![0.0; n];
    let mut xd = vec![0.0; d.n_rows()];
    for iter in 0..cfg.max_iter {
        if max_abs(&pt.grad) < cfg.grad_tol || !fx.is_finite() {
            break;
        }
        // Forcing term: loose solves far from the optimum, tight ones near it (superlinear).
        let eta = (norm(&pt.grad) / g0).sqrt().min(0.5);
        conjugate_gradient(d, &pt, &pen, eta, cfg.max_cg, &mut step);
        let mut slope = dot(&pt.grad, &step);
        if slope >= 0.0 {
            // Cannot happen with a positive definite Hessian; fall back to the scaled gradient.
            step.iter_mut().zip(&pt.grad).zip(&pt.diag).for_each(|((s, g), h)| *s = -g / h);
            slope = dot(&pt.grad, &step);
        }
        margins(d, &step, &mut xd);
        let mut alpha = 1.0;
        let mut w_new: Vec<f64>;
        let f_new = loop {
            w_new = w.iter().zip(&step).map(|(w, s)| w + alpha * s).collect();
            let loss = line_loss(d, &pt.z, &xd, alpha);
            let f = loss + reg(&w_new);
            if f.is_finite() && f <= fx + 1e-4 * alpha * slope {
                break f;
            }
            alpha *= 0.5;
            if alpha < 1e-12 {
                return fx;
            }
        };
        w.copy_from_slice(&w_new);
        let mut z = std::mem::take(&mut pt.z);
        z.iter_mut().zip(&xd).for_each(|(z, x)| *z += alpha * x);
        pt = evaluate(d, w, &pen, z);
        let improvement = fx - f_new;
        fx = f_new;
        if !on_iter(iter) || improvement.abs() <= cfg.rel_tol * fx.abs().max(1.0) {
            break;
        }
    }
    fx
}

/// Preconditioned conjugate gradients on `H s = -g`, stopped when the residual falls below
/// `eta |g|`, after `max_cg` steps, or on a direction of non-positive curvature.
fn conjugate_gradient(d: &Design, pt: &Point, pen: &[f64], eta: f64, max_cg: usize, s: &mut [f64]) {
    let n = s.len();
    s.fill(0.0);
    let mut r: Vec<f64> = pt.grad.iter().map(|g| -g).collect();
    let mut z: Vec<f64> = r.iter().zip(&pt.diag).map(|(r, h)| r / h).collect();
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let target = eta * norm(&pt.grad);
    let mut hp = vec![0.0; n];
    let mut xp = vec![0.0; d.n_rows()];
    for _ in 0..max_cg {
        hessian_times(d, &pt.curv, pen, &p, &mut xp, &mut hp);
        let php = dot(&p, &hp);
        if php <= 0.0 {
            break;
        }
        let a = rz / php;
        s.iter_mut().zip(&p).for_each(|(s, p)| *s += a * p);
        r.iter_mut().zip(&hp).for_each(|(r, h)| *r -= a * h);
        if norm(&r) <= target {
            break;
        }
        z.iter_mut().zip(r.iter().zip(&pt.diag)).for_each(|(z, (r, h))| *z = r / h);
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        p.iter_mut().zip(&z).for_each(|(p, z)| *p = z + beta * *p);
    }
}

/// `z = X v + v_bias` for every row.
fn margins(d: &Design, v: &[f64], z: &mut [f64]) {
    let bias = v[v.len() - 1];
    z.par_chunks_mut(CHUNK).enumerate().for_each(|(c, zc)| {
        for (k, z) in zc.iter_mut().enumerate() {
            let r = c * CHUNK + k;
            *z = bias + (d.indptr[r]..d.indptr[r + 1]).map(|k| v[d.idx[k] as usize] * d.val[k]).sum::<f64>();
        }
    });
}

/// Loss, gradient, per-row curvature and Hessian diagonal at margins `z` (weights `w`).
fn evaluate(d: &Design, w: &[f64], pen: &[f64], z: Vec<f64>) -> Point {
    let n = w.len();
    let bias = n - 1;
    let mut curv = vec![0.0; d.n_rows()];
    curv.par_chunks_mut(CHUNK).enumerate().for_each(|(c, cc)| {
        for (k, h) in cc.iter_mut().enumerate() {
            let p = sigmoid(z[c * CHUNK + k]);
            // Floor keeps the preconditioner and CG well defined where the fit saturates.
            *h = (p * (1.0 - p)).max(1e-12);
        }
    });
    // Gradient and Hessian diagonal in one scatter pass: [grad | diag].
    let mut both = vec![0.0; 2 * n];
    let loss = parallel_gradient(d.n_rows(), &mut both, |rows, out| {
        let mut loss = 0.0;
        for r in rows {
            let (l, resid) = loss_and_residual(z[r], d.y[r]);
            let h = curv[r];
            for k in d.indptr[r]..d.indptr[r + 1] {
                let (j, v) = (d.idx[k] as usize, d.val[k]);
                out[j] += resid * v;
                out[n + j] += h * v * v;
            }
            out[bias] += resid;
            out[n + bias] += h;
            loss += l;
        }
        loss
    });
    let mut diag = both.split_off(n);
    let mut grad = both;
    for j in 0..n {
        grad[j] += pen[j] * w[j];
        diag[j] += pen[j];
        if diag[j] <= 0.0 {
            diag[j] = 1.0; // a column no row uses and no penalty holds
        }
    }
    Point { z, loss, grad, curv, diag }
}

/// `H p` with `H = Xᵀ diag(curv) X + diag(pen)`, `X` including the bias column; `xp` is scratch.
fn hessian_times(d: &Design, curv: &[f64], pen: &[f64], p: &[f64], xp: &mut [f64], out: &mut [f64]) {
    let n = p.len();
    margins(d, p, xp);
    parallel_gradient(d.n_rows(), out, |rows, o| {
        for r in rows {
            let u = curv[r] * xp[r];
            for k in d.indptr[r]..d.indptr[r + 1] {
                o[d.idx[k] as usize] += u * d.val[k];
            }
            o[n - 1] += u;
        }
        0.0
    });
    out.iter_mut().zip(pen.iter().zip(p)).for_each(|(o, (pen, p))| *o += pen * p);
}

/// Loss at margins `z + alpha * xd`, summed in fixed chunks.
fn line_loss(d: &Design, z: &[f64], xd: &[f64], alpha: f64) -> f64 {
    let parts: Vec<f64> = z
        .par_chunks(CHUNK)
        .zip(xd.par_chunks(CHUNK))
        .enumerate()
        .map(|(c, (zc, xc))| {
            zc.iter()
                .zip(xc)
                .enumerate()
                .map(|(k, (z, x))| loss_and_residual(z + alpha * x, d.y[c * CHUNK + k]).0)
                .sum()
        })
        .collect();
    parts.iter().sum()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logistic::objective;
    use crate::optim::{Lbfgs, minimize as lbfgs};

    /// A design with skewed one-hot columns and a count column, as PFA/Best-LR build them.
    fn design(rows: usize) -> Design {
        let mut d = Design::new();
        let mut state = 12345u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for r in 0..rows {
            // item r % 40 for most rows; a few rare items seen once
            let item = if r % 50 == 0 { 40 + (r / 50) % 60 } else { (r * 7) % 40 };
            let count = ((r % 30) as f64).ln_1p();
            let logit = 0.8 - 0.05 * (item % 40) as f64 + 0.4 * count;
            let y = next() < sigmoid(logit);
            d.push_row(&[(item as u32, 1.0), (100, count)], y);
        }
        d
    }

    #[test]
    fn hessian_vector_product_matches_finite_differences_of_the_gradient() {
        let d = design(3000);
        let n = 102;
        let scales = vec![1.0; n - 1];
        let pen: Vec<f64> = (0..n).map(|j| if j + 1 == n { 0.0 } else { 0.7 }).collect();
        let w: Vec<f64> = (0..n).map(|j| 0.01 * (j as f64 % 7.0) - 0.02).collect();
        let p: Vec<f64> = (0..n).map(|j| ((j * 31 % 11) as f64 - 5.0) / 10.0).collect();
        let mut z = vec![0.0; d.n_rows()];
        margins(&d, &w, &mut z);
        let pt = evaluate(&d, &w, &pen, z);
        let mut hp = vec![0.0; n];
        let mut xp = vec![0.0; d.n_rows()];
        hessian_times(&d, &pt.curv, &pen, &p, &mut xp, &mut hp);
        let h = 1e-5;
        let grad_at = |t: f64| {
            let wt: Vec<f64> = w.iter().zip(&p).map(|(w, p)| w + t * p).collect();
            let mut g = vec![0.0; n];
            objective(&d, &wt, 0.7, &scales, &mut g);
            g
        };
        let (gp, gm) = (grad_at(h), grad_at(-h));
        for j in 0..n {
            let fd = (gp[j] - gm[j]) / (2.0 * h);
            assert!((fd - hp[j]).abs() < 1e-4 * fd.abs().max(1.0), "H p [{j}]: {} vs {fd}", hp[j]);
        }
        // and the diagonal is the Hessian's: e_j^T H e_j
        for j in [0, 17, 45, 100, 101] {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            hessian_times(&d, &pt.curv, &pen, &e, &mut xp, &mut hp);
            assert!((hp[j] - pt.diag[j]).abs() < 1e-9 * hp[j].max(1.0), "diag[{j}]");
        }
    }

    #[test]
    fn reaches_the_same_optimum_as_lbfgs_in_few_steps() {
        let d = design(3000);
        let n = 102;
        let scales: Vec<f64> = (0..n - 1).map(|j| if j == 100 { 2.0 } else { 1.0 }).collect();
        let mut w_newton = vec![0.0; n];
        let mut steps = 0;
        let f_newton = minimize(NewtonCg::default(), &d, &mut w_newton, 0.5, &scales, |_| {
            steps += 1;
            true
        });
        let mut w_lbfgs = vec![0.0; n];
        let cfg = Lbfgs { max_iter: 5000, grad_tol: 1e-9, rel_tol: 0.0, ..Lbfgs::default() };
        let f_lbfgs = lbfgs(cfg, &mut w_lbfgs, |w, g| objective(&d, w, 0.5, &scales, g), |_, _| true);
        assert!((f_newton - f_lbfgs).abs() < 1e-8 * f_lbfgs, "{f_newton} vs {f_lbfgs}");
        for (a, b) in w_newton.iter().zip(&w_lbfgs) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        assert!(steps < 30, "{steps} Newton steps");
        let mut g = vec![0.0; n];
        objective(&d, &w_newton, 0.5, &scales, &mut g);
        assert!(max_abs(&g) < 1e-5, "gradient {}", max_abs(&g));
    }

    #[test]
    fn is_deterministic_across_thread_counts() {
        // several chunks, so that threads really split the rows
        let d = design(5 * CHUNK + 123);
        let fit = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            let mut w = vec![0.0; 102];
            pool.install(|| minimize(NewtonCg::default(), &d, &mut w, 1.0, &[1.0; 101], |_| true));
            w
        };
        assert_eq!(fit(1), fit(3));
    }
}
