//! One type for every fitted model and one for every learner state.

use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, SkillId};
use attune_kt::{Bkt, BktState, CountsModel, Elo, EloState, Irt, IrtState, LearnerCounts};
use attune_nn::{Akt, AktState, Dkt, DktState, Dkvmn, DkvmnState, Sakt, SaktState};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{IdMaps, ModelName, ModelSpec};

/// The fitted parameters of any model.
// One is held per model, never in bulk: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// BKT and its variants.
    Bkt(Bkt),
    /// IRT 1PL, 2PL, MIRT.
    Irt(Irt),
    /// PFA, Best-LR.
    Counts(CountsModel),
    /// Elo.
    Elo(Elo),
    /// DKT.
    Dkt(Dkt),
    /// DKVMN.
    Dkvmn(Dkvmn),
    /// SAKT.
    Sakt(Sakt),
    /// AKT.
    Akt(Akt),
}

/// What any model believes about one learner.
///
/// Every variant is bounded by the model, not by the learner's history: BKT a probability
/// per skill; IRT the ability and its precision; PFA/Best-LR counts per skill (and per item
/// answered, for Best-LR); Elo a rating; DKT the LSTM's hidden and cell vectors; DKVMN its
/// value memory; SAKT and AKT their attention window (at most `window` answers) and its
/// cache. [`crate::FittedModel::encode_state`] writes it as data.
#[derive(Clone, Debug, PartialEq)]
pub enum LearnerState {
    /// P(known) per skill.
    Bkt(BktState),
    /// Ability and precision.
    Irt(IrtState),
    /// Practice counts.
    Counts(LearnerCounts),
    /// Rating.
    Elo(EloState),
    /// LSTM state.
    Dkt(DktState),
    /// Value memory.
    Dkvmn(DkvmnState),
    /// Attention window.
    Sakt(SaktState),
    /// Attention window.
    Akt(AktState),
}

/// Calls `$body` with the concrete model and state bound to `$m` and `$s` when the state
/// belongs to the model, `$mismatch` otherwise.
macro_rules! with_state {
    ($model:expr, $state:expr, |$m:ident, $s:ident| $body:expr, $mismatch:expr) => {
        match ($model, $state) {
            (Model::Bkt($m), LearnerState::Bkt($s)) => $body,
            (Model::Irt($m), LearnerState::Irt($s)) => $body,
            (Model::Counts($m), LearnerState::Counts($s)) => $body,
            (Model::Elo($m), LearnerState::Elo($s)) => $body,
            (Model::Dkt($m), LearnerState::Dkt($s)) => $body,
            (Model::Dkvmn($m), LearnerState::Dkvmn($s)) => $body,
            (Model::Sakt($m), LearnerState::Sakt($s)) => $body,
            (Model::Akt($m), LearnerState::Akt($s)) => $body,
            _ => $mismatch,
        }
    };
}

impl Model {
    /// A model's prediction for a state of another model (a programming error: states come
    /// from [`KnowledgeTracer::initial_state`] or [`crate::FittedModel::decode_state`]).
    fn mismatch(&self) -> Probability {
        debug_assert!(false, "a learner state of another model");
        Probability::new(0.5)
    }
}

impl KnowledgeTracer for Model {
    type State = LearnerState;

    fn initial_state(&self) -> LearnerState {
        match self {
            Self::Bkt(m) => LearnerState::Bkt(m.initial_state()),
            Self::Irt(m) => LearnerState::Irt(m.initial_state()),
            Self::Counts(m) => LearnerState::Counts(m.initial_state()),
            Self::Elo(m) => LearnerState::Elo(m.initial_state()),
            Self::Dkt(m) => LearnerState::Dkt(m.initial_state()),
            Self::Dkvmn(m) => LearnerState::Dkvmn(m.initial_state()),
            Self::Sakt(m) => LearnerState::Sakt(m.initial_state()),
            Self::Akt(m) => LearnerState::Akt(m.initial_state()),
        }
    }

    fn update(&self, state: &mut LearnerState, obs: &Interaction<'_>) {
        with_state!(self, state, |m, s| m.update(s, obs), debug_assert!(false, "a learner state of another model"));
    }

    fn predict(&self, state: &LearnerState, item: ItemId) -> Probability {
        with_state!(self, state, |m, s| m.predict(s, item), self.mismatch())
    }

    fn predict_interaction(&self, state: &LearnerState, obs: &Interaction<'_>) -> Probability {
        with_state!(self, state, |m, s| m.predict_interaction(s, obs), self.mismatch())
    }

    fn mastery(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        with_state!(self, state, |m, s| m.mastery(s, skill), None)
    }

    fn knowledge(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        with_state!(self, state, |m, s| m.knowledge(s, skill), None)
    }
}

