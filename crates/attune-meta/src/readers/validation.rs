//! What a reader is trained on and checked against: E5's episodes (a learner's first `k`
//! answers the support, tracing on after them) or E4's tests (the `n` items IRT-Active asks
//! from a shuffled pool, the held-out query predicted after them). Training a reader for
//! adaptive testing on first answers would teach it a distribution of supports — a learner's
//! own order of practice — that no test shows it.

use attune_core::{Dataset, Interaction, KnowledgeTracer, metrics};
use attune_kt::Irt;
use attune_policy::cat::{Estimator, Selector};
use rayon::prelude::*;

use super::{HISTORY, Learner, ProfileTarget};
use crate::e4::replay;
use crate::e5::{MetaLearner, validation_auc};
use crate::irt_cat::IrtTester;
use crate::tasks::draw_seed;
use crate::{Error, Result};

/// Pool/query draws per validation learner in a testing check.
const VALIDATION_DRAWS: usize = 2;

/// Keeps the training and validation draws apart from E4's test draws of the same seed.
const TRAINING_SALT: u64 = 0x7EA_C4E5;

/// One learner's test: the rows asked (in the order asked) and the query rows.
#[derive(Clone, Debug)]
pub(crate) struct Test {
    pub learner: usize,
    pub support: Vec<usize>,
    pub query: Vec<usize>,
}

/// IRT-Active's tests of length `n` (MAP ability under `base`, the E4 baseline's) on every
/// learner of `data`, `draws` pool/query draws each, seeded by `seed`.
///
/// # Errors
/// [`Error::UnsupportedBase`] for a base that is not unidimensional IRT.
pub(crate) fn active_tests(base: &Irt, data: &Dataset, n: usize, draws: usize, seed: u64) -> Result<Vec<Test>> {
    let active = IrtTester::from_irt(base, Selector::Active, Estimator::Map).ok_or(Error::UnsupportedBase {
        learner: "reader (e4)",
        base: "irt".into(),
        supported: "irt1pl",
    })?;
    let learners: Vec<_> = data.learners().collect();
    Ok(learners
        .par_iter()
        .enumerate()
        .flat_map_iter(|(k, rows)| {
            let active = &active;
            (0..draws).map(move |d| {
                let run = replay(active, data, rows.clone(), n, draw_seed(seed ^ TRAINING_SALT, d, k), |_, _, _| {});
                Test { learner: k, support: run.rows, query: run.query }
            })
        })
        .filter(|t| !t.query.is_empty())
        .collect())
}

/// One training learner per test (one test per learner: a memory of training learners leaves
/// the learner read out, which a second draw of the same learner would defeat).
pub(crate) fn tested_learners<T: ProfileTarget>(target: &T, data: &Dataset, tests: &[Test]) -> Vec<Learner> {
    let rows: Vec<_> = data.learners().collect();
    tests
        .par_iter()
        .map(|t| {
            let obs = |rows: &[usize]| rows.iter().map(|&r| data.interaction(r)).collect::<Vec<Interaction<'_>>>();
            let all = &rows[t.learner];
            let history = target.rows(data, all.start..all.end.min(all.start + HISTORY));
            Learner {
                support: target.answers(&obs(&t.support)),
                query: target.answers(&obs(&t.query)),
                profile: target.fit_profile(&history),
                history,
            }
        })
        .collect()
}

/// How a reader's epochs are scored on the validation learners.
pub(crate) enum Validation<'a> {
    /// E5's AUC with the first `k` answers the support.
    Tracing { valid: &'a Dataset, k: usize },
    /// The query AUC after IRT-Active's tests of `n` answers.
    Testing { valid: &'a Dataset, n: usize, tests: Vec<Test> },
}

impl<'a> Validation<'a> {
    /// Scoring on IRT-Active's tests of length `n` of the learners of `valid` under `base`.
    ///
    /// # Errors
    /// As [`active_tests`].
    pub(crate) fn testing(base: &Irt, valid: &'a Dataset, n: usize, seed: u64) -> Result<Self> {
        let tests = active_tests(base, valid, n, VALIDATION_DRAWS, seed ^ 1)?;
        Ok(Self::Testing { valid, n, tests })
    }

    /// The support size or test length trained for.
    pub(crate) fn size(&self) -> usize {
        match self {
            Self::Tracing { k, .. } => *k,
            Self::Testing { n, .. } => *n,
        }
    }

    /// The AUC of `m` on the validation learners.
    pub(crate) fn auc<M: MetaLearner>(&self, m: &M) -> f64 {
        match self {
            Self::Tracing { valid, k } => validation_auc(m, valid, *k),
            Self::Testing { valid, tests, .. } => {
                let scored: Vec<(Vec<f64>, Vec<bool>)> = tests
                    .par_iter()
                    .map(|t| {
                        let support: Vec<Interaction<'_>> = t.support.iter().map(|&r| valid.interaction(r)).collect();
                        let a = m.adapt(&support);
                        let p = t.query.iter().map(|&r| a.model.predict(&a.state, valid.items()[r]).get()).collect();
                        (p, t.query.iter().map(|&r| valid.correct()[r]).collect())
                    })
                    .collect();
                let (p, y): (Vec<f64>, Vec<bool>) = scored.into_iter().flat_map(|(p, y)| p.into_iter().zip(y)).unzip();
                metrics::auc(&p, &y)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attune_core::DatasetBuilder;
    use attune_kt::IrtConfig;

    /// Twelve learners answering the same 30 items once each, in their own order.
    fn data() -> (Irt, Dataset) {
        let mut b = DatasetBuilder::default();
        let items: Vec<_> = (0..30).map(|i| b.item(&format!("q{i}"))).collect();
        for l in 0..12 {
            let s = b.student(&format!("l{l}"));
            for (t, &i) in items.iter().enumerate() {
                b.push_row(s, i, &[], (t + l) % 3 != 0, t as i64);
            }
        }
        let difficulty: Vec<f64> = (0..30).map(|i| -1.5 + 0.1 * i as f64).collect();
        let irt = Irt { config: IrtConfig::one_pl(), discrimination: vec![1.0; 30], mean_difficulty: 0.0, difficulty };
        (irt, b.finish())
    }

    #[test]
    fn active_tests_ask_from_the_pool_and_hold_the_query_out() {
        let (irt, d) = data();
        let tests = active_tests(&irt, &d, 5, 2, 7).unwrap();
        assert_eq!(tests.len(), 24);
        let rows: Vec<_> = d.learners().collect();
        for t in &tests {
            assert_eq!(t.support.len(), 5);
            assert_eq!(t.query.len(), 6, "a fifth of 30 held out");
            assert!(t.support.iter().chain(&t.query).all(|r| rows[t.learner].contains(r)));
            assert!(t.support.iter().all(|r| !t.query.contains(r)));
        }
        // The first item asked is the one nearest one half for the prior ability.
        let first = |t: &Test| d.items()[t.support[0]].index();
        let pool_best = tests.iter().map(first).all(|i| irt.difficulty[i].abs() <= 0.55);
        assert!(pool_best, "{:?}", tests.iter().map(first).collect::<Vec<_>>());
        // Seeded: the same tests again, other ones for another seed.
        let again = active_tests(&irt, &d, 5, 2, 7).unwrap();
        assert!(tests.iter().zip(&again).all(|(a, b)| a.support == b.support && a.query == b.query));
        let other = active_tests(&irt, &d, 5, 2, 8).unwrap();
        assert!(tests.iter().zip(&other).any(|(a, b)| a.query != b.query));
    }
}
