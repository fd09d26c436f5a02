//! Students as tasks: the data filters and seeded splits of the cold-start protocols.
//!
//! A task is one learner's answers in order ([`Dataset::learners`]). E4 keeps each learner's
//! first attempt per item and learners with at least [`E4_MIN_ANSWERS`] of them, splits the
//! learners into five folds of 60/20/20 % train/validation/test, and within each test learner
//! draws a shuffled candidate pool (80 %) and query set (20 %). E5 keeps every answer and uses
//! a support set of each learner's first `k` answers.

use std::collections::HashSet;
use std::ops::Range;

use attune_core::Dataset;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::{Error, Result};

/// E4 keeps learners with at least this many first attempts (BOBCAT's filter).
pub const E4_MIN_ANSWERS: usize = 20;

/// Folds of learners in E4 (and E5 where a dataset ships no split).
pub const N_FOLDS: usize = 5;

/// Share of a learner's E4 answers in the candidate pool; the rest is the query set.
pub const POOL_SHARE: f64 = 0.8;

/// One fold of learners: disjoint training, validation and test learners.
#[derive(Clone, Debug)]
pub struct LearnerFold {
    /// `fold{k}` (1-based).
    pub name: String,
    /// Learners the models learn from (60 %).
    pub train: Dataset,
    /// Learners for model selection and early stopping (20 %).
    pub valid: Dataset,
    /// Held-out learners (20 %).
    pub test: Dataset,
}

/// Each learner's first answer on each item, in the learner's order.
pub fn first_attempts(data: &Dataset) -> Dataset {
    let mut keep = Vec::with_capacity(data.len());
    let mut seen = HashSet::new();
    for rows in data.learners() {
        seen.clear();
        keep.extend(rows.filter(|&i| seen.insert(data.items()[i])));
    }
    data.select_rows(keep)
}

/// The learners with at least `min` answers.
pub fn with_min_answers(data: &Dataset, min: usize) -> Dataset {
    let keep: Vec<usize> = data.learners().enumerate().filter(|(_, r)| r.len() >= min).map(|(k, _)| k).collect();
    data.select_learners(&keep)
}

/// E4's data: first attempts of the learners with at least [`E4_MIN_ANSWERS`] of them.
pub fn e4_data(data: &Dataset) -> Dataset {
    with_min_answers(&first_attempts(data), E4_MIN_ANSWERS)
}

/// Five folds of learners, 60/20/20: the learners are shuffled with `seed` and cut into five
/// chunks; fold `k` tests on chunk `k`, validates on chunk `k + 1` (mod 5) and trains on the
/// other three.
///
/// # Errors
/// [`Error::TooFewLearners`] with fewer than five learners.
pub fn learner_folds(data: &Dataset, seed: u64) -> Result<Vec<LearnerFold>> {
    let n = data.n_learners();
    if n < N_FOLDS {
        return Err(Error::TooFewLearners { needed: N_FOLDS, found: n });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let chunk = |c: usize| &order[c * n / N_FOLDS..(c + 1) * n / N_FOLDS];
    Ok((0..N_FOLDS)
        .map(|k| {
            let v = (k + 1) % N_FOLDS;
            let mut train: Vec<usize> = (0..N_FOLDS).filter(|&c| c != k && c != v).flat_map(chunk).copied().collect();
            train.sort_unstable();
            let sorted = |c: usize| {
                let mut s = chunk(c).to_vec();
                s.sort_unstable();
                s
            };
            LearnerFold {
                name: format!("fold{}", k + 1),
                train: data.select_learners(&train),
                valid: data.select_learners(&sorted(v)),
                test: data.select_learners(&sorted(k)),
            }
        })
        .collect())
}

/// One learner's E4 draw: row indices (into the dataset) of the candidate pool, in a shuffled
/// order, and of the query set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolQuery {
    /// Rows a selector may ask.
    pub pool: Vec<usize>,
    /// Rows whose answers are predicted.
    pub query: Vec<usize>,
}

/// Shuffles a learner's `rows` with `seed` and puts [`POOL_SHARE`] of them (rounded, at least
/// one and leaving at least one) in the pool.
pub fn pool_and_query(rows: Range<usize>, seed: u64) -> PoolQuery {
    let mut all: Vec<usize> = rows.collect();
    all.shuffle(&mut StdRng::seed_from_u64(seed));
    let n = all.len();
    let n_pool = ((n as f64 * POOL_SHARE).round() as usize).clamp(n.min(1), n.saturating_sub(1).max(n.min(1)));
    let query = all.split_off(n_pool);
    PoolQuery { pool: all, query }
}

/// A seed for one learner's draw from the run seed, the draw and the learner's position:
/// the same draw whatever the thread count or the order learners are visited in. Distinct
/// for every (draw, learner) pair below 2³²; `StdRng::seed_from_u64` spreads nearby seeds.
pub fn draw_seed(seed: u64, draw: usize, learner: usize) -> u64 {
    seed ^ ((draw as u64) << 32) ^ (learner as u64 & 0xFFFF_FFFF)
}

/// E5's episode of one learner with `rows`: the support set (the first `k` answers) and the
/// evaluated answers after it (at most `horizon`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Episode {
    /// The first `k` rows.
    pub support: Range<usize>,
    /// Rows `k + 1 …= k + horizon` (1-based positions), fewer where the learner has fewer.
    pub query: Range<usize>,
}

