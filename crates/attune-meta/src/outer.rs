//! The outer loop's shared parts: Adam on a flat parameter vector, and the epochs of
//! meta-training with early stopping on the validation learners.

use attune_core::Progress;

use crate::Result;

/// Runs `epoch` (one pass of meta-training on `m`, returning the validation score after it)
/// up to `max_epochs` times, keeping the parameters with the best score, `start`'s own
/// `start_score` included; stops after `patience` epochs without a better one. Advances
/// `progress` by one per epoch where `per_epoch`, and stops with [`attune_core::Cancelled`]
/// when it says so.
///
/// # Errors
/// What `epoch` returns, [`crate::Error::Cancelled`].
pub(crate) fn keep_best<M: Clone>(
    start: M,
    start_score: f64,
    max_epochs: usize,
    patience: usize,
    progress: Option<&dyn Progress>,
    mut epoch: impl FnMut(&mut M, usize) -> Result<f64>,
) -> Result<(f64, M)> {
    let mut best = (start_score, start.clone());
    let mut m = start;
    let mut since_best = 0;
    for e in 0..max_epochs {
        let score = epoch(&mut m, e)?;
        if score > best.0 {
            best = (score, m.clone());
            since_best = 0;
        } else {
            since_best += 1;
        }
        if progress.is_some_and(|p| !p.advance(1)) {
            return Err(attune_core::Cancelled.into());
        }
        if since_best >= patience {
            break;
        }
    }
    Ok(best)
}

/// The mean outer gradient of a meta-batch with respect to `n` starting parameters and `n`
/// rates, tasks in parallel: `task(t, g, g_rates)` adds task `t`'s and says whether it was
/// finite. `None` where no task of the batch was.
pub(crate) fn batch_gradient(
    batch: &[usize],
    n: usize,
    task: impl Fn(usize, &mut [f64], &mut [f64]) -> bool + Sync,
) -> Option<(Vec<f64>, Vec<f64>)> {
    use rayon::prelude::*;
    let zero = || (vec![0.0; n], vec![0.0; n], 0usize);
    let (mut g, mut g_rates, used) = batch
        .par_iter()
        .fold(zero, |(mut g, mut r, used), &t| {
            let ok = task(t, &mut g, &mut r);
            (g, r, used + usize::from(ok))
        })
        .reduce(zero, |(mut g, mut r, n), (g2, r2, n2)| {
            g.iter_mut().zip(&g2).for_each(|(a, b)| *a += b);
            r.iter_mut().zip(&r2).for_each(|(a, b)| *a += b);
            (g, r, n + n2)
        });
    if used == 0 {
        return None;
    }
    let scale = 1.0 / used as f64;
    g.iter_mut().chain(g_rates.iter_mut()).for_each(|v| *v *= scale);
    Some((g, g_rates))
}

/// Adam (Kingma & Ba, 2015) on a flat parameter vector.
pub(crate) struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
    rate: f64,
}

impl Adam {
    pub(crate) fn new(n: usize, rate: f64) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n], t: 0, rate }
    }

    pub(crate) fn step(&mut self, x: &mut [f64], g: &[f64]) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        for j in 0..x.len() {
            if g[j] == 0.0 && self.m[j] == 0.0 {
                continue;
            }
            self.m[j] = B1 * self.m[j] + (1.0 - B1) * g[j];
            self.v[j] = B2 * self.v[j] + (1.0 - B2) * g[j] * g[j];
            x[j] -= self.rate * (self.m[j] / c1) / ((self.v[j] / c2).sqrt() + 1e-8);
        }
    }
}
