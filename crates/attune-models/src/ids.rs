//! The id maps a model file carries: the original item, skill and learner ids behind the
//! model's dense indices, and each item's skills. With them a model applies to any new log
//! that names items and skills as the training data did.

use std::collections::HashMap;

use attune_core::{Dataset, ItemId, SkillId, Vocab};
use serde::{Deserialize, Serialize};

/// Original ids by the model's dense index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdMaps {
    /// Item ids, by [`ItemId`].
    pub items: Vec<String>,
    /// Skill ids, by [`SkillId`].
    pub skills: Vec<String>,
    /// The training learners' ids.
    pub learners: Vec<String>,
    /// Skill indices of each item, by [`ItemId`] (the Q-matrix the model was trained with).
    pub item_skills: Vec<Vec<u32>>,
    /// Human-readable skill names where the data had them, by skill index.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub skill_names: HashMap<u32, String>,
}

/// What [`compact`] returns: the datasets on the ids they use, and those ids.
pub(crate) struct Compacted {
    pub(crate) sets: Vec<Dataset>,
    pub(crate) ids: IdMaps,
}

impl IdMaps {
    /// Number of items the model knows.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Number of skills the model knows.
    pub fn n_skills(&self) -> usize {
        self.skills.len()
    }

    /// The model's index of an original item id.
    pub fn item(&self, id: &str) -> Option<ItemId> {
        self.items.iter().position(|s| s == id).map(|i| ItemId(i as u32))
    }

    /// The model's index of an original skill id.
    pub fn skill(&self, id: &str) -> Option<SkillId> {
        self.skills.iter().position(|s| s == id).map(|i| SkillId(i as u32))
    }

    /// The id maps as a [`Vocab`] (learners left empty).
    pub fn vocab(&self) -> Vocab {
        let mut v = Vocab::default();
        for s in &self.items {
            v.items.intern(s);
        }
        for s in &self.skills {
            v.skills.intern(s);
        }
        v.item_skills = self.item_skills.iter().map(|s| s.iter().map(|&k| SkillId(k)).collect()).collect();
        v.skill_names = self.skill_names.iter().map(|(&k, n)| (SkillId(k), n.clone())).collect();
        v
    }

    /// `data` on the model's indices: items and skills the model knows take its index (found
    /// by original id), the others indices past the model's (which every model treats as
    /// unknown: see [`crate::FittedModel`]). Rows, learners and their order are unchanged;
    /// the skills recorded with each row are kept, so a log that tags an item with other
    /// skills than the training data did is predicted with the skills it gives.
    pub fn remap(&self, data: &Dataset) -> Dataset {
        let mut vocab = self.vocab();
        let src = data.vocab();
        for k in 0..src.n_students() {
            vocab.students.intern(src.students.name(k as u32).unwrap_or_default());
        }
        let items: Vec<ItemId> = (0..src.n_items())
            .map(|i| ItemId(vocab.items.intern(src.items.name(i as u32).unwrap_or_default())))
            .collect();
        let skills: Vec<SkillId> = (0..src.n_skills())
            .map(|s| SkillId(vocab.skills.intern(src.skills.name(s as u32).unwrap_or_default())))
            .collect();
        let map_skill = |s: SkillId| skills.get(s.index()).copied().unwrap_or(SkillId(u32::MAX));
        // Items new to the model take the skills the log gives them.
        for (i, &to) in items.iter().enumerate() {
            if to.index() >= self.n_items() {
                let given: Vec<SkillId> = src.skills_of(ItemId(i as u32)).iter().map(|&s| map_skill(s)).collect();
                vocab.set_item_skills_if_unknown(to, &given);
            }
        }
        for (s, name) in &src.skill_names {
            let to = map_skill(*s);
            vocab.skill_names.entry(to).or_insert_with(|| name.clone());
        }
        // Learners keep the log's own indices: the vocabulary's learners are the log's.
        let vocab = std::sync::Arc::new(vocab);
        data.map_ids(vocab, |i| items.get(i.index()).copied().unwrap_or(ItemId(u32::MAX)), |s| Some(map_skill(s)))
    }
}

/// The datasets `sets` (sharing one vocabulary) on the ids that occur in them, in the
/// vocabulary's order: a model knows the items and skills it was trained on and no others
/// (ids that a shared vocabulary holds only for a test split are not in its file), and
/// indices that occur keep their relative order, so a vocabulary whose training ids come
/// first is unchanged.
pub(crate) fn compact(sets: &[&Dataset]) -> Compacted {
    let Some(first) = sets.first() else { return Compacted { sets: Vec::new(), ids: IdMaps::default() } };
    let v = first.vocab();
    let (mut item_used, mut skill_used, mut learner_used) =
        (vec![false; v.n_items()], vec![false; v.n_skills()], vec![false; v.n_students()]);
    for d in sets {
        for i in 0..d.len() {
            let obs = d.interaction(i);
            if let Some(u) = item_used.get_mut(obs.item.index()) {
                *u = true;
            }
            for s in obs.skills {
                if let Some(u) = skill_used.get_mut(s.index()) {
                    *u = true;
                }
            }
            if let Some(u) = learner_used.get_mut(obs.student.index()) {
                *u = true;
            }
        }
    }
    // Skills of the Q-matrix of items that occur count as used too.
    for (i, used) in item_used.iter().enumerate() {
        if *used {
            for s in v.skills_of(ItemId(i as u32)) {
                if let Some(u) = skill_used.get_mut(s.index()) {
                    *u = true;
                }
            }
        }
    }
    let renumber = |used: &[bool]| {
        let mut next = 0u32;
        used.iter()
            .map(|&u| {
                u.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect::<Vec<Option<u32>>>()
    };
    let (item_to, skill_to) = (renumber(&item_used), renumber(&skill_used));
    let names = |interner: &attune_core::Interner, used: &[bool]| -> Vec<String> {
        used.iter()
            .enumerate()
            .filter(|(_, u)| **u)
            .map(|(k, _)| interner.name(k as u32).unwrap_or_default().to_owned())
            .collect()
    };
    let item_skills: Vec<Vec<u32>> = item_used
        .iter()
        .enumerate()
        .filter(|(_, u)| **u)
        .map(|(i, _)| v.skills_of(ItemId(i as u32)).iter().filter_map(|s| skill_to[s.index()]).collect())
        .collect();
    let ids = IdMaps {
        items: names(&v.items, &item_used),
        skills: names(&v.skills, &skill_used),
        learners: names(&v.students, &learner_used),
        item_skills,
        skill_names: v
            .skill_names
            .iter()
            .filter_map(|(s, n)| skill_to.get(s.index()).copied().flatten().map(|k| (k, n.clone())))
            .collect(),
    };
    let unchanged = item_used.iter().all(|&u| u) && skill_used.iter().all(|&u| u);
    let sets = sets
        .iter()
        .map(|d| {
            if unchanged {
                return (*d).clone();
            }
            let mut vocab = ids.vocab();
            vocab.students = d.vocab().students.clone();
            let item = |i: ItemId| item_to.get(i.index()).copied().flatten().map_or(ItemId(u32::MAX), ItemId);
            d.map_ids(std::sync::Arc::new(vocab), item, |s| skill_to.get(s.index()).copied().flatten().map(SkillId))
        })
        .collect();
    Compacted { sets, ids }
}
