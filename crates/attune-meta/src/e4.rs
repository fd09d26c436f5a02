//! Protocol E4, cold-start adaptive testing (the BOBCAT protocol; Ghosh & Lan, IJCAI 2021).
//!
//! For every test learner and draw, the learner's first attempts are shuffled into a candidate
//! pool (80 %) and a query set (20 %). A tester starts from the population, picks `n` items from
//! the pool one at a time, reads each recorded answer (offline replay) and adapts; after `n`
//! answers it predicts every query answer. AUC and accuracy pool the query answers of all test
//! learners, per `n`. Item exposure and test overlap describe the tests given.

use std::collections::BTreeMap;

use attune_core::{Dataset, Interaction, ItemId, Probability, metrics};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use serde::Serialize;

use crate::strategy::{DEFAULT_TEST_STRATEGIES, StrategySpec, parse_strategies};
use crate::tasks::{draw_seed, pool_and_query};

/// The test lengths E4 reports.
pub const E4_STEPS: [usize; 4] = [1, 3, 5, 10];

/// A cold-start adaptive tester: a question-selection rule and the student model it adapts.
pub trait AdaptiveTester: Sync {
    /// What the tester knows about one learner during a test.
    type Session: Send;

    /// A session before any answer (the population prior).
    fn start(&self) -> Self::Session;

    /// The position in `pool` (never empty) of the item to ask next.
    fn choose(&self, session: &Self::Session, pool: &[ItemId], rng: &mut StdRng) -> usize;

    /// Reads one recorded answer.
    fn observe(&self, session: &mut Self::Session, answer: &Interaction<'_>);

    /// The probability of a right answer on `item` now.
    fn predict(&self, session: &Self::Session, item: ItemId) -> Probability;
}

/// How an E4 run draws and scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct E4Settings {
    /// Test lengths scored (default [`E4_STEPS`]).
    pub steps: Vec<usize>,
    /// Pool/query draws per learner (default 5); results are the mean over draws.
    pub draws: usize,
    /// Seed of the draws and of random selectors.
    pub seed: u64,
    /// Exposure control at test time: the next item is drawn uniformly from the `randomesque`
    /// best-scored ones (Kingsbury & Zara, 1989), for the classic and the meta-learned
    /// testers alike; 1 (the default) always asks the best.
    pub randomesque: usize,
    /// Bootstrap resamples of the interval against IRT-Active (default 1000).
    pub resamples: usize,
    /// The candidates `strategy` chooses among (default [`DEFAULT_TEST_STRATEGIES`]).
    pub strategies: Vec<StrategySpec>,
    /// Other testers run on the same folds and draws, each with a paired interval (default
    /// none).
    #[serde(skip)]
    pub versus: Vec<crate::protocol::E4Model>,
}

impl Default for E4Settings {
    fn default() -> Self {
        Self {
            steps: E4_STEPS.to_vec(),
            draws: 5,
            seed: 42,
            randomesque: 1,
            resamples: 1000,
            strategies: parse_strategies(DEFAULT_TEST_STRATEGIES).unwrap_or_default(),
            versus: Vec::new(),
        }
    }
}

/// The outcome of E4 on one set of learners, each metric the mean over draws.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct E4Outcome {
    /// Pooled query AUC after `n` answers, by `n`.
    pub auc_at: BTreeMap<usize, f64>,
    /// Pooled query accuracy (threshold 0.5) after `n` answers, by `n`.
    pub accuracy_at: BTreeMap<usize, f64>,
    /// Query answers scored per draw.
    pub n_query: usize,
    /// Learners tested.
    pub n_learners: usize,
    /// The largest share of learners given one item in the longest test.
    pub max_exposure: f64,
    /// Test overlap rate of the longest test (Chen, Ankenmann & Spray, 2003): the expected
    /// share of items two random learners' tests have in common.
    pub mean_overlap: f64,
    /// Every query prediction by test length, learner by learner (all draws of a learner
    /// together), for paired bootstrap intervals against another tester on the same draws.
    #[serde(skip)]
    pub predictions: BTreeMap<usize, E4Predictions>,
    /// The 2PL fit a BiIRT over the 2PL trained for each test length started from (empty
    /// for every other tester).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub start_priors: BTreeMap<usize, crate::bobcat_2pl::StartPriors>,
}

/// The query predictions of one test length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct E4Predictions {
    /// Predicted probability of a right answer.
    pub p: Vec<f64>,
    /// The recorded answer.
    pub y: Vec<bool>,
    /// The learner's index (answers of a learner contiguous).
    pub learner: Vec<u32>,
}

