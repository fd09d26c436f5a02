//! Strategy selection in adaptive testing (protocol E4). The test itself is IRT-Active's:
//! each next item the one whose chance of a right answer under the learner's MAP ability is
//! nearest one half, so every candidate reads the same answers. What the strategy chooses per
//! learner is the *response model* that predicts the query from those answers: each candidate
//! is a learner over the Rasch model (`irt1pl:none`, a meta-learner, a reader trained on
//! IRT-Active's tests), and the selector reads how well each candidate predicted each answer
//! before it was revealed.
//!
//! The selector is fitted on the validation learners' tests (several pool/query draws each,
//! seeded apart from the test draws), the margin cross-fitted on halves of learners.

use std::sync::atomic::{AtomicUsize, Ordering};

use attune_core::Progress;
use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, SkillId, StudentId, metrics};
use attune_models::{FittedModel, ModelName};
use attune_policy::cat::{Estimator, Selector as Rule};
use rand::rngs::StdRng;
use rayon::prelude::*;

use super::selector::{head, log_loss};
use super::{Candidate, Features, Selector, Strategy, StrategySpec};
use crate::e4::{AdaptiveTester, replay};
use crate::e5::{Adapted, MetaLearner};
use crate::file::Trained;
use crate::irt_cat::{IrtSession, IrtTester};
use crate::irt_meta::MetaConfig;
use crate::protocol::E5Model;
use crate::readers::ReaderModel;
use crate::tasks::draw_seed;
use crate::tracer::AdaptedModel;
use crate::tracer::train_tracer;
use crate::{Error, Result};

/// Pool/query draws per validation learner the selector is fitted on.
const VALIDATION_DRAWS: usize = 5;

/// Keeps the validation draws apart from the test draws of the same seed.
const VALIDATION_SALT: u64 = 0x7E57_5E1E;

/// One answer kept by a reading (an [`Interaction`] borrows its skills).
#[derive(Clone, Debug)]
struct Kept {
    student: StudentId,
    item: ItemId,
    skills: Vec<SkillId>,
    correct: bool,
    time: i64,
}

impl Kept {
    fn interaction(&self) -> Interaction<'_> {
        Interaction {
            student: self.student,
            item: self.item,
            skills: &self.skills,
            correct: self.correct,
            time: self.time,
        }
    }
}

/// A learner's answers as every candidate reads them, one at a time: each answer is first
/// predicted by each candidate adapted to the answers before it (the prequential loss), then
/// every candidate adapts to all of them.
pub(crate) struct Reading<'s> {
    strategy: &'s Strategy,
    answers: Vec<Kept>,
    adapted: Vec<Adapted<AdaptedModel<'s>>>,
    /// Per candidate, the summed log-loss of its predictions before each answer.
    loss: Vec<f64>,
    /// Per candidate, its mean prediction on the answered items after reading them all.
    belief: Vec<f64>,
    chosen: usize,
}

impl<'s> Reading<'s> {
    pub(crate) fn new(strategy: &'s Strategy) -> Self {
        let n = strategy.candidates.len();
        Self {
            strategy,
            answers: Vec::new(),
            adapted: strategy.candidates.iter().map(|c| c.adapt(&[])).collect(),
            loss: vec![0.0; n],
            belief: vec![0.5; n],
            chosen: strategy.selector.reference.min(n.saturating_sub(1)),
        }
    }

    /// A reading of `support`, in order.
    pub(crate) fn of(strategy: &'s Strategy, support: &[Interaction<'_>]) -> Self {
        let mut r = Self::new(strategy);
        support.iter().for_each(|a| r.read(a));
        r
    }

    pub(crate) fn read(&mut self, answer: &Interaction<'_>) {
        for (loss, a) in self.loss.iter_mut().zip(&self.adapted) {
            *loss += log_loss(a.model.predict_interaction(&a.state, answer).get(), answer.correct);
        }
        self.answers.push(Kept {
            student: answer.student,
            item: answer.item,
            skills: answer.skills.to_vec(),
            correct: answer.correct,
            time: answer.time,
        });
        let support: Vec<Interaction<'_>> = self.answers.iter().map(Kept::interaction).collect();
        for (c, candidate) in self.strategy.candidates.iter().enumerate() {
            let a = candidate.adapt(&support);
            let sum: f64 = support.iter().map(|o| a.model.predict_interaction(&a.state, o).get()).sum();
            self.belief[c] = sum / support.len() as f64;
            self.adapted[c] = a;
        }
        let c = self.strategy.selector.choose(&self.features());
        self.chosen = c.min(self.adapted.len() - 1);
    }

    /// Bias, share right, trend, then per candidate its mean prequential log-loss and its
    /// mean prediction on the answered items after reading them.
    pub(crate) fn features(&self) -> Vec<f64> {
        let support: Vec<Interaction<'_>> = self.answers.iter().map(Kept::interaction).collect();
        let mut x = head(&support).to_vec();
        let n = self.answers.len().max(1) as f64;
        for (loss, belief) in self.loss.iter().zip(&self.belief) {
            x.push(loss / n);
            x.push(*belief);
        }
        x
    }

    /// The candidate chosen after the answers so far.
    pub(crate) fn chosen(&self) -> usize {
        self.chosen
    }

    /// Candidate `c` adapted to the answers so far.
    pub(crate) fn adapted(&self, c: usize) -> &Adapted<AdaptedModel<'s>> {
        &self.adapted[c.min(self.adapted.len() - 1)]
    }
}

