//! Practice recommendation: the next item at a target probability of success, skipping what
//! the learner has mastered and what they are not ready for, with a reason a tutor can show.
//! Generic over any [`KnowledgeTracer`].

use attune_core::{ItemId, KnowledgeTracer, SkillId};
use serde::{Deserialize, Serialize};

use crate::graph::PrereqGraph;

/// How practice is chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PracticeConfig {
    /// Probability of success to aim at (default 0.7: hard enough to learn from, easy enough
    /// not to discourage).
    pub target: f64,
    /// A skill with mastery (or, for models without mastery, predicted success) at least this
    /// is mastered and not practised further (default 0.95).
    pub mastered: f64,
    /// A learner is ready for a skill when every prerequisite's mastery is at least this
    /// (default 0.6).
    pub ready: f64,
}

impl Default for PracticeConfig {
    fn default() -> Self {
        Self { target: 0.7, mastered: 0.95, ready: 0.6 }
    }
}

/// An item that may be recommended, with its skills.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// The item.
    pub item: ItemId,
    /// Its skills.
    pub skills: &'a [SkillId],
}

/// Prerequisites between skills: a graph whose node `k` is skill `SkillId(k)`.
#[derive(Clone, Copy, Debug)]
pub struct SkillPrerequisites<'a> {
    /// The graph.
    pub graph: &'a PrereqGraph,
}

/// Why an item was recommended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// The item's (first) skill.
    pub skill: Option<SkillId>,
    /// The learner's mastery of that skill, where the model estimates mastery.
    pub mastery: Option<f64>,
    /// Predicted probability of success.
    pub predicted: f64,
    /// The target it was chosen for.
    pub target: f64,
    /// Each prerequisite of the item's skills and the learner's mastery of it.
    pub prerequisites: Vec<(SkillId, Option<f64>)>,
    /// The reason in one sentence.
    pub text: String,
}

/// A recommendation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    /// The item to practise.
    pub item: ItemId,
    /// Why.
    pub reason: Reason,
}

fn skill_level<T: KnowledgeTracer>(model: &T, state: &T::State, skill: SkillId) -> Option<f64> {
    model.mastery(state, skill).map(|p| p.get())
}

