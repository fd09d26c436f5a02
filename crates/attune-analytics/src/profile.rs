//! Per-learner analytics from a fitted student model: mastery trajectories, the predicted
//! next answer, learning rate, time on task, and the class mastery matrix.

use attune_core::{Dataset, ItemId, KnowledgeTracer, SkillId};
use rayon::prelude::*;
use serde::Serialize;

use crate::risk::{AtRiskRule, RiskReason};

/// A gap between two answers longer than this (seconds) is a break, not time on task.
pub const MAX_GAP_SECONDS: i64 = 600;

/// What the report says about one learner.
#[derive(Clone, Debug, Serialize)]
pub struct LearnerProfile {
    /// The learner's id in the source files.
    pub learner: String,
    /// Answers given.
    pub answers: usize,
    /// Share of correct answers.
    pub correct_rate: f64,
    /// Skills practised.
    pub skills_practised: usize,
    /// Mean final mastery over the skills practised.
    pub mean_mastery: f64,
    /// Predicted probability of a correct answer to the item the learner practised last (in
    /// a skill builder, the next item is on that skill), after all their answers.
    pub predicted_next: f64,
    /// Mean gain in mastery per practice opportunity, over skills practised at least twice
    /// (`None` if no skill was).
    pub learning_rate: Option<f64>,
    /// Seconds on task (gaps between answers, each capped at [`MAX_GAP_SECONDS`]), where the
    /// data have timestamps.
    pub time_on_task_seconds: Option<f64>,
    /// Why the learner is at risk, if they are.
    pub at_risk: Option<RiskReason>,
}

/// One step of a learner's mastery trajectory.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TrajectoryPoint {
    /// Index of the learner in [`Traces::profiles`].
    pub learner: u32,
    /// 1-based position of the answer in the learner's sequence.
    pub step: u32,
    /// The item answered.
    pub item: ItemId,
    /// A skill of the item (one point per skill of multi-skill items).
    pub skill: SkillId,
    /// Whether the answer was correct.
    pub correct: bool,
    /// The model's prediction before seeing the answer.
    pub predicted: f64,
    /// Mastery of `skill` after the answer.
    pub mastery: f64,
}

/// Everything traced from the learners of a dataset.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Traces {
    /// One profile per learner, in dataset order.
    pub profiles: Vec<LearnerProfile>,
    /// Final mastery of each learner (same order) on each skill they practised.
    pub mastery: Vec<Vec<(SkillId, f64)>>,
    /// Every step of every learner, learner by learner.
    pub trajectory: Vec<TrajectoryPoint>,
}

impl Traces {
    /// The steps of learner `k` (a binary search: the trajectory is in learner order).
    pub fn steps_of(&self, k: usize) -> &[TrajectoryPoint] {
        let k = u32::try_from(k).unwrap_or(u32::MAX);
        let from = self.trajectory.partition_point(|t| t.learner < k);
        let to = self.trajectory.partition_point(|t| t.learner <= k);
        &self.trajectory[from..to]
    }

    /// Learner `k`'s mastery of each of their `n` most practised skills after each answer on
    /// it, as `(answer number, mastery)` points, most practised first (ties in order of first
    /// practice).
    pub fn mastery_series(&self, k: usize, n: usize) -> Vec<(SkillId, Vec<(u32, f64)>)> {
        let mut by_skill: Vec<(SkillId, Vec<(u32, f64)>)> = Vec::new();
        for t in self.steps_of(k) {
            match by_skill.iter_mut().find(|e| e.0 == t.skill) {
                Some(e) => e.1.push((t.step, t.mastery)),
                None => by_skill.push((t.skill, vec![(t.step, t.mastery)])),
            }
        }
        by_skill.sort_by_key(|e| std::cmp::Reverse(e.1.len()));
        by_skill.truncate(n);
        by_skill
    }
}

/// One learner's profile, final mastery per skill, and trajectory.
type LearnerTrace = (LearnerProfile, Vec<(SkillId, f64)>, Vec<TrajectoryPoint>);

