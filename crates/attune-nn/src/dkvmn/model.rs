//! The fitted DKVMN as a [`KnowledgeTracer`]: a learner's state is the value memory, read to
//! predict and written once per answer.

use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, SkillId};
use serde::{Deserialize, Serialize};

use super::config::DkvmnConfig;
use super::engine::Params;
use crate::EpochRecord;

/// A fitted DKVMN model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Dkvmn {
    /// The configuration it was trained with.
    pub config: DkvmnConfig,
    pub(crate) params: Params,
    /// First skill of each item ([`ItemId`] index), `u32::MAX` when it has none.
    pub item_skill: Vec<u32>,
    /// Correct rate of the training data, predicted for items without a known skill.
    pub base_rate: f64,
    /// One record per training epoch.
    #[serde(default)]
    pub history: Vec<EpochRecord>,
    /// Source ids of the skills, by the model's skill index.
    #[serde(default)]
    pub skill_ids: Vec<String>,
}

/// A learner's value memory, `[slots, embedding]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DkvmnState {
    /// The memory, row by slot.
    pub memory: Vec<f32>,
}

impl Dkvmn {
    /// Skills known to the model.
    pub fn n_skills(&self) -> usize {
        self.params.n_skills
    }

    /// The epoch with the best validation AUC, if any was validated.
    pub fn best_epoch(&self) -> Option<&EpochRecord> {
        crate::batching::best_epoch(&self.history)
    }

    fn skill_of(&self, item: ItemId) -> Option<usize> {
        crate::batching::item_skill(&self.item_skill, self.params.n_skills, item)
    }

    fn known(&self, skills: &[SkillId]) -> Option<usize> {
        crate::batching::known_skill(skills, self.params.n_skills)
    }

    fn prob(&self, state: &DkvmnState, skill: Option<usize>, item: Option<ItemId>) -> Probability {
        let Some(q) = skill else { return Probability::new(self.base_rate) };
        let offset = item.and_then(|i| self.params.b_item.get(i.index())).copied().unwrap_or(0.0);
        Probability::from_logit(f64::from(self.params.logit(&state.memory, q, offset)))
    }

    /// The probability of every answer in `data`, each from the learner's earlier answers
    /// ([`attune_core::predict_sequence`]), learners in parallel.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        crate::batching::predict_learners(data, self.base_rate, |rows| {
            let mut state = self.initial_state();
            rows.map(|i| {
                let obs = data.interaction(i);
                let p = self.predict_interaction(&state, &obs);
                self.update(&mut state, &obs);
                (i, p)
            })
            .collect()
        })
    }
}

impl KnowledgeTracer for Dkvmn {
    type State = DkvmnState;

    fn initial_state(&self) -> DkvmnState {
        DkvmnState { memory: self.params.m_value0.clone() }
    }

    fn update(&self, state: &mut DkvmnState, obs: &Interaction<'_>) {
        if let Some(q) = self.known(obs.skills) {
            self.params.write(&mut state.memory, q, obs.correct);
        }
    }

    fn predict(&self, state: &DkvmnState, item: ItemId) -> Probability {
        self.prob(state, self.skill_of(item), Some(item))
    }

    fn predict_interaction(&self, state: &DkvmnState, obs: &Interaction<'_>) -> Probability {
        self.prob(state, self.known(obs.skills).or_else(|| self.skill_of(obs.item)), Some(obs.item))
    }

    fn mastery(&self, state: &DkvmnState, skill: SkillId) -> Option<Probability> {
        (skill.index() < self.params.n_skills).then(|| self.prob(state, Some(skill.index()), None))
    }
}