/// The candidate whose predicted success is closest to the target, among those with an
/// unmastered skill whose prerequisites the learner is ready for; `None` if there is none.
pub fn recommend<T: KnowledgeTracer>(
    model: &T,
    state: &T::State,
    candidates: &[Candidate<'_>],
    prerequisites: Option<SkillPrerequisites<'_>>,
    config: &PracticeConfig,
) -> Option<Recommendation> {
    let mut best: Option<(f64, Recommendation)> = None;
    for c in candidates {
        let predicted = model.predict(state, c.item).get();
        let levels: Vec<Option<f64>> = c.skills.iter().map(|&s| skill_level(model, state, s)).collect();
        // Mastered: every skill at the mastery level (by mastery, or by predicted success for
        // models without a notion of mastery).
        let mastered = if levels.iter().all(Option::is_some) && !levels.is_empty() {
            levels.iter().all(|l| l.is_some_and(|l| l >= config.mastered))
        } else {
            predicted >= config.mastered
        };
        if mastered {
            continue;
        }
        let mut pre: Vec<(SkillId, Option<f64>)> = Vec::new();
        if let Some(p) = prerequisites {
            for s in c.skills {
                if s.index() >= p.graph.len() {
                    continue;
                }
                for &q in p.graph.prerequisites(s.index()) {
                    let q = SkillId(u32::try_from(q).unwrap_or(u32::MAX));
                    if !pre.iter().any(|e| e.0 == q) {
                        pre.push((q, skill_level(model, state, q)));
                    }
                }
            }
        }
        if pre.iter().any(|(_, l)| l.is_some_and(|l| l < config.ready)) {
            continue;
        }
        let gap = (predicted - config.target).abs();
        if best.as_ref().is_some_and(|(g, b)| *g < gap || (*g == gap && b.item < c.item)) {
            continue;
        }
        let skill = c.skills.first().copied();
        let mastery = skill.and_then(|s| skill_level(model, state, s));
        let text = describe(&c.item.to_string(), &|s| s.to_string(), skill, mastery, predicted, config.target, &pre);
        let reason = Reason { skill, mastery, predicted, target: config.target, prerequisites: pre, text };
        best = Some((gap, Recommendation { item: c.item, reason }));
    }
    best.map(|b| b.1)
}

impl Reason {
    /// The reason in one sentence, naming the item and skills as `item` and `skill_name` do
    /// (a service shows its own ids; [`Reason::text`] uses the model's indices).
    pub fn describe(&self, item: &str, skill_name: &dyn Fn(SkillId) -> String) -> String {
        describe(item, skill_name, self.skill, self.mastery, self.predicted, self.target, &self.prerequisites)
    }
}

fn describe(
    item: &str,
    skill_name: &dyn Fn(SkillId) -> String,
    skill: Option<SkillId>,
    mastery: Option<f64>,
    p: f64,
    target: f64,
    pre: &[(SkillId, Option<f64>)],
) -> String {
    let mut t = format!("item {item}");
    if let Some(s) = skill {
        t += &format!(" (skill {}", skill_name(s));
        if let Some(m) = mastery {
            t += &format!(", mastery {m:.2}");
        }
        t += ")";
    }
    t += &format!(": predicted success {p:.2}, closest to the target {target:.2}");
    if pre.is_empty() {
        t += "; no prerequisites";
    } else {
        let list: Vec<String> = pre
            .iter()
            .map(|(s, l)| match l {
                Some(l) => format!("skill {} {l:.2}", skill_name(*s)),
                None => format!("skill {} (not estimated)", skill_name(*s)),
            })
            .collect();
        t += &format!("; prerequisites ready: {}", list.join(", "));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use attune_core::{Interaction, Probability};

    /// Item k exercises skill k; predicted success = mastery of that skill.
    struct Fixed;
    impl KnowledgeTracer for Fixed {
        type State = Vec<f64>;
        fn initial_state(&self) -> Vec<f64> {
            Vec::new()
        }
        fn update(&self, _: &mut Vec<f64>, _: &Interaction<'_>) {}
        fn predict(&self, s: &Vec<f64>, item: ItemId) -> Probability {
            Probability::new(s[item.index()])
        }
        fn mastery(&self, s: &Vec<f64>, skill: SkillId) -> Option<Probability> {
            s.get(skill.index()).map(|&m| Probability::new(m))
        }
    }

    fn candidates(skills: &[[SkillId; 1]]) -> Vec<Candidate<'_>> {
        skills.iter().enumerate().map(|(i, s)| Candidate { item: ItemId(i as u32), skills: s }).collect()
    }

    #[test]
    fn picks_the_closest_to_target_skipping_mastered_and_unready_skills() {
        let skills: Vec<[SkillId; 1]> = (0..4).map(|k| [SkillId(k)]).collect();
        let c = candidates(&skills);
        let cfg = PracticeConfig::default();
        // skill 0 mastered (0.97), skill 1 at 0.72, skill 2 at 0.69 but needs skill 3 (0.3).
        let state = vec![0.97, 0.72, 0.69, 0.3];
        let names: Vec<String> = (0..4).map(|k| k.to_string()).collect();
        let graph = PrereqGraph::new(&names, &[("3".into(), "2".into())]);
        let with = recommend(&Fixed, &state, &c, Some(SkillPrerequisites { graph: &graph }), &cfg).unwrap();
        assert_eq!(with.item, ItemId(1));
        let without = recommend(&Fixed, &state, &c, None, &cfg).unwrap();
        assert_eq!(without.item, ItemId(2));
        assert!(without.reason.text.contains("predicted success 0.69"), "{}", without.reason.text);
        // Once skill 3 is ready, skill 2 is allowed, and its reason lists the prerequisite.
        let ready = vec![0.97, 0.72, 0.69, 0.8];
        let r = recommend(&Fixed, &ready, &c, Some(SkillPrerequisites { graph: &graph }), &cfg).unwrap();
        assert_eq!(r.item, ItemId(2));
        assert_eq!(r.reason.prerequisites, vec![(SkillId(3), Some(0.8))]);
        assert!(r.reason.text.contains("prerequisites ready: skill 3 0.80"), "{}", r.reason.text);
        // Everything mastered: nothing to practise.
        assert!(recommend(&Fixed, &vec![0.99; 4], &c, None, &cfg).is_none());
    }
}
