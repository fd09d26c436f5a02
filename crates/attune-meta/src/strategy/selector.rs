//! The selector of strategy selection: features of a support, and the ridge regressions that
//! predict each candidate's loss against the best single one's.

use attune_core::{Interaction, KnowledgeTracer};
use attune_models::Model;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::e5::Traced;

/// The margins (in mean log-loss per answer) the selector chooses among; the last never
/// switches away from the reference.
pub(super) const MARGINS: [f64; 7] = [0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 10.0];

/// Ridge penalty of the selector's regressions (features are of order one).
const RIDGE: f64 = 1.0;

/// Probabilities are clipped to this distance from 0 and 1 in log-losses.
const CLIP: f64 = 1e-6;

/// The fitted selector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selector {
    /// The best single candidate on validation, chosen unless another is predicted better.
    pub reference: usize,
    /// Per candidate, the weights predicting its log-loss minus the reference's from the
    /// features; empty for the reference.
    pub weights: Vec<Vec<f64>>,
    /// How much better (mean log-loss per answer) a candidate must be predicted to be.
    pub margin: f64,
}

/// The features of a support: bias, share right, the trend (share right in its later half
/// minus its earlier half), and for each distinct base its prequential log-loss on the
/// support and its mean prediction on the support's items after reading it.
pub(super) fn features(bases: &[&Model], support: &[Interaction<'_>]) -> Vec<f64> {
    let mut x = head(support).to_vec();
    for m in bases {
        let mut state = m.initial_state();
        let mut loss = 0.0;
        for obs in support {
            loss += log_loss(m.predict_interaction(&state, obs).get(), obs.correct);
            m.update(&mut state, obs);
        }
        let after: f64 = support.iter().map(|obs| m.predict_interaction(&state, obs).get()).sum();
        let n = support.len().max(1) as f64;
        x.push(loss / n);
        x.push(if support.is_empty() { 0.5 } else { after / n });
    }
    x
}

/// The features every selector starts with: bias, share right, and the trend (share right in
/// the later half minus the earlier half).
pub(super) fn head(support: &[Interaction<'_>]) -> [f64; 3] {
    let share = |s: &[Interaction<'_>]| {
        if s.is_empty() { 0.5 } else { s.iter().filter(|o| o.correct).count() as f64 / s.len() as f64 }
    };
    let half = support.len() / 2;
    let trend = if half == 0 { 0.0 } else { share(&support[half..]) - share(&support[..half]) };
    [1.0, share(support), trend]
}

pub(super) fn log_loss(p: f64, y: bool) -> f64 {
    let p = p.clamp(CLIP, 1.0 - CLIP);
    -(if y { p } else { 1.0 - p }).ln()
}

/// Each learner's mean log-loss in a trace, learners in the order they first appear.
pub(super) fn learner_losses(t: &Traced) -> Vec<(u32, f64)> {
    let mut out: Vec<(u32, f64, usize)> = Vec::new();
    for ((&l, &p), &y) in t.learner.iter().zip(&t.p).zip(&t.y) {
        match out.last_mut() {
            Some(last) if last.0 == l => {
                last.1 += log_loss(p, y);
                last.2 += 1;
            }
            _ => out.push((l, log_loss(p, y), 1)),
        }
    }
    out.into_iter().map(|(l, s, n)| (l, s / n as f64)).collect()
}

/// Ridge regression of `y` on rows `x` (the bias, column 0, not penalized).
fn ridge(x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let d = x.first().map_or(0, Vec::len);
    let mut h = vec![0.0; d * d];
    let mut g = vec![0.0; d];
    for (row, &t) in x.iter().zip(y) {
        for i in 0..d {
            g[i] += row[i] * t;
            for j in 0..d {
                h[i * d + j] += row[i] * row[j];
            }
        }
    }
    for i in 1..d {
        h[i * d + i] += RIDGE;
    }
    // A tiny penalty on the bias too keeps an empty or constant set solvable.
    h[0] += 1e-9;
    if attune_kt::solve_spd(&mut h, &mut g, d) { g } else { vec![0.0; d] }
}

fn dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(w, x)| w * x).sum()
}

impl Selector {
    /// The selector that always chooses `reference` among `n` candidates.
    pub(super) fn never(reference: usize, n: usize) -> Self {
        Self { reference, weights: vec![Vec::new(); n], margin: MARGINS[MARGINS.len() - 1] }
    }

