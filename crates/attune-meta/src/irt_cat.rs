//! E4's classic baseline: item parameters fitted on the training learners (IRT through the
//! model layer), a new learner's ability by MAP under the N(0, 1) prior after each answer,
//! and a selection rule from attune-policy (Random, Active, MFI, KLI).

use attune_core::{Interaction, ItemId, Probability};
use attune_kt::Irt;
use attune_models::{FittedModel, Model};
use attune_policy::cat::{BankItem, Estimate, Estimator, ItemBank, Selector};
use rand::rngs::StdRng;

use crate::e4::{AdaptiveTester, pick_top};
use crate::{Error, Result};

/// An IRT item bank with a selection rule and an ability estimator.
#[derive(Clone, Debug)]
pub struct IrtTester {
    bank: ItemBank,
    selector: Selector,
    estimator: Estimator,
    randomesque: usize,
}

/// A learner's test so far: answers by bank index and the current estimate.
#[derive(Clone, Debug)]
pub struct IrtSession {
    answers: Vec<(usize, bool)>,
    estimate: Estimate,
}

impl IrtTester {
    /// The bank of a fitted unidimensional IRT model (1PL or 2PL): `σ(a θ − b)` becomes the
    /// bank's `σ(a (θ − b / a))`; one extra item with the mean difficulty stands for items the
    /// model has not seen.
    ///
    /// # Errors
    /// [`Error::UnsupportedBase`] for a model that is not unidimensional IRT.
    pub fn new(model: &FittedModel, selector: Selector, estimator: Estimator) -> Result<Self> {
        Self::from_irt(unidimensional(model)?, selector, estimator).ok_or_else(|| Error::UnsupportedBase {
            learner: "irt tester",
            base: model.name().as_str().to_owned(),
            supported: "irt1pl, irt2pl",
        })
    }

    /// [`IrtTester::new`] on the IRT model itself; `None` unless it is unidimensional.
    pub(crate) fn from_irt(irt: &Irt, selector: Selector, estimator: Estimator) -> Option<Self> {
        let mut bank = ItemBank::from_irt(irt)?;
        bank.items.push(BankItem { a: 1.0, b: irt.mean_difficulty, c: 0.0 });
        Some(Self { bank, selector, estimator, randomesque: 1 })
    }

    /// Draws each next item among the `k` best (exposure control; 1 asks the best).
    pub fn with_randomesque(mut self, k: usize) -> Self {
        self.randomesque = k.max(1);
        self
    }

    fn index(&self, item: ItemId) -> usize {
        item.index().min(self.bank.len() - 1)
    }
}

/// The IRT model inside a fitted model, if it has one ability dimension.
pub(crate) fn unidimensional(model: &FittedModel) -> Result<&Irt> {
    match &model.model {
        Model::Irt(irt) if irt.config.dims == 1 => Ok(irt),
        _ => Err(Error::UnsupportedBase {
            learner: "irt tester",
            base: model.name().as_str().to_owned(),
            supported: "irt1pl, irt2pl",
        }),
    }
}

impl AdaptiveTester for IrtTester {
    type Session = IrtSession;

    fn start(&self) -> IrtSession {
        IrtSession { answers: Vec::new(), estimate: Estimate::PRIOR }
    }

    fn choose(&self, s: &IrtSession, pool: &[ItemId], rng: &mut StdRng) -> usize {
        let scores: Vec<f64> = pool
            .iter()
            .map(|&item| self.selector.score(&self.bank, self.index(item), s.estimate, s.answers.len(), rng))
            .collect();
        pick_top(&scores, self.randomesque, rng)
    }

    fn observe(&self, s: &mut IrtSession, answer: &Interaction<'_>) {
        s.answers.push((self.index(answer.item), answer.correct));
        s.estimate = self.estimator.estimate(&self.bank, &s.answers, s.estimate);
    }

    fn predict(&self, s: &IrtSession, item: ItemId) -> Probability {
        Probability::new(self.bank.items[self.index(item)].p(s.estimate.theta))
    }
}
