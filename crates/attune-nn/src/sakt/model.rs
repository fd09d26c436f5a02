//! The fitted SAKT as a [`KnowledgeTracer`]: a learner's state is the window of answers the
//! next prediction attends to.

use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, SkillId};
use serde::{Deserialize, Serialize};

use super::config::SaktConfig;
use super::engine::Params;
use super::online::Cache;
use crate::EpochRecord;

/// A fitted SAKT model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sakt {
    /// The configuration it was trained with.
    pub config: SaktConfig,
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

/// A learner's recent answers `(skill, correct, item)` and how many answers came before them.
///
/// Attention spans one window of `W` positions. Answer `t` is predicted from the window that
/// starts at `max(0, (⌊t / S⌋ − 1) · S)` with `S = W / 2`: always at least `S` earlier answers
/// of context once there are that many, and windows that move by `S` at a time, so that a
/// whole dataset is predicted with two passes over each learner (see
/// [`Sakt::predict_dataset`]), with the same numbers as answer-by-answer use.
///
/// The state also caches every attention block's projected keys and values of the window, so
/// an answer costs one row per block and a prediction one query over the cache.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SaktState {
    answers: Vec<(u32, bool, u32)>,
    start: usize,
    cache: Cache,
}

impl Sakt {
    /// Skills known to the model.
    pub fn n_skills(&self) -> usize {
        self.params.n_skills
    }

    /// The epoch with the best validation AUC, if any was validated.
    pub fn best_epoch(&self) -> Option<&EpochRecord> {
        crate::batching::best_epoch(&self.history)
    }

    fn stride(&self) -> usize {
        (self.params.window() / 2).max(1)
    }

    /// Where the window predicting answer `t` starts.
    fn window_start(&self, t: usize) -> usize {
        crate::batching::window_start(t, self.stride())
    }

    fn skill_of(&self, item: ItemId) -> Option<usize> {
        crate::batching::item_skill(&self.item_skill, self.params.n_skills, item)
    }

    fn known(&self, skills: &[SkillId]) -> Option<usize> {
        crate::batching::known_skill(skills, self.params.n_skills)
    }

    fn prob(&self, state: &SaktState, skill: Option<usize>, item: ItemId) -> Probability {
        let Some(skill) = skill else { return Probability::new(self.base_rate) };
        let offset = self.params.b_item.get(item.index()).copied().unwrap_or(0.0);
        Probability::from_logit(f64::from(self.params.online_logit(&state.cache, skill, offset)))
    }

    /// The state holding `answers`, the first at position `start` of the learner's answers.
    fn state_of(&self, answers: &[(u32, bool, u32)], start: usize) -> SaktState {
        SaktState { answers: answers.to_vec(), start, cache: self.params.cache_of(answers) }
    }

    /// The probability of every answer in `data`, each predicted from the learner's earlier
    /// answers: what [`attune_core::predict_sequence`] returns, computed window by window
    /// (each window's answers in one pass) and learners in parallel.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        crate::batching::predict_learners(data, self.base_rate, |rows| self.predict_learner(data, rows))
    }

    fn predict_learner(&self, data: &Dataset, rows: std::ops::Range<usize>) -> Vec<(usize, Probability)> {
        let logits = |w: &[(u32, bool, u32)]| super::engine::window_logits(&self.params, w);
        // Answers whose skill the model does not know: predicted from the state before them.
        let other = |before: &[(u32, bool, u32)], from: usize, i: usize| {
            let item = data.items()[i];
            self.prob(&self.state_of(before, from), self.skill_of(item), item)
        };
        crate::batching::predict_learner(data, rows, self.params.n_skills, self.stride(), logits, other)
    }
}

impl SaktState {
    /// The answers the window holds, `(skill, correct, item)` in the model's indices, and the
    /// position of the first among all the learner's answers: the state's portable form (the
    /// attention cache is derived from it by [`Sakt::restore_state`]).
    pub fn window(&self) -> (&[(u32, bool, u32)], usize) {
        (&self.answers, self.start)
    }
}

