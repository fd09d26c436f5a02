use crate::{Dataset, Interaction, ItemId, Probability, Progress, SkillId};

/// Predicts a learner's next answers and updates that belief one interaction at a time.
///
/// A fitted student model (BKT, IRT, PFA, DKT, …) implements this; the learner's belief lives
/// in `State`, so one model serves any number of learners and the service can keep a state per
/// learner and update it per answer without replaying the history.
pub trait KnowledgeTracer: Send + Sync {
    /// What the model believes about one learner.
    type State: Clone + Send + Sync;

    /// The belief about a learner who has answered nothing yet.
    fn initial_state(&self) -> Self::State;

    /// Folds one observed answer into the belief.
    fn update(&self, state: &mut Self::State, obs: &Interaction<'_>);

    /// The probability that the learner answers `item` correctly now.
    fn predict(&self, state: &Self::State, item: ItemId) -> Probability;

    /// The probability that the learner answers the item of `obs` correctly, before seeing the
    /// answer. Models that use the skills recorded with the interaction (rather than those they
    /// stored for the item) override this; the default asks [`KnowledgeTracer::predict`].
    fn predict_interaction(&self, state: &Self::State, obs: &Interaction<'_>) -> Probability {
        self.predict(state, obs.item)
    }

    /// The learner's **mastery** of `skill`: the probability of answering a typical item of
    /// the skill correctly now (for BKT `P(L)(1 − slip) + (1 − P(L)) guess`; for IRT and the
    /// logistic models the mean over the skill's items; for the neural models the skill's
    /// logit without any item's own offset). One meaning for every model, so that tables and
    /// dashboards can put models side by side and check mastery against answers.
    ///
    /// `None` for a skill the model does not know, or for models without skills.
    fn mastery(&self, _state: &Self::State, _skill: SkillId) -> Option<Probability> {
        None
    }

    /// The probability that the learner is in the *known* state of `skill`, for models with
    /// a latent binary knowledge state (the BKT family's `P(L)`); `None` for other models.
    /// Unlike [`KnowledgeTracer::mastery`] it does not include guessing and slipping.
    fn knowledge(&self, _state: &Self::State, _skill: SkillId) -> Option<Probability> {
        None
    }

    /// The belief after a whole history.
    fn replay<'a>(&self, history: impl IntoIterator<Item = Interaction<'a>>) -> Self::State {
        let mut s = self.initial_state();
        for obs in history {
            self.update(&mut s, &obs);
        }
        s
    }
}

/// A borrowed model traces as the model does (so an adapted learner may borrow a shared
/// model instead of copying it).
impl<T: KnowledgeTracer + ?Sized> KnowledgeTracer for &T {
    type State = T::State;

    fn initial_state(&self) -> Self::State {
        (**self).initial_state()
    }
    fn update(&self, state: &mut Self::State, obs: &Interaction<'_>) {
        (**self).update(state, obs);
    }
    fn predict(&self, state: &Self::State, item: ItemId) -> Probability {
        (**self).predict(state, item)
    }
    fn predict_interaction(&self, state: &Self::State, obs: &Interaction<'_>) -> Probability {
        (**self).predict_interaction(state, obs)
    }
    fn mastery(&self, state: &Self::State, skill: SkillId) -> Option<Probability> {
        (**self).mastery(state, skill)
    }
    fn knowledge(&self, state: &Self::State, skill: SkillId) -> Option<Probability> {
        (**self).knowledge(state, skill)
    }
}

/// A hyperparameter configuration that fits a student model to training data (configuration
/// → fitted model, as in linfa): the configuration is validated, the fit reports to a
/// [`Progress`] hook that may cancel it, and the fitted model's predictions are infallible.
pub trait Fit {
    /// The fitted model.
    type Model: KnowledgeTracer;
    /// Why a fit can fail (invalid configuration, empty data, cancellation).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Fits the model to `train`.
    ///
    /// # Errors
    /// The model's own error type, e.g. an out-of-range hyperparameter or a cancelled fit.
    fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<Self::Model, Self::Error>;
}

/// Predicts every interaction of `data` from the learner's earlier answers only (the
/// knowledge-tracing setting); returns one probability per row.
pub fn predict_sequence<T: KnowledgeTracer>(model: &T, data: &Dataset) -> Vec<Probability> {
    let mut out = vec![Probability::new(0.5); data.len()];
    for rows in data.learners() {
        let mut s = model.initial_state();
        for i in rows {
            let obs = data.interaction(i);
            out[i] = model.predict_interaction(&s, &obs);
            model.update(&mut s, &obs);
        }
    }
    out
}
