//! The student encoder of the metric-based learners: a learner's answers, any number of them,
//! to a vector (a Deep Sets sum, Zaheer et al., NeurIPS 2017). Each answer contributes its
//! skill's embedding plus a shared one, weighted by how surprising the answer was to the
//! population, `r = y − σ(−b)`; the sum is divided by `n + 1`, so no answer gives the zero
//! vector (the population) and a few answers stay near it. The vector does not depend on the
//! answers' order.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::ProfileTarget;
use super::profile::Answer;

/// Width of a student vector.
pub const ENCODER_DIMS: usize = 16;

/// Skill embeddings `[(S + 1) × d]`: one row per skill and, last, the shared row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    /// Row-major embeddings.
    pub w: Vec<f64>,
    /// Skills.
    pub n_skills: usize,
}

impl Encoder {
    /// Small random embeddings (seeded).
    pub(crate) fn new(n_skills: usize, seed: u64) -> Self {
        Self { w: uniform((n_skills + 1) * ENCODER_DIMS, 0.5, seed), n_skills }
    }

    fn row(&self, skill: u32) -> Option<&[f64]> {
        let s = skill as usize;
        (s < self.n_skills).then(|| &self.w[s * ENCODER_DIMS..(s + 1) * ENCODER_DIMS])
    }

    fn shared(&self) -> &[f64] {
        &self.w[self.n_skills * ENCODER_DIMS..]
    }

    /// The student vector of `answers`.
    pub(crate) fn encode<T: ProfileTarget>(&self, target: &T, answers: &[Answer]) -> [f64; ENCODER_DIMS] {
        let mut z = [0.0; ENCODER_DIMS];
        let scale = 1.0 / (answers.len() as f64 + 1.0);
        for a in answers {
            let r = target.residual(a) * scale;
            for (z, w) in z.iter_mut().zip(self.shared()) {
                *z += r * w;
            }
            if let Some(row) = self.row(a.skill) {
                for (z, w) in z.iter_mut().zip(row) {
                    *z += r * w;
                }
            }
        }
        z
    }

    /// Adds `dz`'s pull on the embeddings to `grad` (layout of `w`).
    pub(crate) fn backward<T: ProfileTarget>(&self, target: &T, answers: &[Answer], dz: &[f64], grad: &mut [f64]) {
        let scale = 1.0 / (answers.len() as f64 + 1.0);
        let d = ENCODER_DIMS;
        for a in answers {
            let r = target.residual(a) * scale;
            let shared = self.n_skills * d;
            for (g, dz) in grad[shared..shared + d].iter_mut().zip(dz) {
                *g += r * dz;
            }
            let s = a.skill as usize;
            if s < self.n_skills {
                for (g, dz) in grad[s * d..(s + 1) * d].iter_mut().zip(dz) {
                    *g += r * dz;
                }
            }
        }
    }
}

/// `n` weights drawn uniformly from `(−scale, scale)` (seeded).
pub(crate) fn uniform(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Cosine similarity and its gradient with respect to `a` (zero where either is zero).
pub(crate) fn cosine(a: &[f64], b: &[f64]) -> (f64, [f64; ENCODER_DIMS]) {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut g = [0.0; ENCODER_DIMS];
    if na < 1e-12 || nb < 1e-12 {
        return (0.0, g);
    }
    let c = dot / (na * nb);
    for j in 0..ENCODER_DIMS.min(a.len()) {
        g[j] = b[j] / (na * nb) - c * a[j] / (na * na);
    }
    (c, g)
}