/// A strategy as an E4 tester: IRT-Active's test, the query predicted by the candidate the
/// strategy chooses from the answers (or by one candidate throughout, with [`Self::only`]).
pub struct StrategyTester<'s> {
    strategy: &'s Strategy,
    active: IrtTester,
    only: Option<usize>,
    /// Tests that reached the strategy's length, by the candidate chosen at that length.
    chosen: Vec<AtomicUsize>,
}

/// One learner's test: IRT-Active's session and every candidate's reading.
pub struct StrategySession<'s> {
    active: IrtSession,
    reading: Reading<'s>,
}

impl<'s> StrategyTester<'s> {
    /// Tests with `strategy`, each next item drawn among the `randomesque` best by Active.
    ///
    /// # Errors
    /// [`Error::UnsupportedBase`] for candidates not over unidimensional IRT.
    pub fn new(strategy: &'s Strategy, randomesque: usize) -> Result<Self> {
        let base = &strategy.candidates.first().ok_or(Error::TooFewLearners { needed: 2, found: 0 })?.base;
        let active = IrtTester::new(base, Rule::Active, Estimator::Map)?.with_randomesque(randomesque);
        let chosen = strategy.candidates.iter().map(|_| AtomicUsize::new(0)).collect();
        Ok(Self { strategy, active, only: None, chosen })
    }

    /// Predicts with candidate `c` whatever the selector would choose.
    pub fn only(mut self, c: usize) -> Self {
        self.only = Some(c);
        self
    }

    /// Tests that reached the strategy's length, per candidate chosen.
    pub fn chosen_counts(&self) -> Vec<usize> {
        self.chosen.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }
}

impl<'s> AdaptiveTester for StrategyTester<'s> {
    type Session = StrategySession<'s>;

