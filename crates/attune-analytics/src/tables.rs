//! Every report table as CSV and as JSON (the JSON keeps nested fields; the CSV flattens them).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::report::{Report, write_file};
use crate::risk::RiskReason;
use crate::{Error, Result};

#[derive(Serialize)]
struct LearnerRow<'a> {
    learner: &'a str,
    answers: usize,
    correct_rate: f64,
    skills_practised: usize,
    mean_mastery: f64,
    predicted_next: f64,
    learning_rate: Option<f64>,
    time_on_task_seconds: Option<f64>,
    at_risk: &'static str,
    learner_type: Option<&'a str>,
}

#[derive(Serialize)]
struct TypeRow<'a> {
    learner_type: &'a str,
    learners: usize,
    share: f64,
    learning_rate: f64,
    skill: &'a str,
    name: Option<&'a str>,
    mastery: f64,
}

#[derive(Serialize)]
struct SkillRow<'a> {
    skill: &'a str,
    name: Option<&'a str>,
    answers: u32,
    learners: u32,
    coverage: f64,
    correct_rate: f64,
    prior: Option<f64>,
    learn: Option<f64>,
    guess: Option<f64>,
    slip: Option<f64>,
    forget: Option<f64>,
    flags: String,
}

#[derive(Serialize)]
struct ItemRow<'a> {
    item: &'a str,
    answers: u32,
    correct_rate: f64,
    difficulty: f64,
    discrimination: f64,
    flags: String,
}

#[derive(Serialize)]
struct CurveRow<'a> {
    skill: &'a str,
    opportunity: u32,
    answers: u32,
    errors: u32,
    error_rate: f64,
    fitted_error_rate: Option<f64>,
}

#[derive(Serialize)]
struct MasteryRow<'a> {
    learner: &'a str,
    skill: &'a str,
    mastery: f64,
}

#[derive(Serialize)]
struct TrajectoryRow<'a> {
    learner: &'a str,
    step: u32,
    item: &'a str,
    skill: &'a str,
    correct: u8,
    predicted: f64,
    mastery_after: f64,
}

#[derive(Serialize)]
struct RiskRow<'a> {
    learner: &'a str,
    answers: usize,
    reason: &'static str,
    mean_mastery: f64,
    recent_rate: Option<f64>,
    previous_rate: Option<f64>,
}

fn reason_name(r: Option<&RiskReason>) -> &'static str {
    match r {
        None => "",
        Some(RiskReason::LowMastery { .. }) => "low mastery",
        Some(RiskReason::Stalled { .. }) => "stalled",
    }
}

fn write_table<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<Vec<PathBuf>> {
    let csv_path = dir.join(format!("{name}.csv"));
    let encode =
        |path: &Path, e: &dyn std::fmt::Display| Error::Encode { path: path.to_owned(), message: e.to_string() };
    let mut w = csv::Writer::from_path(&csv_path).map_err(|e| encode(&csv_path, &e))?;
    for r in rows {
        w.serialize(r).map_err(|e| encode(&csv_path, &e))?;
    }
    w.flush().map_err(|source| Error::Io { path: csv_path.clone(), source })?;
    let json_path = dir.join(format!("{name}.json"));
    let json = serde_json::to_vec(rows).map_err(|e| encode(&json_path, &e))?;
    Ok(vec![csv_path, write_file(&json_path, &json)?])
}