/// What one learner's test in one draw produced.
struct LearnerRun {
    /// Query predictions after each scored length, in `steps` order.
    p: Vec<Vec<f64>>,
    y: Vec<bool>,
    asked: Vec<ItemId>,
}

/// Replays one learner's test in one draw (offline: each asked item's recorded answer is
/// revealed): the learner's rows `rows` drawn into a pool and a query set by `seed`, then up
/// to `longest` items asked from the pool; `at(n, session, query rows)` sees the session
/// before any answer (`n = 0`) and after each.
pub(crate) fn replay<T: AdaptiveTester>(
    tester: &T,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    longest: usize,
    seed: u64,
    mut at: impl FnMut(usize, &T::Session, &[usize]),
) -> Replayed<T::Session> {
    let draw = pool_and_query(rows, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED);
    let mut pool = draw.pool;
    let mut pool_items: Vec<ItemId> = pool.iter().map(|&r| data.items()[r]).collect();
    let mut session = tester.start();
    let (mut asked, mut rows) = (Vec::new(), Vec::new());
    at(0, &session, &draw.query);
    while asked.len() < longest && !pool.is_empty() {
        let pick = tester.choose(&session, &pool_items, &mut rng).min(pool.len() - 1);
        let row = pool.swap_remove(pick);
        pool_items.swap_remove(pick);
        tester.observe(&mut session, &data.interaction(row));
        asked.push(data.items()[row]);
        rows.push(row);
        at(asked.len(), &session, &draw.query);
    }
    Replayed { session, query: draw.query, asked, rows }
}

/// A replayed test: the session at its end, the query rows, the items asked and their rows.
pub(crate) struct Replayed<S> {
    pub session: S,
    pub query: Vec<usize>,
    pub asked: Vec<ItemId>,
    pub rows: Vec<usize>,
}

fn run_learner<T: AdaptiveTester>(
    tester: &T,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    steps: &[usize],
    seed: u64,
) -> LearnerRun {
    let score = |session: &T::Session, query: &[usize]| {
        query.iter().map(|&r| tester.predict(session, data.items()[r]).get()).collect::<Vec<_>>()
    };
    let longest = steps.iter().copied().max().unwrap_or(0);
    let mut predictions: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let run = replay(tester, data, rows, longest, seed, |n, session, query| {
        if steps.contains(&n) {
            predictions.insert(n, score(session, query));
        }
    });
    // A pool shorter than a test length scores the longest test it allowed: the whole pool.
    let whole_pool = score(&run.session, &run.query);
    LearnerRun {
        p: steps.iter().map(|s| predictions.get(s).cloned().unwrap_or_else(|| whole_pool.clone())).collect(),
        y: run.query.iter().map(|&r| data.correct()[r]).collect(),
        asked: run.asked,
    }
}

/// Runs E4 for `tester` on the learners of `data` (first attempts, model ids), learners in
/// parallel; the result does not depend on the thread count.
pub fn run_e4<T: AdaptiveTester>(tester: &T, data: &Dataset, settings: &E4Settings) -> E4Outcome {
    let learners: Vec<_> = data.learners().collect();
    let n_steps = settings.steps.len();
    let mut auc = vec![0.0; n_steps];
    let mut acc = vec![0.0; n_steps];
    let (mut exposure, mut overlap, mut n_query) = (0.0, 0.0, 0);
    let draws = settings.draws.max(1);
    let mut all_runs = Vec::with_capacity(draws);
    for draw in 0..draws {
        let runs: Vec<LearnerRun> = learners
            .par_iter()
            .enumerate()
            .map(|(k, rows)| {
                run_learner(tester, data, rows.clone(), &settings.steps, draw_seed(settings.seed, draw, k))
            })
            .collect();
        let y: Vec<bool> = runs.iter().flat_map(|r| r.y.iter().copied()).collect();
        n_query = y.len();
        for s in 0..n_steps {
            let p: Vec<f64> = runs.iter().flat_map(|r| r.p[s].iter().copied()).collect();
            auc[s] += metrics::auc(&p, &y) / draws as f64;
            acc[s] += metrics::accuracy(&p, &y) / draws as f64;
        }
        let (e, o) = exposure_and_overlap(runs.iter().map(|r| r.asked.as_slice()));
        exposure += e / draws as f64;
        overlap += o / draws as f64;
        all_runs.push(runs);
    }
    let mut predictions: BTreeMap<usize, E4Predictions> = BTreeMap::new();
    for (s, &n) in settings.steps.iter().enumerate() {
        let out = predictions.entry(n).or_default();
        for k in 0..learners.len() {
            for runs in &all_runs {
                let r = &runs[k];
                out.p.extend(&r.p[s]);
                out.y.extend(&r.y);
                out.learner.extend(std::iter::repeat_n(u32::try_from(k).unwrap_or(u32::MAX), r.y.len()));
            }
        }
    }
    E4Outcome {
        auc_at: settings.steps.iter().copied().zip(auc).collect(),
        accuracy_at: settings.steps.iter().copied().zip(acc).collect(),
        n_query,
        n_learners: learners.len(),
        max_exposure: exposure,
        mean_overlap: overlap,
        predictions,
        start_priors: BTreeMap::new(),
    }
}

