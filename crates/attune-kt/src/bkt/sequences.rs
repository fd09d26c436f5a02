//! Per-skill observation sequences, deduplicated: many learners share short sequences (one
//! wrong answer, "1 1 1"), so EM runs over each distinct sequence once, weighted by its count.

use std::collections::HashMap;

use attune_core::{Dataset, ItemId};

/// The observation sequences of one skill.
#[derive(Debug, Default)]
pub(super) struct SkillSequences {
    /// Steps of all sequences, concatenated: `local_item << 1 | correct`.
    pub(super) steps: Vec<u32>,
    /// `steps[offsets[k]..offsets[k + 1]]` is sequence `k`.
    pub(super) offsets: Vec<usize>,
    /// How many learners have sequence `k`.
    pub(super) weights: Vec<f64>,
    /// Items of this skill, by local index.
    pub(super) items: Vec<ItemId>,
    /// Number of observations (with multiplicity).
    pub(super) n_obs: f64,
    /// Length of the longest sequence.
    pub(super) max_len: usize,
}

/// Splits a dataset into deduplicated per-skill sequences.
pub(super) fn by_skill(data: &Dataset, n_skills: usize) -> Vec<SkillSequences> {
    // Per learner, per skill: the steps in order.
    let mut raw: Vec<HashMap<Vec<u32>, f64>> = vec![HashMap::new(); n_skills];
    let mut local: Vec<HashMap<ItemId, u32>> = vec![HashMap::new(); n_skills];
    let mut items: Vec<Vec<ItemId>> = vec![Vec::new(); n_skills];
    let mut current: HashMap<u32, Vec<u32>> = HashMap::new();
    for rows in data.learners() {
        current.clear();
        for i in rows {
            let obs = data.interaction(i);
            for &s in obs.skills {
                let k = s.index();
                let next = u32::try_from(items[k].len()).unwrap_or(u32::MAX);
                let li = *local[k].entry(obs.item).or_insert_with(|| {
                    items[k].push(obs.item);
                    next
                });
                current.entry(s.0).or_default().push(li << 1 | u32::from(obs.correct));
            }
        }
        for (s, seq) in current.drain() {
            *raw[s as usize].entry(seq).or_insert(0.0) += 1.0;
        }
    }
    raw.into_iter()
        .zip(items)
        .map(|(map, items)| {
            let mut seqs: Vec<(Vec<u32>, f64)> = map.into_iter().collect();
            // Deterministic order, so fits do not depend on hash seeds.
            seqs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut out = SkillSequences { items, offsets: vec![0], ..Default::default() };
            for (seq, w) in seqs {
                out.max_len = out.max_len.max(seq.len());
                out.n_obs += w * seq.len() as f64;
                out.steps.extend_from_slice(&seq);
                out.offsets.push(out.steps.len());
                out.weights.push(w);
            }
            out
        })
        .collect()
}
