//! Seeded synthetic learners whose true learning curves are known, for tests and demos.

use attune_core::{Dataset, DatasetBuilder};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// `learners` learners each practise one skill (one item) `answers` times; the n-th answer
/// is wrong with probability `a · n^(-b)`.
pub fn power_law_learners(learners: usize, answers: usize, a: f64, b: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut builder = DatasetBuilder::default();
    let item = builder.item("item");
    let skill = builder.skill("skill");
    for l in 0..learners {
        let s = builder.student(&format!("learner{l}"));
        for n in 1..=answers {
            let p_error = (a * (n as f64).powf(-b)).clamp(0.0, 1.0);
            let correct = rng.random::<f64>() >= p_error;
            builder.push_row(s, item, &[skill], correct, n as i64);
        }
    }
    builder.finish()
}

/// The answers of `learners` learners whose probability of a correct answer moves linearly
/// from `start` to `end` over `answers` answers.
pub fn trending_answers(learners: usize, answers: usize, start: f64, end: f64, seed: u64) -> Vec<Vec<bool>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..learners)
        .map(|_| {
            (0..answers)
                .map(|j| {
                    let t = if answers > 1 { j as f64 / (answers - 1) as f64 } else { 0.0 };
                    rng.random::<f64>() < start + (end - start) * t
                })
                .collect()
        })
        .collect()
}
