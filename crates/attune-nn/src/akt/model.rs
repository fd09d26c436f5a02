//! The fitted AKT as a [`KnowledgeTracer`]: a learner's state is the window of answers the
//! next prediction attends to, with every layer's keys and values cached.

use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, SkillId};
use serde::{Deserialize, Serialize};

use super::config::AktConfig;
use super::engine::Params;
use super::online::Cache;
use crate::EpochRecord;

/// A fitted AKT model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Akt {
    /// The configuration it was trained with.
    pub config: AktConfig,
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
/// Answer `t` is predicted from the window that starts at `max(0, (⌊t / S⌋ − 1) · S)` with
/// `S = W / 2` (`W` the configured window), as SAKT's: at least `S` earlier answers of
/// context once there are that many, and whole datasets predicted in two passes of windows
/// with the same numbers as answer-by-answer use. The state caches every layer's keys and
/// values of the window, rebuilt when the window moves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AktState {
    answers: Vec<(u32, bool, u32)>,
    start: usize,
    cache: Cache,
}

impl Akt {
    /// Skills known to the model.
    pub fn n_skills(&self) -> usize {
        self.params.n_skills
    }

    /// The epoch with the best validation AUC, if any was validated.
    pub fn best_epoch(&self) -> Option<&EpochRecord> {
        crate::batching::best_epoch(&self.history)
    }

    /// The learned difficulty `μ` of an item (Rasch embeddings), if the model has one.
    pub fn difficulty(&self, item: ItemId) -> Option<f64> {
        self.params.mu.get(item.index()).map(|&m| f64::from(m))
    }

    fn stride(&self) -> usize {
        (self.params.window / 2).max(1)
    }

    fn skill_of(&self, item: ItemId) -> Option<usize> {
        crate::batching::item_skill(&self.item_skill, self.params.n_skills, item)
    }

    fn known(&self, skills: &[SkillId]) -> Option<usize> {
        crate::batching::known_skill(skills, self.params.n_skills)
    }

    fn prob(&self, state: &AktState, skill: Option<usize>, item: ItemId) -> Probability {
        let Some(skill) = skill else { return Probability::new(self.base_rate) };
        Probability::from_logit(f64::from(self.params.online_logit(&state.cache, skill, item.0)))
    }

    /// The state holding `answers`, the first at position `start` of the learner's answers.
    fn state_of(&self, answers: &[(u32, bool, u32)], start: usize) -> AktState {
        AktState { answers: answers.to_vec(), start, cache: self.params.cache_of(answers) }
    }

    /// The probability of every answer in `data`, each predicted from the learner's earlier
    /// answers: what [`attune_core::predict_sequence`] returns, computed window by window
    /// (each window's answers in one pass) and learners in parallel.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        let logits = |w: &[(u32, bool, u32)]| super::engine::window_logits(&self.params, w);
        let other = |before: &[(u32, bool, u32)], from: usize, i: usize| {
            let item = data.items()[i];
            self.prob(&self.state_of(before, from), self.skill_of(item), item)
        };
        crate::batching::predict_learners(data, self.base_rate, |rows| {
            crate::batching::predict_learner(data, rows, self.params.n_skills, self.stride(), logits, other)
        })
    }
}

impl AktState {
    /// The answers the window holds, `(skill, correct, item)` in the model's indices, and the
    /// position of the first among all the learner's answers: the state's portable form (the
    /// attention cache is derived from it by [`Akt::restore_state`]).
    pub fn window(&self) -> (&[(u32, bool, u32)], usize) {
        (&self.answers, self.start)
    }
}

impl Akt {
    /// The state whose window holds `answers` from position `start` (see
    /// [`AktState::window`]), its cache rebuilt; `None` unless the window is one this model
    /// could have reached: every skill known, and the window starting where it would after
    /// `start + answers.len()` answers.
    pub fn restore_state(&self, answers: &[(u32, bool, u32)], start: usize) -> Option<AktState> {
        crate::batching::reachable_window(answers, start, self.params.n_skills, self.stride(), self.params.window)
            .then(|| self.state_of(answers, start))
    }
}