/// Mastery of a skill under any model: the model's own estimate where it has one (BKT),
/// otherwise the mean predicted success on (up to ten of) the skill's items.
struct Mastery {
    items_of_skill: Vec<Vec<ItemId>>,
}

impl Mastery {
    fn new(data: &Dataset) -> Self {
        let v = data.vocab();
        let mut items_of_skill = vec![Vec::new(); v.n_skills()];
        for (i, skills) in v.item_skills.iter().enumerate() {
            for s in skills {
                let list: &mut Vec<ItemId> = &mut items_of_skill[s.index()];
                if list.len() < 10 {
                    list.push(ItemId(u32::try_from(i).unwrap_or(u32::MAX)));
                }
            }
        }
        Self { items_of_skill }
    }

    fn of<T: KnowledgeTracer>(&self, model: &T, state: &T::State, skill: SkillId) -> f64 {
        if let Some(m) = model.mastery(state, skill) {
            return m.get();
        }
        let items = self.items_of_skill.get(skill.index()).map_or(&[][..], Vec::as_slice);
        if items.is_empty() {
            return 0.5;
        }
        items.iter().map(|&i| model.predict(state, i).get()).sum::<f64>() / items.len() as f64
    }
}

/// Traces every learner of `data` through `model` (learners in parallel).
pub fn trace_learners<T: KnowledgeTracer>(model: &T, data: &Dataset, rule: &AtRiskRule) -> Traces {
    let mastery = Mastery::new(data);
    let learners: Vec<_> = data.learners().enumerate().collect();
    let per: Vec<LearnerTrace> =
        learners.into_par_iter().map(|(k, rows)| trace_one(model, &mastery, data, rule, k, rows)).collect();
    let mut out = Traces::default();
    for (p, m, t) in per {
        out.profiles.push(p);
        out.mastery.push(m);
        out.trajectory.extend(t);
    }
    out
}