/// The E5 episode of a learner, or `None` when the learner has no answer after the support.
pub fn episode(rows: Range<usize>, k: usize, horizon: usize) -> Option<Episode> {
    let split = rows.start + k;
    if split >= rows.end {
        return None;
    }
    Some(Episode { support: rows.start..split, query: split..rows.end.min(split + horizon) })
}

/// `n` random cohorts of `size` training learners each (without replacement within a cohort),
/// reproducible from `seed`.
///
/// # Errors
/// [`Error::TooFewLearners`] when `data` has fewer than `size` learners.
pub fn cohorts(data: &Dataset, size: usize, n: usize, seed: u64) -> Result<Vec<Dataset>> {
    if size == 0 || data.n_learners() < size {
        return Err(Error::TooFewLearners { needed: size.max(1), found: data.n_learners() });
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..data.n_learners()).collect();
    Ok((0..n)
        .map(|_| {
            order.shuffle(&mut rng);
            let mut pick = order[..size].to_vec();
            pick.sort_unstable();
            data.select_learners(&pick)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use attune_core::DatasetBuilder;

    /// Learner `s{k}` answers `n_k` items, item `i{j}` twice each where `repeat`.
    fn tiny(lengths: &[usize], repeat: bool) -> Dataset {
        let mut b = DatasetBuilder::default();
        for (k, &n) in lengths.iter().enumerate() {
            let s = b.student(&format!("s{k}"));
            for j in 0..n {
                let item = b.item(&format!("i{j}"));
                b.push_row(s, item, &[], (j + k) % 3 != 0, (2 * j) as i64);
                if repeat {
                    b.push_row(s, item, &[], true, (2 * j + 1) as i64);
                }
            }
        }
        b.finish()
    }

    #[test]
    fn first_attempts_keep_one_answer_per_item_in_order() {
        let data = tiny(&[3, 2], true);
        assert_eq!(data.len(), 10);
        let first = first_attempts(&data);
        assert_eq!(first.len(), 5);
        // The first attempt of i0 by s0 is wrong ((0 + 0) % 3 == 0), the repeat was right.
        assert!(!first.correct()[0]);
        assert_eq!(first.times()[..3], [0, 2, 4]);
    }

    #[test]
    fn the_e4_filter_drops_learners_with_fewer_than_twenty_first_attempts() {
        let data = tiny(&[25, 19, 20, 40], true);
        let e4 = e4_data(&data);
        assert_eq!(e4.n_learners(), 3);
        assert_eq!(e4.len(), 25 + 20 + 40);
    }

    #[test]
    fn folds_are_sixty_twenty_twenty_and_disjoint() {
        let data = tiny(&[3; 23], false);
        let folds = learner_folds(&data, 7).unwrap();
        assert_eq!(folds.len(), 5);
        let names = |d: &Dataset| -> Vec<String> {
            d.learners().map(|r| d.vocab().students.name(d.students()[r.start].0).unwrap().to_owned()).collect()
        };
        let mut tested = Vec::new();
        for f in &folds {
            let (tr, va, te) = (names(&f.train), names(&f.valid), names(&f.test));
            assert_eq!(tr.len() + va.len() + te.len(), 23);
            assert!((13..=14).contains(&tr.len()) && (4..=5).contains(&va.len()) && (4..=5).contains(&te.len()));
            for s in &te {
                assert!(!tr.contains(s) && !va.contains(s), "{s} in two splits of {}", f.name);
            }
            for s in &va {
                assert!(!tr.contains(s));
            }
            tested.extend(te);
        }
        tested.sort();
        tested.dedup();
        assert_eq!(tested.len(), 23, "every learner is tested in exactly one fold");
        // Seeded: the same folds again, other folds with another seed.
        assert_eq!(names(&learner_folds(&data, 7).unwrap()[2].test), names(&folds[2].test));
        assert_ne!(names(&learner_folds(&data, 8).unwrap()[0].test), names(&folds[0].test));
        assert!(matches!(learner_folds(&tiny(&[3; 4], false), 1), Err(Error::TooFewLearners { .. })));
    }

    #[test]
    fn pool_and_query_partition_the_rows() {
        for n in [1usize, 2, 5, 20, 37] {
            let d = pool_and_query(10..10 + n, 3);
            let mut all: Vec<usize> = d.pool.iter().chain(&d.query).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (10..10 + n).collect::<Vec<_>>());
            assert!(!d.pool.is_empty());
            if n >= 2 {
                assert!(!d.query.is_empty());
            }
            if n == 20 {
                assert_eq!((d.pool.len(), d.query.len()), (16, 4));
            }
            assert!(d.pool.iter().all(|r| !d.query.contains(r)), "a query answer is in the pool");
        }
        assert_ne!(pool_and_query(0..20, 1), pool_and_query(0..20, 2));
        assert_ne!(draw_seed(1, 0, 5), draw_seed(1, 1, 5));
        assert_ne!(draw_seed(1, 0, 5), draw_seed(1, 0, 6));
    }

    #[test]
    fn episodes_split_support_from_the_next_answers() {
        assert_eq!(episode(4..30, 3, 20), Some(Episode { support: 4..7, query: 7..27 }));
        assert_eq!(episode(4..10, 3, 20), Some(Episode { support: 4..7, query: 7..10 }));
        assert_eq!(episode(4..7, 3, 20), None);
    }

    #[test]
    fn cohorts_draw_distinct_learners() {
        let data = tiny(&[2; 30], false);
        let cs = cohorts(&data, 10, 12, 5).unwrap();
        assert_eq!(cs.len(), 12);
        assert!(cs.iter().all(|c| c.n_learners() == 10));
        assert!(cohorts(&data, 31, 1, 5).is_err());
    }
}
