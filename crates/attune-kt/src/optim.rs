//! Limited-memory BFGS (Nocedal, 1980) with a backtracking Armijo line search: the optimizer
//! behind every regularised maximum-likelihood fit of this crate (IRT, PFA, Best-LR).

/// Settings of an L-BFGS run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lbfgs {
    /// Most iterations.
    pub(crate) max_iter: usize,
    /// Stop when the largest gradient component is below this.
    pub(crate) grad_tol: f64,
    /// Stop when the objective improves by less than this fraction.
    pub(crate) rel_tol: f64,
    /// History length.
    pub(crate) memory: usize,
}

impl Default for Lbfgs {
    fn default() -> Self {
        Self { max_iter: 300, grad_tol: 1e-6, rel_tol: 1e-10, memory: 10 }
    }
}

/// Minimises `f` from `x`, where `f(x, grad)` returns the objective and writes its gradient.
/// Returns the final objective; `x` holds the minimiser. `on_iter` is called after each
/// iteration and may return `false` to stop early.
pub(crate) fn minimize(
    cfg: Lbfgs,
    x: &mut [f64],
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    mut on_iter: impl FnMut(usize, f64) -> bool,
) -> f64 {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(cfg.memory);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(cfg.memory);
    let mut rho: Vec<f64> = Vec::with_capacity(cfg.memory);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha = vec![0.0; cfg.memory];
    for iter in 0..cfg.max_iter {
        if max_abs(&g) < cfg.grad_tol || !fx.is_finite() {
            break;
        }
        // Two-loop recursion: d = -H g.
        d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
        let m = s_hist.len();
        for j in (0..m).rev() {
            alpha[j] = rho[j] * dot(&s_hist[j], &d);
            axpy(-alpha[j], &y_hist[j], &mut d);
        }
        if m > 0 {
            let gamma = dot(&s_hist[m - 1], &y_hist[m - 1]) / dot(&y_hist[m - 1], &y_hist[m - 1]);
            d.iter_mut().for_each(|v| *v *= gamma);
        } else {
            let scale = 1.0 / max_abs(&g).max(1.0);
            d.iter_mut().for_each(|v| *v *= scale);
        }
        for j in 0..m {
            let beta = rho[j] * dot(&y_hist[j], &d);
            axpy(alpha[j] - beta, &s_hist[j], &mut d);
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (curvature lost): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let scale = 1.0 / max_abs(&g).max(1.0);
            d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g * scale);
            slope = dot(&g, &d);
        }
        // Backtracking line search (Armijo).
        let mut step = 1.0;
        let mut f_new;
        loop {
            x_new.iter_mut().zip(x.iter().zip(&d)).for_each(|(xn, (x, d))| *xn = x + step * d);
            f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                break;
            }
            step *= 0.5;
            if step < 1e-12 {
                return fx;
            }
        }
        let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if s_hist.len() == cfg.memory {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho.push(1.0 / sy);
        }
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let improvement = fx - f_new;
        fx = f_new;
        if !on_iter(iter, fx) || improvement.abs() <= cfg.rel_tol * fx.abs().max(1.0) {
            break;
        }
    }
    fx
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks an analytic gradient against central finite differences at `x`.
    pub(crate) fn check_gradient(mut f: impl FnMut(&[f64], &mut [f64]) -> f64, x: &[f64], tol: f64) {
        let mut g = vec![0.0; x.len()];
        f(x, &mut g);
        let mut scratch = vec![0.0; x.len()];
        for i in 0..x.len() {
            let h = 1e-6 * x[i].abs().max(1.0);
            let mut xp = x.to_vec();
            xp[i] += h;
            let fp = f(&xp, &mut scratch);
            xp[i] -= 2.0 * h;
            let fm = f(&xp, &mut scratch);
            let fd = (fp - fm) / (2.0 * h);
            let err = (fd - g[i]).abs() / fd.abs().max(g[i].abs()).max(1e-3);
            assert!(err < tol, "d/dx{i}: analytic {} vs finite difference {fd}", g[i]);
        }
    }

    #[test]
    fn minimizes_the_rosenbrock_function() {
        let mut x = vec![-1.2, 1.0];
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        check_gradient(f, &x, 1e-6);
        let cfg = Lbfgs { max_iter: 500, rel_tol: 0.0, grad_tol: 1e-9, ..Lbfgs::default() };
        let fx = minimize(cfg, &mut x, f, |_, _| true);
        assert!(fx < 1e-12, "{fx}");
        assert!((x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5, "{x:?}");
    }
}