impl Sakt {
    /// The state whose window holds `answers` from position `start` (see
    /// [`SaktState::window`]), its cache rebuilt; `None` unless the window is one this model
    /// could have reached: every skill known, and the window starting where it would after
    /// `start + answers.len()` answers.
    pub fn restore_state(&self, answers: &[(u32, bool, u32)], start: usize) -> Option<SaktState> {
        crate::batching::reachable_window(answers, start, self.params.n_skills, self.stride(), self.params.window())
            .then(|| self.state_of(answers, start))
    }
}

impl KnowledgeTracer for Sakt {
    type State = SaktState;

    fn initial_state(&self) -> SaktState {
        SaktState { answers: Vec::new(), start: 0, cache: self.params.empty_cache() }
    }

    fn update(&self, state: &mut SaktState, obs: &Interaction<'_>) {
        let Some(skill) = self.known(obs.skills) else { return };
        self.params.online_push(&mut state.cache, skill, obs.correct, state.answers.len());
        state.answers.push((skill as u32, obs.correct, obs.item.0));
        let t = state.start + state.answers.len();
        let from = self.window_start(t);
        if from > state.start {
            // The window moves on: positions change, so the cache is rebuilt (once every
            // window / 2 answers).
            *state = self.state_of(&state.answers[from - state.start..], from);
        }
    }

    fn predict(&self, state: &SaktState, item: ItemId) -> Probability {
        self.prob(state, self.skill_of(item), item)
    }

    fn predict_interaction(&self, state: &SaktState, obs: &Interaction<'_>) -> Probability {
        self.prob(state, self.known(obs.skills).or_else(|| self.skill_of(obs.item)), obs.item)
    }

    fn mastery(&self, state: &SaktState, skill: SkillId) -> Option<Probability> {
        // The skill asked through no item in particular: an index past every item's offset.
        (skill.index() < self.params.n_skills).then(|| self.prob(state, Some(skill.index()), ItemId(u32::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use attune_core::{DatasetBuilder, predict_sequence};

    use super::*;

    /// Whole-dataset prediction (two passes of windows) equals answer-by-answer use of the
    /// KnowledgeTracer (cached keys and values, rebuilt as the window moves), across window
    /// boundaries, with one and two blocks and with skills the model does not know.
    #[test]
    fn dataset_prediction_equals_replay() {
        let mut b = DatasetBuilder::default();
        let mut k = 7u32;
        for learner in 0..12u32 {
            for t in 0..[1usize, 3, 8, 9, 17, 30][learner as usize % 6] {
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let skill = (k >> 16) % 5; // skill index 4 is unknown to a 4-skill model
                let (u, i, s) =
                    (b.student(&format!("u{learner}")), b.item(&format!("i{skill}")), b.skill(&format!("s{skill}")));
                b.push_row(u, i, &[s], (k >> 9) % 3 != 1, t as i64);
            }
        }
        let data = b.finish();
        for blocks in [1, 2] {
            let mut params = Params::init(4, data.vocab().n_items(), 8, 2, blocks, 8, 3);
            params.b_item.iter_mut().enumerate().for_each(|(k, v)| *v = 0.3 * (k as f32).sin());
            let model = Sakt {
                config: SaktConfig { embedding: 8, heads: 2, blocks, window: 8, ..SaktConfig::default() },
                params,
                item_skill: crate::batching::item_skills(&data),
                base_rate: 0.6,
                history: Vec::new(),
                skill_ids: Vec::new(),
            };
            let batched = model.predict_dataset(&data);
            let replayed = predict_sequence(&model, &data);
            for (i, (a, b)) in batched.iter().zip(&replayed).enumerate() {
                assert!((a.get() - b.get()).abs() < 1e-5, "{blocks} blocks, row {i}: {} vs {}", a.get(), b.get());
            }
        }
    }
}
