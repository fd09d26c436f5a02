//! The class overview: who needs help and on what. A mastery heat map (learners × skills,
//! a page of learners at a time, lowest mastery first by default), the at-risk learners with
//! the rule that flagged each, how much of the class practised each skill, and activity.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use attune_analytics::{AtRiskRule, charts};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{Nav, PageResult, Viewer, mastery_css, num, pct, render, urlencode};
use crate::App;
use crate::analytics::{class_traces, skill_mastery};

/// Learners per page of the heat map (a screen's width of columns).
pub(crate) const PAGE_LEARNERS: usize = 60;

#[derive(Deserialize, Default)]
pub(crate) struct ClassQuery {
    page: Option<usize>,
    sort: Option<String>,
}

pub(crate) struct RiskRow {
    learner: String,
    href: String,
    answers: usize,
    why: String,
    mean: String,
}

pub(crate) struct CoverageRow {
    skill: String,
    name: String,
    learners: usize,
    coverage: String,
    mean: String,
    mastered: String,
    colour: String,
}

pub(crate) struct PageLink {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "class.html")]
pub(crate) struct ClassPage {
    nav: Option<Nav>,
    title: String,
    model: String,
    learners: usize,
    answers: usize,
    skills: usize,
    correct: String,
    at_risk_count: usize,
    heat: String,
    shown: String,
    sort: String,
    sorts: Vec<(&'static str, &'static str)>,
    pages: Vec<PageLink>,
    rule: String,
    at_risk: Vec<RiskRow>,
    coverage: Vec<CoverageRow>,
    activity: String,
}

pub(crate) async fn page(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    q: Result<Query<ClassQuery>, QueryRejection>,
) -> PageResult {
    let q = super::query(q)?;
    let (class, traces) = class_traces(&app, viewer.auth.tenant).await?;
    let c = class.clone();
    let sort = match q.sort.as_deref() {
        Some(s @ ("name" | "answers" | "risk")) => s.to_owned(),
        _ => "mastery".to_owned(),
    };
    let sort_by = sort.clone();
    let wanted = q.page.unwrap_or(1).max(1);
    let built = tokio::task::spawn_blocking(move || build(&c, &traces, &sort_by, wanted))
        .await
        .map_err(crate::error::ApiError::internal)?;
    let (heat, shown, pages, at_risk, at_risk_count, coverage, activity, correct) = built?;
    let model = class.serving.model_ref().map_or_else(|| "none".to_owned(), |(n, v)| format!("{n} (version {v})"));
    let page = ClassPage {
        nav: Some(viewer.nav("class")),
        title: "Class overview".into(),
        model,
        learners: class.data.n_learners(),
        answers: class.data.len(),
        skills: coverage.len(),
        correct,
        at_risk_count,
        heat,
        shown,
        sorts: vec![
            ("mastery", "lowest mastery first"),
            ("risk", "at risk first"),
            ("answers", "most answers first"),
            ("name", "by name"),
        ],
        sort,
        pages,
        rule: AtRiskRule::default().describe(),
        at_risk,
        coverage,
        activity,
    };
    Ok(render(&page))
}

type Built = (String, String, Vec<PageLink>, Vec<RiskRow>, usize, Vec<CoverageRow>, String, String);

