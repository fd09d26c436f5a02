//! Paired bootstrap over learners: is model A's AUC above model B's on the same answers?

use attune_core::metrics;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

/// A difference of AUCs and its percentile interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// AUC(A) − AUC(B) on all answers.
    pub diff: f64,
    /// 2.5 % percentile of the resampled differences.
    pub lo: f64,
    /// 97.5 % percentile.
    pub hi: f64,
}

impl Interval {
    /// Whether the whole interval lies above zero (a claimable win of A).
    pub fn above_zero(&self) -> bool {
        self.lo > 0.0
    }
}

/// The paired bootstrap of `AUC(a) − AUC(b)` over `y`, resampling whole learners (`learner`
/// gives each answer's learner, answers of a learner contiguous) `resamples` times with
/// `seed`. Both models predict the same answers, so each resample scores both on the same
/// learners.
pub fn paired_auc(a: &[f64], b: &[f64], y: &[bool], learner: &[u32], resamples: usize, seed: u64) -> Interval {
    let diff = metrics::auc(a, y) - metrics::auc(b, y);
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for i in 0..y.len() {
        match groups.last_mut() {
            Some(g) if learner[g.start] == learner[i] => g.end = i + 1,
            _ => groups.push(i..i + 1),
        }
    }
    if groups.len() < 2 || resamples == 0 {
        return Interval { diff, lo: f64::NAN, hi: f64::NAN };
    }
    let mut diffs: Vec<f64> = (0..resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = StdRng::seed_from_u64(seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let (mut pa, mut pb, mut yy) =
                (Vec::with_capacity(y.len()), Vec::with_capacity(y.len()), Vec::with_capacity(y.len()));
            for _ in 0..groups.len() {
                let g = groups[rng.random_range(0..groups.len())].clone();
                pa.extend_from_slice(&a[g.clone()]);
                pb.extend_from_slice(&b[g.clone()]);
                yy.extend_from_slice(&y[g]);
            }
            metrics::auc(&pa, &yy) - metrics::auc(&pb, &yy)
        })
        .filter(|d| d.is_finite())
        .collect();
    if diffs.is_empty() {
        return Interval { diff, lo: f64::NAN, hi: f64::NAN };
    }
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| diffs[((q * (diffs.len() - 1) as f64).round() as usize).min(diffs.len() - 1)];
    Interval { diff, lo: at(0.025), hi: at(0.975) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_better_model_has_an_interval_above_zero_and_an_equal_one_does_not() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 3000;
        let y: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
        let noise = |rng: &mut StdRng, s: f64| -> Vec<f64> {
            y.iter().map(|&c| (f64::from(u8::from(c)) - 0.5) * s + rng.random_range(-1.0..1.0)).collect()
        };
        let good = noise(&mut rng, 1.0);
        let weak = noise(&mut rng, 0.3);
        let learner: Vec<u32> = (0..n as u32).map(|i| i / 10).collect();
        let win = paired_auc(&good, &weak, &y, &learner, 300, 2);
        assert!(win.above_zero() && win.lo <= win.diff && win.diff <= win.hi, "{win:?}");
        let same = paired_auc(&good, &good, &y, &learner, 300, 2);
        assert_eq!((same.diff, same.lo, same.hi), (0.0, 0.0, 0.0));
        let lose = paired_auc(&weak, &good, &y, &learner, 300, 2);
        assert!(lose.hi < 0.0);
    }
}