/// A fitted model with everything needed to use it on new data: its name and full
/// configuration, the id maps back to the original ids, and what it was fitted on.
///
/// Unknown ids at predict/update time (ids past [`IdMaps`], as [`IdMaps::remap`] gives
/// them): an unknown item takes the population prior of its model (BKT, PFA, DKT, DKVMN,
/// SAKT and AKT predict it from the skills the answer is tagged with, or the training
/// correct rate when none is known; IRT and Elo give it the mean item difficulty; Best-LR
/// leaves out its item terms); an answer on an unknown skill leaves BKT, PFA/Best-LR skill
/// counts and the neural states unchanged (IRT and Elo update on the item alone). No model
/// indexes past its tables or allocates by an id's size.
#[derive(Clone, Debug)]
pub struct FittedModel {
    /// The model and its full configuration.
    pub spec: ModelSpec,
    /// The fitted parameters.
    pub model: Model,
    /// Original ids behind the model's indices.
    pub ids: IdMaps,
    /// What the model was fitted on and how well it fitted.
    pub training: crate::TrainingRecord,
}

impl FittedModel {
    /// The model's name.
    pub fn name(&self) -> ModelName {
        self.spec.model
    }

    /// Predicts every interaction of `data` (on the model's indices: see [`IdMaps::remap`])
    /// from the learner's earlier answers, learners in parallel.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        match &self.model {
            Model::Dkt(m) => m.predict_dataset(data),
            Model::Dkvmn(m) => m.predict_dataset(data),
            Model::Sakt(m) => m.predict_dataset(data),
            Model::Akt(m) => m.predict_dataset(data),
            Model::Bkt(m) => predict_parallel(m, data),
            Model::Irt(m) => predict_parallel(m, data),
            Model::Counts(m) => predict_parallel(m, data),
            Model::Elo(m) => predict_parallel(m, data),
        }
    }

    /// Each learner's state after all their answers in `data` (on the model's indices),
    /// learners in parallel, in the order of [`Dataset::learners`].
    pub fn final_states(&self, data: &Dataset) -> Vec<LearnerState> {
        let learners: Vec<_> = data.learners().collect();
        learners.into_par_iter().map(|rows| self.model.replay(data.interactions(rows))).collect()
    }

    /// The learner's mastery of every skill the model knows ([`KnowledgeTracer::mastery`]:
    /// the probability of a right answer on a typical item of the skill), by skill index.
    /// Models without their own skill-level read-out (IRT, Elo, PFA, Best-LR) average their
    /// prediction over the skill's items.
    pub fn mastery_profile(&self, state: &LearnerState) -> Vec<Option<Probability>> {
        self.mastery_profile_of(&self.model, state)
    }

    /// [`FittedModel::mastery_profile`] under `model`, a model on this one's ids (a learner's
    /// adaptation of it, say) in place of its own.
    pub fn mastery_profile_of(&self, model: &Model, state: &LearnerState) -> Vec<Option<Probability>> {
        let n = self.ids.n_skills();
        if matches!(model, Model::Bkt(_) | Model::Dkt(_) | Model::Dkvmn(_) | Model::Sakt(_) | Model::Akt(_)) {
            return (0..n).map(|s| model.mastery(state, SkillId(s as u32))).collect();
        }
        let mut sum = vec![0.0; n];
        let mut count = vec![0u32; n];
        for (i, skills) in self.ids.item_skills.iter().enumerate() {
            if skills.is_empty() {
                continue;
            }
            let p = model.predict(state, ItemId(i as u32)).get();
            for &s in skills {
                if let (Some(t), Some(c)) = (sum.get_mut(s as usize), count.get_mut(s as usize)) {
                    *t += p;
                    *c += 1;
                }
            }
        }
        sum.iter().zip(&count).map(|(&t, &c)| (c > 0).then(|| Probability::new(t / f64::from(c)))).collect()
    }

    /// The mastery of one skill (see [`FittedModel::mastery_profile`]).
    pub fn mastery(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        if let Some(m) = self.model.mastery(state, skill) {
            return Some(m);
        }
        let (mut sum, mut n) = (0.0, 0u32);
        for (i, skills) in self.ids.item_skills.iter().enumerate() {
            if skills.contains(&skill.0) {
                sum += self.model.predict(state, ItemId(i as u32)).get();
                n += 1;
            }
        }
        (n > 0).then(|| Probability::new(sum / f64::from(n)))
    }
}

impl KnowledgeTracer for FittedModel {
    type State = LearnerState;

    fn initial_state(&self) -> LearnerState {
        self.model.initial_state()
    }
    fn update(&self, state: &mut LearnerState, obs: &Interaction<'_>) {
        self.model.update(state, obs);
    }
    fn predict(&self, state: &LearnerState, item: ItemId) -> Probability {
        self.model.predict(state, item)
    }
    fn predict_interaction(&self, state: &LearnerState, obs: &Interaction<'_>) -> Probability {
        self.model.predict_interaction(state, obs)
    }
    fn mastery(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        FittedModel::mastery(self, state, skill)
    }
    fn knowledge(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        self.model.knowledge(state, skill)
    }
}

/// [`attune_core::predict_sequence`] with learners spread over threads.
pub fn predict_parallel<T: KnowledgeTracer>(model: &T, data: &Dataset) -> Vec<Probability> {
    let learners: Vec<_> = data.learners().collect();
    let per: Vec<Vec<Probability>> = learners
        .par_iter()
        .map(|rows| {
            let mut s = model.initial_state();
            rows.clone()
                .map(|i| {
                    let obs = data.interaction(i);
                    let p = model.predict_interaction(&s, &obs);
                    model.update(&mut s, &obs);
                    p
                })
                .collect()
        })
        .collect();
    per.concat()
}