fn build(
    class: &crate::class::Class,
    traces: &attune_analytics::Traces,
    sort: &str,
    wanted: usize,
) -> Result<Built, super::PageError> {
    let chart_err = |e: attune_analytics::Error| crate::error::ApiError::internal(e);
    let profiles = &traces.profiles;
    // Learners in the order asked for, then one page of them.
    let mut order: Vec<usize> = (0..profiles.len()).collect();
    match sort {
        "name" => order.sort_by(|&a, &b| profiles[a].learner.cmp(&profiles[b].learner)),
        "answers" => order.sort_by_key(|&k| std::cmp::Reverse(profiles[k].answers)),
        "risk" => order.sort_by(|&a, &b| {
            (profiles[a].at_risk.is_none(), profiles[a].mean_mastery)
                .partial_cmp(&(profiles[b].at_risk.is_none(), profiles[b].mean_mastery))
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
        _ => order.sort_by(|&a, &b| profiles[a].mean_mastery.total_cmp(&profiles[b].mean_mastery)),
    }
    let n_pages = order.len().div_ceil(PAGE_LEARNERS).max(1);
    let page = wanted.min(n_pages);
    let shown_learners = &order[(page - 1) * PAGE_LEARNERS..(page * PAGE_LEARNERS).min(order.len())];

    // Skills: every practised one, most answered first.
    let answers_per_skill = class.answers_per_skill();
    let per_skill = skill_mastery(class, traces);
    let mut skill_rows: Vec<usize> = (0..answers_per_skill.len()).filter(|&k| answers_per_skill[k] > 0).collect();
    skill_rows.sort_by_key(|&k| (std::cmp::Reverse(answers_per_skill[k]), k));
    let row_of: BTreeMap<usize, usize> = skill_rows.iter().enumerate().map(|(r, &k)| (k, r)).collect();
    let values: Vec<Vec<Option<f64>>> = shown_learners
        .iter()
        .map(|&l| {
            let mut col = vec![None; skill_rows.len()];
            for &(s, m) in &traces.mastery[l] {
                if let Some(&r) = row_of.get(&s.index()) {
                    col[r] = Some(m);
                }
            }
            col
        })
        .collect();
    let learner_names: Vec<String> = shown_learners.iter().map(|&l| profiles[l].learner.clone()).collect();
    let links: Vec<String> = learner_names.iter().map(|l| format!("/dashboard/learners/{}", urlencode(l))).collect();
    let labels: Vec<String> = skill_rows.iter().map(|&k| class.skill_label(attune_core::SkillId(k as u32))).collect();
    let ids: Vec<String> = skill_rows.iter().map(|&k| class.skill_id(attune_core::SkillId(k as u32))).collect();
    let heat = charts::HeatMap {
        title: &format!("Mastery by learner and skill (page {page} of {n_pages})"),
        learners: &learner_names,
        skills: &labels,
        skill_ids: Some(&ids),
        values: &values,
        links: Some(&links),
    }
    .svg();
    let shown = format!(
        "learners {}–{} of {}",
        if shown_learners.is_empty() { 0 } else { (page - 1) * PAGE_LEARNERS + 1 },
        (page - 1) * PAGE_LEARNERS + shown_learners.len(),
        order.len()
    );
    let pages = pager(page, n_pages, sort);

    let rule = AtRiskRule::default();
    let mut flagged: Vec<usize> = (0..profiles.len()).filter(|&k| profiles[k].at_risk.is_some()).collect();
    flagged.sort_by(|&a, &b| profiles[a].mean_mastery.total_cmp(&profiles[b].mean_mastery));
    let at_risk_count = flagged.len();
    let at_risk = flagged
        .iter()
        .take(100)
        .filter_map(|&k| {
            let p = &profiles[k];
            Some(RiskRow {
                href: format!("/dashboard/learners/{}", urlencode(&p.learner)),
                learner: p.learner.clone(),
                answers: p.answers,
                why: rule.explain(p.at_risk.as_ref()?),
                mean: num(Some(p.mean_mastery), 2),
            })
        })
        .collect();

    let total = profiles.len().max(1) as f64;
    let mut coverage: Vec<CoverageRow> = per_skill
        .iter()
        .map(|s| CoverageRow {
            name: s.name.clone().unwrap_or_else(|| s.skill.clone()),
            skill: s.skill.clone(),
            learners: s.learners,
            coverage: pct(s.learners as f64 / total),
            mean: num(Some(s.mean_mastery), 3),
            mastered: pct(s.mastered_share),
            colour: mastery_css(Some(s.mean_mastery)),
        })
        .collect();
    coverage.sort_by_key(|c| std::cmp::Reverse(c.learners));

    let activity = charts::activity(class.activity(), "Answers and active learners over time").map_err(chart_err)?;
    let correct = pct(class.data.correct_rate());
    Ok((heat, shown, pages, at_risk, at_risk_count, coverage, activity, correct))
}

/// Links to the first, previous, nearby, next and last pages.
fn pager(page: usize, n_pages: usize, sort: &str) -> Vec<PageLink> {
    let link =
        |label: String, p: usize| PageLink { label, href: format!("?sort={sort}&page={p}#heat"), current: p == page };
    let mut out = Vec::new();
    if page > 1 {
        out.push(PageLink { current: false, ..link("‹ previous".into(), page - 1) });
    }
    let near = page.saturating_sub(3).max(1)..=(page + 3).min(n_pages);
    if *near.start() > 1 {
        out.push(link("1".into(), 1));
        if *near.start() > 2 {
            out.push(PageLink { label: "…".into(), href: String::new(), current: false });
        }
    }
    for p in near.clone() {
        out.push(link(p.to_string(), p));
    }
    if *near.end() < n_pages {
        if *near.end() + 1 < n_pages {
            out.push(PageLink { label: "…".into(), href: String::new(), current: false });
        }
        out.push(link(n_pages.to_string(), n_pages));
    }
    if page < n_pages {
        out.push(PageLink { current: false, ..link("next ›".into(), page + 1) });
    }
    out
}
