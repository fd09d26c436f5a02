//! One learner: mastery per skill over time, their learning curve beside the class's, recent
//! answers with the probability the model gave each before it was seen, the next items to
//! practise and why, and the learner's type where a meta-learner provides one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use askama::Template;
use attune_analytics::{AtRiskRule, LearningCurve, charts, learning_curves};
use attune_core::SkillId;
use attune_policy::PracticeConfig;
use axum::extract::{Path, State};

use super::{Nav, PageResult, Viewer, mastery_css, num, pct, render, when};
use crate::App;
use crate::analytics::class_traces;
use crate::api::{NextOut, next_out};
use crate::error::ApiError;

/// Skills drawn in the mastery-over-time chart (the most practised).
const TRAJECTORY_SKILLS: usize = 6;
/// Answers listed as recent.
const RECENT: usize = 25;
/// Next items recommended, each on other skills than the ones before.
const RECOMMENDATIONS: usize = 3;

pub(crate) struct SkillRow {
    skill: String,
    answers: usize,
    mastery: String,
    colour: String,
}

pub(crate) struct AnswerRow {
    step: u32,
    item: String,
    skills: String,
    correct: bool,
    predicted: String,
    time: String,
}

#[derive(Template)]
#[template(path = "learner.html")]
pub(crate) struct LearnerPage {
    nav: Option<Nav>,
    title: String,
    learner: String,
    model: String,
    answers: usize,
    correct: String,
    mean: String,
    next: String,
    learning_rate: String,
    time_on_task: String,
    risk: Option<String>,
    trajectory: String,
    curve: String,
    skills: Vec<SkillRow>,
    recent: Vec<AnswerRow>,
    recommendations: Vec<NextOut>,
}

pub(crate) async fn page(State(app): State<Arc<App>>, viewer: Viewer, Path(learner): Path<String>) -> PageResult {
    let tenant = viewer.auth.tenant;
    let (class, traces) = class_traces(&app, tenant).await?;
    // Only this tenant's learners are in its class: another tenant's id is not found here.
    let k = traces
        .profiles
        .iter()
        .position(|p| p.learner == learner)
        .ok_or_else(|| ApiError::not_found("learner with answers", &learner))?;

    let mut recommendations = Vec::new();
    let mut covered: BTreeSet<SkillId> = BTreeSet::new();
    let config = PracticeConfig::default();
    let n_skills = class.serving.model.as_ref().map_or(0, |(_, m)| m.ids.skills.len());
    let all: BTreeSet<SkillId> = (0..n_skills).map(|s| SkillId(s as u32)).collect();
    for _ in 0..RECOMMENDATIONS {
        let only: BTreeSet<SkillId> = all.difference(&covered).copied().collect();
        if only.is_empty() {
            break;
        }
        let (serving, rec) = app.engine.next_among(tenant, &learner, &config, Some(&only), true).await?;
        let Some(rec) = rec else { break };
        covered.extend(serving.skills_of_item(rec.item).iter().copied());
        recommendations.push(next_out(&serving, learner.clone(), Some(&rec), config.target, Some(&class.names)));
    }

    let c = class.clone();
    let t = traces.clone();
    let (trajectory, curve, skills, recent) = tokio::task::spawn_blocking(move || charts_of(&c, &t, k))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let p = &traces.profiles[k];
    let page = LearnerPage {
        nav: Some(viewer.nav("class")),
        title: format!("Learner {learner}"),
        model: class.serving.model_ref().map_or_else(|| "none".to_owned(), |(n, v)| format!("{n} (version {v})")),
        answers: p.answers,
        correct: pct(p.correct_rate),
        mean: num(Some(p.mean_mastery), 2),
        next: num(Some(p.predicted_next), 2),
        learning_rate: p.learning_rate.map_or_else(|| "–".to_owned(), |r| format!("{r:+.3} per practice")),
        time_on_task: p.time_on_task_seconds.map_or_else(|| "–".to_owned(), |t| format!("{:.0} min", t / 60.0)),
        risk: p.at_risk.as_ref().map(|r| AtRiskRule::default().explain(r)),
        learner,
        trajectory,
        curve,
        skills,
        recent,
        recommendations,
    };
    Ok(render(&page))
}

type Drawn = (String, String, Vec<SkillRow>, Vec<AnswerRow>);

fn charts_of(
    class: &crate::class::Class,
    traces: &attune_analytics::Traces,
    k: usize,
) -> Result<Drawn, attune_analytics::Error> {
    let steps = traces.steps_of(k);
    // Mastery over time of the most practised skills.
    let per_skill = traces.mastery_series(k, usize::MAX);
    let series: Vec<(String, Vec<(u32, f64)>)> =
        per_skill.iter().take(TRAJECTORY_SKILLS).map(|(s, v)| (class.skill_label(*s), v.clone())).collect();
    let trajectory = charts::trajectory(&series, "Mastery over time (most practised skills)")?;

    // The learner's own learning curve beside the class's pooled one.
    let one = class.data.select_learners(&[k]);
    let mut own = learning_curves(&one, 20, 1).into_iter().next();
    if let Some(c) = own.as_mut()
        && c.points.len() < 4
    {
        // A power law through two or three points says nothing.
        c.fit = None;
    }
    let pooled = class.pooled_curve();
    let mut curves: Vec<(String, &LearningCurve)> = Vec::new();
    if let Some(c) = &own {
        curves.push(("this learner".to_owned(), c));
    }
    if let Some(c) = pooled {
        curves.push(("whole class".to_owned(), c));
    }
    let curve = charts::learning_curves(&curves, "Error rate by practice opportunity")?;

    let final_mastery: BTreeMap<SkillId, f64> = traces.mastery[k].iter().copied().collect();
    let mut skills: Vec<SkillRow> = per_skill
        .iter()
        .map(|(s, v)| {
            let m = final_mastery.get(s).copied();
            SkillRow { skill: class.skill_label(*s), answers: v.len(), mastery: num(m, 2), colour: mastery_css(m) }
        })
        .collect();
    skills.sort_by(|a, b| a.mastery.cmp(&b.mastery));

    // Recent answers, one row per answer (multi-skill items name every skill).
    let rows = class.data.learner_rows(k);
    let times = class.data.times();
    let mut recent: Vec<AnswerRow> = Vec::new();
    for t in steps.iter().rev() {
        if let Some(last) = recent.last_mut()
            && last.step == t.step
        {
            last.skills = format!("{}, {}", class.skill_label(t.skill), last.skills);
            continue;
        }
        if recent.len() == RECENT {
            break;
        }
        let row = rows.start + t.step as usize - 1;
        recent.push(AnswerRow {
            step: t.step,
            item: class.data.vocab().items.name(t.item.0).unwrap_or("?").to_owned(),
            skills: class.skill_label(t.skill),
            correct: t.correct,
            predicted: num(Some(t.predicted), 2),
            time: times.get(row).map_or_else(String::new, |&s| when(s)),
        });
    }
    Ok((trajectory, curve, skills, recent))
}