/// The position of an item drawn uniformly from the `k` highest `scores` (the highest when
/// `k ≤ 1`; ties keep the earlier position).
pub fn pick_top(scores: &[f64], k: usize, rng: &mut StdRng) -> usize {
    if k <= 1 {
        return (0..scores.len()).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order[rand::RngExt::random_range(rng, 0..k.min(order.len()).max(1))]
}

/// The largest item exposure rate and the test overlap rate of a set of tests: with `N` tests
/// of mean length `L` and `r_i` the share of tests holding item `i`,
/// `T = N / (N − 1) · Σ r_i² / L − 1 / (N − 1)`.
pub fn exposure_and_overlap<'a>(tests: impl Iterator<Item = &'a [ItemId]>) -> (f64, f64) {
    let mut count: BTreeMap<ItemId, usize> = BTreeMap::new();
    let (mut n, mut total) = (0usize, 0usize);
    for t in tests {
        n += 1;
        total += t.len();
        for &i in t {
            *count.entry(i).or_default() += 1;
        }
    }
    if n == 0 || total == 0 {
        return (0.0, 0.0);
    }
    let nf = n as f64;
    let max = count.values().copied().max().unwrap_or(0) as f64 / nf;
    if n < 2 {
        return (max, 1.0);
    }
    let length = total as f64 / nf;
    let sum_sq: f64 = count.values().map(|&c| (c as f64 / nf).powi(2)).sum();
    (max, (nf / (nf - 1.0) * sum_sq / length - 1.0 / (nf - 1.0)).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Predicts from how many answers it has read, so a prediction tells the test's length.
    struct Counter;

    impl AdaptiveTester for Counter {
        type Session = usize;
        fn start(&self) -> usize {
            0
        }
        fn choose(&self, _: &usize, _: &[ItemId], _: &mut StdRng) -> usize {
            0
        }
        fn observe(&self, read: &mut usize, _: &Interaction<'_>) {
            *read += 1;
        }
        fn predict(&self, read: &usize, _: ItemId) -> Probability {
            Probability::new(*read as f64 / 100.0)
        }
    }

    /// One learner of 25 answers: a pool of 20, a query of 5. A length past the pool scores
    /// the whole pool; the others score their own length.
    #[test]
    fn a_length_past_the_pool_scores_the_whole_pool() {
        let mut b = attune_core::DatasetBuilder::default();
        let s = b.student("s");
        for i in 0..25 {
            let item = b.item(&format!("i{i}"));
            b.push_row(s, item, &[], i % 2 == 0, i64::from(i));
        }
        let data = b.finish();
        let run = run_learner(&Counter, &data, 0..25, &[1, 3, 1000], 7);
        assert_eq!(run.y.len(), 5);
        let read: Vec<f64> = run.p.iter().map(|p| (p[0] * 100.0).round()).collect();
        assert_eq!(read, [1.0, 3.0, 20.0]);
        assert_eq!(run.asked.len(), 20);
    }

    #[test]
    fn overlap_is_one_for_identical_tests_and_zero_for_disjoint_ones() {
        let a = [ItemId(1), ItemId(2)];
        let b = [ItemId(3), ItemId(4)];
        let (e, o) = exposure_and_overlap([&a[..], &a[..], &a[..]].into_iter());
        assert_eq!(e, 1.0);
        assert!((o - 1.0).abs() < 1e-12);
        let (e, o) = exposure_and_overlap([&a[..], &b[..]].into_iter());
        assert_eq!(e, 0.5);
        assert!(o.abs() < 1e-12);
        // Two tests of two items sharing one: overlap 1/2.
        let c = [ItemId(1), ItemId(5)];
        let (_, o) = exposure_and_overlap([&a[..], &c[..]].into_iter());
        assert!((o - 0.5).abs() < 1e-12, "{o}");
    }
}