/// Writes every table of `r` into `dir`.
pub(crate) fn write_all(r: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    let p = &r.traces.profiles;
    let skill_id = |s: attune_core::SkillId| r.skill_ids.get(s.index()).map_or("?", String::as_str);
    let mut out = Vec::new();
    let type_of = r.learner_type_names();
    let learners: Vec<LearnerRow<'_>> = p
        .iter()
        .map(|l| LearnerRow {
            learner: &l.learner,
            answers: l.answers,
            correct_rate: l.correct_rate,
            skills_practised: l.skills_practised,
            mean_mastery: l.mean_mastery,
            predicted_next: l.predicted_next,
            learning_rate: l.learning_rate,
            time_on_task_seconds: l.time_on_task_seconds,
            at_risk: reason_name(l.at_risk.as_ref()),
            learner_type: type_of.get(l.learner.as_str()).copied(),
        })
        .collect();
    out.extend(write_table(dir, "learners", &learners)?);
    if let Some(lt) = &r.learner_types {
        let names = r.skill_names_by_id();
        let rows: Vec<TypeRow<'_>> = lt
            .types
            .iter()
            .flat_map(|t| {
                t.mastery.iter().map(|(skill, m)| TypeRow {
                    learner_type: &t.name,
                    learners: t.learners,
                    share: t.share,
                    learning_rate: t.learning_rate,
                    skill,
                    name: names.get(skill.as_ref() as &str).copied(),
                    mastery: *m,
                })
            })
            .collect();
        out.extend(write_table(dir, "learner_types", &rows)?);
    }
    let skills: Vec<SkillRow<'_>> = r
        .skills
        .iter()
        .map(|s| SkillRow {
            skill: &s.skill,
            name: s.name.as_deref(),
            answers: s.answers,
            learners: s.learners,
            coverage: s.coverage,
            correct_rate: s.correct_rate,
            prior: s.prior,
            learn: s.learn,
            guess: s.guess,
            slip: s.slip,
            forget: s.forget,
            flags: s.flags.join("; "),
        })
        .collect();
    out.extend(write_table(dir, "skills", &skills)?);
    let items: Vec<ItemRow<'_>> = r
        .items
        .iter()
        .map(|i| ItemRow {
            item: &i.item,
            answers: i.answers,
            correct_rate: i.correct_rate,
            difficulty: i.difficulty,
            discrimination: i.discrimination,
            flags: i.flags.join("; "),
        })
        .collect();
    out.extend(write_table(dir, "items", &items)?);
    let curves: Vec<CurveRow<'_>> = r
        .curves
        .iter()
        .flat_map(|c| {
            let skill = c.skill.map_or("all", skill_id);
            c.points.iter().map(move |pt| CurveRow {
                skill,
                opportunity: pt.opportunity,
                answers: pt.n,
                errors: pt.errors,
                error_rate: pt.error_rate,
                fitted_error_rate: c.fit.map(|f| f.at(f64::from(pt.opportunity))),
            })
        })
        .collect();
    out.extend(write_table(dir, "learning_curves", &curves)?);
    let mastery: Vec<MasteryRow<'_>> = p
        .iter()
        .zip(&r.traces.mastery)
        .flat_map(|(l, m)| {
            m.iter().map(move |&(s, v)| MasteryRow { learner: &l.learner, skill: skill_id(s), mastery: v })
        })
        .collect();
    out.extend(write_table(dir, "mastery", &mastery)?);
    let risk: Vec<RiskRow<'_>> = p
        .iter()
        .filter_map(|l| {
            let reason = l.at_risk.as_ref()?;
            let (recent, previous) = match reason {
                RiskReason::Stalled { recent_rate, previous_rate } => (Some(*recent_rate), Some(*previous_rate)),
                RiskReason::LowMastery { .. } => (None, None),
            };
            Some(RiskRow {
                learner: &l.learner,
                answers: l.answers,
                reason: reason_name(Some(reason)),
                mean_mastery: l.mean_mastery,
                recent_rate: recent,
                previous_rate: previous,
            })
        })
        .collect();
    out.extend(write_table(dir, "at_risk", &risk)?);
    let trajectory: Vec<TrajectoryRow<'_>> = r
        .traces
        .trajectory
        .iter()
        .map(|t| TrajectoryRow {
            learner: &p[t.learner as usize].learner,
            step: t.step,
            item: r.item_ids.get(t.item.index()).map_or("?", String::as_str),
            skill: skill_id(t.skill),
            correct: u8::from(t.correct),
            predicted: t.predicted,
            mastery_after: t.mastery,
        })
        .collect();
    out.extend(write_table(dir, "trajectories", &trajectory)?);
    Ok(out)
}