impl KnowledgeTracer for Akt {
    type State = AktState;

    fn initial_state(&self) -> AktState {
        AktState::default()
    }

    fn update(&self, state: &mut AktState, obs: &Interaction<'_>) {
        let Some(skill) = self.known(obs.skills) else { return };
        self.params.online_push(&mut state.cache, skill, obs.correct, obs.item.0);
        state.answers.push((skill as u32, obs.correct, obs.item.0));
        let from = crate::batching::window_start(state.start + state.answers.len(), self.stride());
        if from > state.start {
            // The window moves on: the rows attend over a different past, so the cache is
            // rebuilt (once every window / 2 answers).
            *state = self.state_of(&state.answers[from - state.start..], from);
        }
    }

    fn predict(&self, state: &AktState, item: ItemId) -> Probability {
        self.prob(state, self.skill_of(item), item)
    }

    fn predict_interaction(&self, state: &AktState, obs: &Interaction<'_>) -> Probability {
        self.prob(state, self.known(obs.skills).or_else(|| self.skill_of(obs.item)), obs.item)
    }

    fn mastery(&self, state: &AktState, skill: SkillId) -> Option<Probability> {
        // The skill asked through no item in particular: an index past every item's
        // difficulty and offset, so both are zero.
        (skill.index() < self.params.n_skills).then(|| self.prob(state, Some(skill.index()), ItemId(u32::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use attune_core::{DatasetBuilder, predict_sequence};

    use super::super::engine::Shape;
    use super::*;

    /// Whole-dataset prediction (two passes of windows) equals answer-by-answer use of the
    /// KnowledgeTracer (cached keys and values, rebuilt as the window moves), across window
    /// boundaries, with and without Rasch embeddings and with skills the model does not know.
    #[test]
    fn dataset_prediction_equals_replay() {
        let mut b = DatasetBuilder::default();
        let mut k = 7u32;
        for learner in 0..12u32 {
            for t in 0..[1usize, 3, 8, 9, 17, 30][learner as usize % 6] {
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let skill = (k >> 16) % 5; // skill index 4 is unknown to a 4-skill model
                let item = skill * 2 + (k >> 20) % 2;
                let (u, i, s) =
                    (b.student(&format!("u{learner}")), b.item(&format!("i{item}")), b.skill(&format!("s{skill}")));
                b.push_row(u, i, &[s], (k >> 9) % 3 != 1, t as i64);
            }
        }
        let data = b.finish();
        for rasch in [true, false] {
            let n_items = data.vocab().n_items();
            let shape = Shape { n_skills: 4, n_items, d: 8, heads: 2, ff: 6, fc: (6, 4), window: 8, rasch };
            let mut params = Params::init(&shape, 3);
            params.b_item.iter_mut().enumerate().for_each(|(k, v)| *v = 0.3 * (k as f32).sin());
            params.mu.iter_mut().enumerate().for_each(|(k, v)| *v = 0.5 * (k as f32).cos());
            let model = Akt {
                config: AktConfig {
                    embedding: 8,
                    heads: 2,
                    ff: 6,
                    fc: (6, 4),
                    window: 8,
                    rasch,
                    ..AktConfig::default()
                },
                params,
                item_skill: crate::batching::item_skills(&data),
                base_rate: 0.6,
                history: Vec::new(),
                skill_ids: Vec::new(),
            };
            let batched = model.predict_dataset(&data);
            let replayed = predict_sequence(&model, &data);
            for (i, (a, b)) in batched.iter().zip(&replayed).enumerate() {
                assert!((a.get() - b.get()).abs() < 1e-5, "rasch {rasch}, row {i}: {} vs {}", a.get(), b.get());
            }
        }
    }
}
