//! Items and skills: each item's difficulty and discrimination (a registered IRT version),
//! each skill's BKT parameters in words (a registered BKT version), the items and skills
//! that behave oddly, and one skill's neighbourhood in the prerequisite graph.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use attune_analytics::charts::{self, GraphNode};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{Nav, PageResult, Viewer, num, pct, render, urlencode};
use crate::App;
use crate::analytics::{class_traces, item_table, skill_mastery, skill_table};
use crate::error::ApiError;

/// Items listed beside the flagged ones (the most answered).
const ITEMS_LISTED: usize = 50;

#[derive(Deserialize, Default)]
pub(crate) struct ItemsQuery {
    skill: Option<String>,
}

pub(crate) struct ItemRow {
    item: String,
    answers: u32,
    correct: String,
    difficulty: String,
    discrimination: String,
    flags: String,
}

pub(crate) struct SkillRow {
    skill: String,
    name: String,
    answers: u32,
    coverage: String,
    correct: String,
    prior: String,
    learn: String,
    guess: String,
    slip: String,
    flags: String,
}

#[derive(Template)]
#[template(path = "items.html")]
pub(crate) struct ItemsPage {
    nav: Option<Nav>,
    title: String,
    irt: Option<String>,
    irt_missing: Option<String>,
    chart: String,
    flagged: Vec<ItemRow>,
    items: Vec<ItemRow>,
    n_items: usize,
    bkt: Option<String>,
    bkt_missing: Option<String>,
    skills: Vec<SkillRow>,
    choices: Vec<(String, String)>,
    chosen: String,
    graph: String,
    edges: usize,
}

fn item_row(i: &attune_analytics::ItemStats) -> ItemRow {
    ItemRow {
        item: i.item.clone(),
        answers: i.answers,
        correct: pct(i.correct_rate),
        difficulty: num(Some(i.difficulty), 2),
        discrimination: num(Some(i.discrimination), 2),
        flags: i.flags.join("; "),
    }
}

/// 409 `no_model` shows as a note on the page; anything else is an error page.
fn missing<T>(r: Result<T, ApiError>) -> Result<Result<T, String>, ApiError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.code == "no_model" => Ok(Err(e.message)),
        Err(e) => Err(e),
    }
}

pub(crate) async fn page(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    q: Result<Query<ItemsQuery>, QueryRejection>,
) -> PageResult {
    let q = super::query(q)?;
    let tenant = viewer.auth.tenant;
    let irt = missing(item_table(&app, tenant, None).await)?;
    let bkt = missing(skill_table(&app, tenant, None).await)?;
    let (class, traces) = class_traces(&app, tenant).await?;

    let (irt_name, irt_missing, chart, flagged, items, n_items) = match irt {
        Ok((model, stats)) => {
            let chart =
                charts::items(&stats, "Items: difficulty against discrimination").map_err(ApiError::internal)?;
            let flagged = stats.iter().filter(|i| !i.flags.is_empty()).map(item_row).collect();
            let mut by_answers: Vec<_> = stats.iter().collect();
            by_answers.sort_by_key(|i| std::cmp::Reverse(i.answers));
            let items = by_answers.iter().take(ITEMS_LISTED).map(|i| item_row(i)).collect();
            (Some(format!("{} (version {})", model.name, model.version)), None, chart, flagged, items, stats.len())
        }
        Err(why) => (None, Some(why), String::new(), Vec::new(), Vec::new(), 0),
    };
    let (bkt_name, bkt_missing, skills) = match bkt {
        Ok((model, stats)) => {
            let mut rows: Vec<_> = stats.iter().collect();
            rows.sort_by_key(|s| std::cmp::Reverse(s.answers));
            let rows = rows
                .iter()
                .map(|s| SkillRow {
                    skill: s.skill.clone(),
                    name: s.name.clone().unwrap_or_else(|| s.skill.clone()),
                    answers: s.answers,
                    coverage: pct(s.coverage),
                    correct: pct(s.correct_rate),
                    prior: num(s.prior, 2),
                    learn: num(s.learn, 3),
                    guess: num(s.guess, 2),
                    slip: num(s.slip, 2),
                    flags: s.flags.join("; "),
                })
                .collect();
            (Some(format!("{} (version {})", model.name, model.version)), None, rows)
        }
        Err(why) => (None, Some(why), Vec::new()),
    };

    // The prerequisite neighbourhood of one skill, coloured by the class's mean mastery.
    let edges = app.store.prerequisites(tenant).await.map_err(ApiError::from)?;
    let catalog: HashMap<String, String> = app
        .store
        .skills(tenant)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter_map(|(k, n)| Some((k, n?)))
        .collect();
    let mean: HashMap<String, f64> =
        skill_mastery(&class, &traces).into_iter().map(|s| (s.skill, s.mean_mastery)).collect();
    let label = |s: &str| catalog.get(s).cloned().unwrap_or_else(|| s.to_owned());
    let mut in_graph: Vec<String> = edges.iter().flat_map(|e| [e.skill.clone(), e.requires.clone()]).collect();
    in_graph.sort();
    in_graph.dedup();
    let chosen = q
        .skill
        .filter(|s| in_graph.contains(s) || mean.contains_key(s))
        .or_else(|| {
            // By default the skill with the most neighbours.
            in_graph
                .iter()
                .max_by_key(|s| edges.iter().filter(|e| &e.skill == *s || &e.requires == *s).count())
                .cloned()
        })
        .unwrap_or_default();
    let node = |s: &str| GraphNode {
        label: label(s),
        value: mean.get(s).copied(),
        href: Some(format!("/dashboard/items?skill={}#graph", urlencode(s))),
    };
    let requires: Vec<GraphNode> = edges.iter().filter(|e| e.skill == chosen).map(|e| node(&e.requires)).collect();
    let unlocks: Vec<GraphNode> = edges.iter().filter(|e| e.requires == chosen).map(|e| node(&e.skill)).collect();
    let graph = if chosen.is_empty() {
        String::new()
    } else {
        let center = GraphNode { href: None, ..node(&chosen) };
        charts::prerequisite_graph(&center, &requires, &unlocks, &format!("Prerequisites around {}", label(&chosen)))
    };
    let mut choices: Vec<(String, String)> = in_graph.iter().map(|s| (s.clone(), label(s))).collect();
    choices.sort_by(|a, b| a.1.cmp(&b.1));

    let page = ItemsPage {
        nav: Some(viewer.nav("items")),
        title: "Items and skills".into(),
        irt: irt_name,
        irt_missing,
        chart,
        flagged,
        items,
        n_items,
        bkt: bkt_name,
        bkt_missing,
        skills,
        choices,
        chosen,
        graph,
        edges: edges.len(),
    };
    Ok(render(&page))
}