fn trace_one<T: KnowledgeTracer>(
    model: &T,
    mastery: &Mastery,
    data: &Dataset,
    rule: &AtRiskRule,
    k: usize,
    rows: std::ops::Range<usize>,
) -> LearnerTrace {
    let mut state = model.initial_state();
    let mut trajectory = Vec::with_capacity(rows.len());
    // Per skill: (mastery before the first practice, practices, latest mastery).
    let mut per_skill: Vec<(SkillId, f64, u32, f64)> = Vec::new();
    let learner = u32::try_from(k).unwrap_or(u32::MAX);
    for (step, i) in rows.clone().enumerate() {
        let obs = data.interaction(i);
        let predicted = model.predict_interaction(&state, &obs).get();
        let before: Vec<f64> = obs.skills.iter().map(|&s| mastery.of(model, &state, s)).collect();
        model.update(&mut state, &obs);
        for (&s, before) in obs.skills.iter().zip(before) {
            let after = mastery.of(model, &state, s);
            match per_skill.iter_mut().find(|e| e.0 == s) {
                Some(e) => {
                    e.2 += 1;
                    e.3 = after;
                }
                None => per_skill.push((s, before, 1, after)),
            }
            trajectory.push(TrajectoryPoint {
                learner,
                step: u32::try_from(step + 1).unwrap_or(u32::MAX),
                item: obs.item,
                skill: s,
                correct: obs.correct,
                predicted,
                mastery: after,
            });
        }
    }
    let answers: Vec<bool> = data.correct()[rows.clone()].to_vec();
    let final_mastery: Vec<(SkillId, f64)> = per_skill.iter().map(|e| (e.0, e.3)).collect();
    let mean_mastery = if final_mastery.is_empty() {
        0.0
    } else {
        final_mastery.iter().map(|e| e.1).sum::<f64>() / final_mastery.len() as f64
    };
    let gains: Vec<f64> = per_skill.iter().filter(|e| e.2 >= 2).map(|e| (e.3 - e.1) / f64::from(e.2)).collect();
    let learning_rate = (!gains.is_empty()).then(|| gains.iter().sum::<f64>() / gains.len() as f64);
    let predicted_next = rows.clone().last().map_or(0.5, |i| model.predict(&state, data.items()[i]).get());
    let time_on_task_seconds = data
        .has_timestamps()
        .then(|| data.times()[rows.clone()].windows(2).map(|w| (w[1] - w[0]).clamp(0, MAX_GAP_SECONDS) as f64).sum());
    let at_risk = rule.assess(&answers, mean_mastery);
    let learner_id = data.vocab().students.name(data.students()[rows.start].0).unwrap_or("?").to_owned();
    let profile = LearnerProfile {
        learner: learner_id,
        answers: answers.len(),
        correct_rate: answers.iter().filter(|&&c| c).count() as f64 / answers.len().max(1) as f64,
        skills_practised: per_skill.len(),
        mean_mastery,
        predicted_next,
        learning_rate,
        time_on_task_seconds,
        at_risk,
    };
    (profile, final_mastery, trajectory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use attune_core::{DatasetBuilder, NoProgress};

    #[test]
    fn time_on_task_sums_gaps_capped_at_a_break() {
        let mut b = DatasetBuilder::default();
        b.sort_by_time(true);
        b.timestamps(true);
        let (s, i, k) = (b.student("ann"), b.item("q"), b.skill("add"));
        // gaps: 30 s, 2 h (a break, counted as 600 s), 45 s
        for t in [0, 30, 30 + 7200, 30 + 7200 + 45] {
            b.push_row(s, i, &[k], true, t);
        }
        let data = b.finish();
        assert!(data.has_timestamps());
        let model =
            attune_kt::BktConfig { seed: 1, ..attune_kt::BktConfig::default() }.fit(&data, &NoProgress).unwrap();
        let t = trace_learners(&model, &data, &AtRiskRule::default());
        assert_eq!(t.profiles[0].time_on_task_seconds, Some(30.0 + 600.0 + 45.0));
        assert_eq!(t.trajectory.len(), 4);
        assert!(t.profiles[0].learning_rate.is_some());
    }

    #[test]
    fn each_learner_has_their_own_steps_and_series() {
        let mut b = DatasetBuilder::default();
        let (q, r) = (b.item("q"), b.item("r"));
        let (add, sub) = (b.skill("add"), b.skill("sub"));
        // ann: 2 answers on add; bob: 3 on sub and 1 on add; cy: 1 on sub.
        for (name, rows) in [
            ("ann", vec![(q, add), (q, add)]),
            ("bob", vec![(r, sub), (q, add), (r, sub), (r, sub)]),
            ("cy", vec![(r, sub)]),
        ] {
            let s = b.student(name);
            for (t, (i, k)) in rows.into_iter().enumerate() {
                b.push_row(s, i, &[k], t % 2 == 0, t as i64);
            }
        }
        let data = b.finish();
        let model =
            attune_kt::BktConfig { seed: 1, ..attune_kt::BktConfig::default() }.fit(&data, &NoProgress).unwrap();
        let t = trace_learners(&model, &data, &AtRiskRule::default());
        let lens: Vec<usize> = (0..3).map(|k| t.steps_of(k).len()).collect();
        assert_eq!(lens, vec![2, 4, 1]);
        assert!((0..3).all(|k| t.steps_of(k).iter().all(|p| p.learner as usize == k)));
        assert!(t.steps_of(3).is_empty());
        let bob = t.mastery_series(1, 5);
        assert_eq!(bob.iter().map(|(s, v)| (*s, v.len())).collect::<Vec<_>>(), vec![(sub, 3), (add, 1)]);
        assert_eq!(bob[0].1.iter().map(|p| p.0).collect::<Vec<_>>(), vec![1, 3, 4], "answer numbers");
        assert_eq!(t.mastery_series(1, 1).len(), 1);
    }
}