    fn start(&self) -> StrategySession<'s> {
        StrategySession { active: self.active.start(), reading: Reading::new(self.strategy) }
    }

    fn choose(&self, s: &StrategySession<'s>, pool: &[ItemId], rng: &mut StdRng) -> usize {
        self.active.choose(&s.active, pool, rng)
    }

    fn observe(&self, s: &mut StrategySession<'s>, answer: &Interaction<'_>) {
        self.active.observe(&mut s.active, answer);
        s.reading.read(answer);
        if s.reading.answers.len() == self.strategy.support {
            self.chosen[s.reading.chosen()].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn predict(&self, s: &StrategySession<'s>, item: ItemId) -> Probability {
        let a = s.reading.adapted(self.only.unwrap_or(s.reading.chosen()));
        a.model.predict(&a.state, item)
    }
}

/// One validation test: the features after it, each candidate's query predictions.
struct Episode {
    learner: usize,
    x: Vec<f64>,
    p: Vec<Vec<f64>>,
    y: Vec<bool>,
}

impl Strategy {
    /// Fits the selector of an E4 strategy over `candidates` (E5 learners over the Rasch model,
    /// trained for `n` answers) on tests of length `n` of the validation learners `valid` (on
    /// the candidates' ids); `seed` draws the tests and the margin's halves.
    ///
    /// # Errors
    /// Fewer than two candidates, candidates on different ids or not over the Rasch model, no
    /// validation learner with a query.
    pub fn train_for_tests(candidates: Vec<Candidate>, valid: &Dataset, n: usize, seed: u64) -> Result<Self> {
        Self::check_candidates(&candidates)?;
        if let Some(c) = candidates.iter().find(|c| crate::protocol::rasch(&c.base, "strategy").is_err()) {
            return Err(Error::UnsupportedBase {
                learner: "strategy (e4)",
                base: c.base.name().as_str().to_owned(),
                supported: "irt1pl",
            });
        }
        let mut strategy = Self {
            support: n,
            selector: Selector::never(0, candidates.len()),
            candidates,
            validation_auc: f64::NAN,
            candidate_auc: Vec::new(),
            features: Features::Candidates,
        };
        let episodes = validation_tests(&strategy, valid, n, seed)?;
        if episodes.is_empty() {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        let y: Vec<bool> = episodes.iter().flat_map(|e| e.y.iter().copied()).collect();
        let pooled = |pick: &dyn Fn(&Episode) -> usize| -> Vec<f64> {
            episodes.iter().flat_map(|e| e.p[pick(e)].iter().copied()).collect()
        };
        let c = strategy.candidates.len();
        strategy.candidate_auc = (0..c).map(|j| metrics::auc(&pooled(&|_| j), &y)).collect();
        let auc = &strategy.candidate_auc;
        let reference = (0..c).max_by(|&a, &b| auc[a].total_cmp(&auc[b]).then(b.cmp(&a))).unwrap_or(0);
        let x: Vec<Vec<f64>> = episodes.iter().map(|e| e.x.clone()).collect();
        let loss: Vec<Vec<f64>> =
            episodes.iter().map(|e| e.p.iter().map(|p| metrics::log_loss(p, &e.y)).collect()).collect();
        let groups: Vec<usize> = episodes.iter().map(|e| e.learner).collect();
        strategy.selector = Selector::train(reference, &x, &loss, &groups, seed);
        let s = &strategy.selector;
        strategy.validation_auc = metrics::auc(&pooled(&|e| s.choose(&e.x)), &y);
        Ok(strategy)
    }
}

/// Every validation learner's tests of length `n` (IRT-Active's), [`VALIDATION_DRAWS`] draws
/// each.
fn validation_tests(strategy: &Strategy, valid: &Dataset, n: usize, seed: u64) -> Result<Vec<Episode>> {
    let tester = StrategyTester::new(strategy, 1)?;
    let learners: Vec<_> = valid.learners().collect();
    Ok(learners
        .par_iter()
        .enumerate()
        .flat_map_iter(|(k, rows)| {
            let tester = &tester;
            (0..VALIDATION_DRAWS).filter_map(move |d| {
                let run = replay(tester, valid, rows.clone(), n, draw_seed(seed ^ VALIDATION_SALT, d, k), |_, _, _| {});
                if run.query.is_empty() {
                    return None;
                }
                let r = &run.session.reading;
                let p = (0..strategy.candidates.len())
                    .map(|c| {
                        let a = r.adapted(c);
                        run.query.iter().map(|&q| a.model.predict(&a.state, valid.items()[q]).get()).collect()
                    })
                    .collect();
                Some(Episode {
                    learner: k,
                    x: r.features(),
                    p,
                    y: run.query.iter().map(|&q| valid.correct()[q]).collect(),
                })
            })
        })
        .collect())
}

/// Trains every candidate of an E4 strategy (`specs`, checked by [`check_test_strategies`])
/// for tests of `n` answers over the Rasch model `base`, on `train`, choosing on `valid` (both
/// on the base's ids): a reader as protocol E4 trains it, on IRT-Active's tests
/// ([`ReaderModel::train_for_tests`]); any other learner as E5 trains it, on first answers.
///
/// # Errors
/// A base that is not the Rasch model, too few learners, cancellation.
pub fn train_test_candidates(
    specs: &[StrategySpec],
    base: &FittedModel,
    train: &Dataset,
    valid: &Dataset,
    n: usize,
    cfg: &MetaConfig,
    progress: &dyn Progress,
) -> Result<Vec<Candidate>> {
    check_test_strategies(specs)?;
    let irt = crate::protocol::rasch(base, "strategy (e4)")?;
    specs
        .iter()
        .map(|s| {
            let trained = match s.adaptation {
                E5Model::Reader(kind) => {
                    Some(Trained::Reader(ReaderModel::train_for_tests(kind, &irt, train, valid, n, cfg, progress)?))
                }
                other => train_tracer(other, base, train, valid, n, cfg, progress)?,
            };
            Ok(Candidate { name: s.to_string(), base: base.clone(), trained })
        })
        .collect()
}

/// Checks that every candidate of an E4 strategy is over the Rasch model: the test is
/// IRT-Active's, and each candidate reads it.
///
/// # Errors
/// [`Error::UnsupportedBase`] naming the first candidate over another base.
pub fn check_test_strategies(specs: &[StrategySpec]) -> Result<()> {
    match specs.iter().find(|s| s.base != ModelName::Irt1pl) {
        Some(s) => Err(Error::UnsupportedBase {
            learner: "strategy (e4)",
            base: s.to_string(),
            supported: "irt1pl:<adaptation> candidates (the test is IRT-Active's)",
        }),
        None => Ok(()),
    }
}
