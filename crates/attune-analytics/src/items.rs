//! Per-item and per-skill statistics: IRT difficulty and discrimination, BKT parameters with
//! their meaning, coverage, and the items and skills that behave oddly.

use std::collections::HashMap;

use attune_core::{Dataset, SkillId};
use attune_kt::{Bkt, Irt};
use serde::Serialize;

/// Answers an item needs before its discrimination is judged.
pub const MIN_ANSWERS_FOR_FLAGS: u32 = 20;

/// One item.
#[derive(Clone, Debug, Serialize)]
pub struct ItemStats {
    /// The item's id in the source files.
    pub item: String,
    /// Answers.
    pub answers: u32,
    /// Share correct.
    pub correct_rate: f64,
    /// 2PL difficulty `b` (higher = harder).
    pub difficulty: f64,
    /// 2PL discrimination `a` (how sharply success rises with ability).
    pub discrimination: f64,
    /// Why the item looks odd, if it does: `negative discrimination` (abler learners fail it
    /// more often: a miskeyed or misleading item).
    pub flags: Vec<&'static str>,
}

/// One skill.
#[derive(Clone, Debug, Serialize)]
pub struct SkillStats {
    /// The skill's dense id in the dataset.
    #[serde(skip)]
    pub id: SkillId,
    /// The skill's id in the source files.
    pub skill: String,
    /// Its name, where the dataset ships names.
    pub name: Option<String>,
    /// Answers on the skill.
    pub answers: u32,
    /// Learners who practised it.
    pub learners: u32,
    /// Share of all learners who practised it.
    pub coverage: f64,
    /// Share of correct answers.
    pub correct_rate: f64,
    /// BKT P(known before practice).
    pub prior: Option<f64>,
    /// BKT P(learn per opportunity).
    pub learn: Option<f64>,
    /// BKT P(correct | not known).
    pub guess: Option<f64>,
    /// BKT P(wrong | known).
    pub slip: Option<f64>,
    /// BKT P(forget per opportunity) (0 unless fitted with forgetting).
    pub forget: Option<f64>,
    /// Why the skill's BKT fit looks odd, if it does.
    pub flags: Vec<&'static str>,
}

/// Per-item statistics from a fitted IRT model (2PL for discriminations).
pub fn item_stats(irt: &Irt, data: &Dataset) -> Vec<ItemStats> {
    let v = data.vocab();
    let mut counts = vec![(0u32, 0u32); v.n_items()];
    for (item, &c) in data.items().iter().zip(data.correct()) {
        counts[item.index()].0 += 1;
        counts[item.index()].1 += u32::from(c);
    }
    let d = irt.config.dims;
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.0 > 0)
        .map(|(i, &(n, correct))| {
            let difficulty = irt.difficulty.get(i).copied().unwrap_or(0.0);
            let discrimination = irt.discrimination.get(i * d).copied().unwrap_or(1.0);
            let mut flags = Vec::new();
            if n >= MIN_ANSWERS_FOR_FLAGS && discrimination < 0.0 {
                flags.push("negative discrimination");
            }
            ItemStats {
                item: v.items.name(u32::try_from(i).unwrap_or(u32::MAX)).unwrap_or("?").to_owned(),
                answers: n,
                correct_rate: f64::from(correct) / f64::from(n),
                difficulty,
                discrimination,
                flags,
            }
        })
        .collect()
}

/// Per-skill statistics from a fitted BKT model; `names` maps source skill ids to names.
pub fn skill_stats(bkt: &Bkt, data: &Dataset, names: &HashMap<String, String>) -> Vec<SkillStats> {
    let v = data.vocab();
    let n_skills = v.n_skills();
    let mut answers = vec![(0u32, 0u32); n_skills];
    let mut learners = vec![0u32; n_skills];
    let mut last_learner = vec![usize::MAX; n_skills];
    for (k, rows) in data.learners().enumerate() {
        for i in rows {
            for s in data.skills(i) {
                answers[s.index()].0 += 1;
                answers[s.index()].1 += u32::from(data.correct()[i]);
                if last_learner[s.index()] != k {
                    last_learner[s.index()] = k;
                    learners[s.index()] += 1;
                }
            }
        }
    }
    let total_learners = data.n_learners().max(1) as f64;
    let bound = bkt.config.max_guess_slip - 1e-9;
    (0..n_skills)
        .filter(|&k| answers[k].0 > 0)
        .map(|k| {
            let id = v.skills.name(u32::try_from(k).unwrap_or(u32::MAX)).unwrap_or("?").to_owned();
            let p = bkt.skills.get(k).and_then(Option::as_ref);
            let mut flags = Vec::new();
            if let Some(p) = p {
                if p.guess >= 1.0 - p.slip {
                    flags.push("degenerate: guess >= 1 - slip");
                }
                if p.guess >= bound {
                    flags.push("guess at its bound");
                }
                if p.slip >= bound {
                    flags.push("slip at its bound");
                }
                if p.guess > p.slip {
                    flags.push("guess above slip");
                }
                if p.learn < 0.01 {
                    flags.push("no learning");
                }
            }
            SkillStats {
                id: SkillId(u32::try_from(k).unwrap_or(u32::MAX)),
                name: names.get(&id).cloned(),
                skill: id,
                answers: answers[k].0,
                learners: learners[k],
                coverage: f64::from(learners[k]) / total_learners,
                correct_rate: f64::from(answers[k].1) / f64::from(answers[k].0),
                prior: p.map(|p| p.prior),
                learn: p.map(|p| p.learn),
                guess: p.map(|p| p.guess),
                slip: p.map(|p| p.slip),
                forget: p.map(|p| p.forget),
                flags,
            }
        })
        .collect()
}

/// A skill's label for charts and tables: its name where known, else its id.
pub fn skill_label(data: &Dataset, names: &HashMap<String, String>, skill: SkillId) -> String {
    let id = data.vocab().skills.name(skill.0).unwrap_or("?");
    match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => format!("skill {id}"),
    }
}