    /// The candidate chosen for features `x`.
    pub fn choose(&self, x: &[f64]) -> usize {
        let mut best = (self.reference, -self.margin);
        for (c, w) in self.weights.iter().enumerate() {
            if c != self.reference && !w.is_empty() {
                let d = dot(w, x);
                if d < best.1 {
                    best = (c, d);
                }
            }
        }
        best.0
    }

    /// Fits the selector on rows `x` (features) and `loss` (each candidate's mean log-loss)
    /// with `reference` as the default, the margin chosen by two-fold cross-fitting: fit on
    /// one half, score the choices on the other. The halves are random halves of `groups`
    /// (rows of one group — draws of one learner — stay together), seeded by `seed`: an order
    /// in the data (by class, by sign-up) must not be one half.
    pub(super) fn train(reference: usize, x: &[Vec<f64>], loss: &[Vec<f64>], groups: &[usize], seed: u64) -> Self {
        let mut distinct: Vec<usize> = groups.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.shuffle(&mut StdRng::seed_from_u64(seed));
        let first: std::collections::BTreeSet<usize> = distinct[..distinct.len() / 2].iter().copied().collect();
        let (a, b): (Vec<usize>, Vec<usize>) = (0..x.len()).partition(|&i| first.contains(&groups[i]));
        let halves = [a, b];
        let mut best = (f64::INFINITY, MARGINS[MARGINS.len() - 1]);
        for &m in MARGINS.iter().rev() {
            let mut total = 0.0;
            for h in 0..2 {
                let s = Self::fit(reference, m, x, loss, &halves[h]);
                total += halves[1 - h].iter().map(|&i| loss[i][s.choose(&x[i])]).sum::<f64>();
            }
            if total < best.0 - 1e-12 {
                best = (total, m);
            }
        }
        let all: Vec<usize> = (0..x.len()).collect();
        Self::fit(reference, best.1, x, loss, &all)
    }

    /// Fits the regressions on learners `rows` (features `x`, per-candidate losses `loss`).
    pub(super) fn fit(reference: usize, margin: f64, x: &[Vec<f64>], loss: &[Vec<f64>], rows: &[usize]) -> Self {
        let n = loss.first().map_or(0, Vec::len);
        let xs: Vec<Vec<f64>> = rows.iter().map(|&i| x[i].clone()).collect();
        let weights = (0..n)
            .map(|c| {
                if c == reference {
                    return Vec::new();
                }
                let y: Vec<f64> = rows.iter().map(|&i| loss[i][c] - loss[i][reference]).collect();
                ridge(&xs, &y)
            })
            .collect();
        Self { reference, weights, margin }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A planted rule: candidate 1 is 0.2 better where the second feature is above one half,
    /// 0.2 worse elsewhere; candidate 2 is always worse. The fitted selector follows the rule.
    #[test]
    fn the_selector_learns_a_planted_rule() {
        let n = 400;
        let x: Vec<Vec<f64>> = (0..n).map(|i| vec![1.0, (i as f64 + 0.5) / n as f64]).collect();
        let loss: Vec<Vec<f64>> = x.iter().map(|x| vec![0.6, if x[1] > 0.5 { 0.4 } else { 0.8 }, 0.9]).collect();
        let rows: Vec<usize> = (0..n).collect();
        let s = Selector::fit(0, 0.0, &x, &loss, &rows);
        let right = x.iter().filter(|x| s.choose(x) == if x[1] > 0.5 { 1 } else { 0 }).count();
        assert!(right as f64 > 0.9 * n as f64, "{right} of {n} chosen right");
        assert!(x.iter().all(|x| s.choose(x) != 2));
        // The largest margin never leaves the reference.
        let never = Selector::fit(0, MARGINS[MARGINS.len() - 1], &x, &loss, &rows);
        assert!(x.iter().all(|x| never.choose(x) == 0));
    }

    #[test]
    fn learner_losses_average_per_learner() {
        let t = Traced {
            p: vec![0.5, 0.5, 0.9],
            y: vec![true, false, true],
            learner: vec![3, 3, 7],
            position: vec![2, 3, 2],
        };
        let l = learner_losses(&t);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].0, 3);
        assert!((l[0].1 - 2f64.ln()).abs() < 1e-12);
        assert!((l[1].1 + 0.9f64.ln()).abs() < 1e-12);
    }
}
