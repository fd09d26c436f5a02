//! What a reader writes a profile for.

use attune_core::{Dataset, Interaction, KnowledgeTracer};
use attune_kt::Irt;

use super::profile::{Answer, SkillRasch};
use crate::e5::Adapted;

/// What a reader writes a profile for: the base learner, how it reads answers and its query
/// loss as a function of the profile.
// Public in a private module: crate-private, yet nameable in the readers' public impls.
pub trait ProfileTarget: Clone + Send + Sync {
    /// The ordinary student model a profile writes.
    type Learner<'a>: KnowledgeTracer
    where
        Self: 'a;

    /// Parameters of a profile.
    fn width(&self) -> usize;
    /// Skills on the model's indices (an answer's `skill` is this for an item without one).
    fn n_skills(&self) -> usize;
    /// One answer as the readers see it; `previous` is the time of the learner's answer before.
    fn answer(&self, obs: &Interaction<'_>, previous: Option<i64>) -> Answer;
    /// The answer's residual under the population, what the encoders read.
    fn residual(&self, a: &Answer) -> f64;
    /// A training learner's profile from their whole history.
    fn fit_profile(&self, answers: &[Answer]) -> Vec<f64>;
    /// The mean query log-loss after reading `support` with `profile`; its gradient with
    /// respect to the profile is added to `grad`.
    fn query_loss(&self, profile: &[f64], support: &[Answer], query: &[Answer], grad: &mut [f64]) -> f64;
    /// The student model `profile` writes and the learner's state after reading `support`.
    fn adapted<'a>(&'a self, profile: &[f64], support: &[Interaction<'_>]) -> Adapted<Self::Learner<'a>>;

    /// A learner's answers in order.
    fn answers(&self, obs: &[Interaction<'_>]) -> Vec<Answer> {
        let mut prev = None;
        obs.iter()
            .map(|o| {
                let a = self.answer(o, prev);
                prev = Some(o.time);
                a
            })
            .collect()
    }

    /// Rows of a dataset as answers.
    fn rows(&self, data: &Dataset, rows: std::ops::Range<usize>) -> Vec<Answer> {
        let obs: Vec<Interaction<'_>> = data.interactions(rows).collect();
        self.answers(&obs)
    }
}

impl ProfileTarget for SkillRasch {
    type Learner<'a> = Irt;

    fn width(&self) -> usize {
        SkillRasch::width(self)
    }
    fn n_skills(&self) -> usize {
        self.n_skills
    }
    fn answer(&self, obs: &Interaction<'_>, previous: Option<i64>) -> Answer {
        SkillRasch::answer(self, obs, previous)
    }
    fn adapted(&self, profile: &[f64], support: &[Interaction<'_>]) -> Adapted<Irt> {
        SkillRasch::adapted(self, profile, support)
    }
    fn residual(&self, a: &Answer) -> f64 {
        SkillRasch::residual(self, a)
    }
    fn fit_profile(&self, answers: &[Answer]) -> Vec<f64> {
        SkillRasch::fit_profile(self, answers)
    }
    fn query_loss(&self, profile: &[f64], support: &[Answer], query: &[Answer], grad: &mut [f64]) -> f64 {
        SkillRasch::query_loss(self, profile, support, query, grad)
    }
}
