//! Models: the registry's versions with their metrics, which one serves, switching and
//! rolling back, and training jobs with live progress (the page's script polls
//! `GET /v1/jobs/{id}`) and cancel. Every action calls the same functions as the API.

use std::sync::Arc;

use askama::Template;
use attune_models::ModelName;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::{Nav, PageError, PageResult, TokenForm, Viewer, render, when};
use crate::App;
use crate::api::serve_version;
use crate::error::ApiError;
use crate::jobs::{JobIn, cancel_job as cancel, start};

/// Jobs listed (newest first).
const JOBS_LISTED: usize = 20;

pub(crate) struct VersionRow {
    version: i64,
    name: String,
    metrics: String,
    created: String,
    serving: bool,
    /// "Switch to" for a newer version than the serving one, "Roll back to" for an older.
    action: &'static str,
}

pub(crate) struct JobRow {
    id: String,
    short: String,
    model: String,
    status: String,
    stage: String,
    done: i64,
    total: i64,
    live: bool,
    created: String,
    message: String,
    version: String,
}

#[derive(Template)]
#[template(path = "models.html")]
pub(crate) struct ModelsPage {
    nav: Option<Nav>,
    title: String,
    versions: Vec<VersionRow>,
    serving: String,
    jobs: Vec<JobRow>,
    names: Vec<&'static str>,
}

/// Fit metrics in one line: numbers rounded, nested values left out.
fn metrics_line(m: &serde_json::Value) -> String {
    let Some(map) = m.as_object() else { return String::new() };
    map.iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Number(n) => {
                let x = n.as_f64()?;
                Some(if x.fract() == 0.0 && x.abs() < 1e12 { format!("{k} {x:.0}") } else { format!("{k} {x:.4}") })
            }
            serde_json::Value::String(s) if s.len() < 40 => Some(format!("{k} {s}")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(crate) async fn page(State(app): State<Arc<App>>, viewer: Viewer) -> PageResult {
    let tenant = viewer.auth.tenant;
    let models = app.store.models(tenant).await.map_err(ApiError::from)?;
    let serving_version = models.iter().find(|m| m.serving).map(|m| m.version);
    let serving = models
        .iter()
        .find(|m| m.serving)
        .map_or_else(|| "none yet".to_owned(), |m| format!("{} version {}", m.name, m.version));
    let versions = models
        .iter()
        .rev()
        .map(|m| VersionRow {
            version: m.version,
            name: m.name.clone(),
            metrics: metrics_line(&m.metrics),
            created: when(m.created_at),
            serving: m.serving,
            action: if serving_version.is_some_and(|s| m.version < s) { "Roll back to" } else { "Switch to" },
        })
        .collect();
    let jobs = app
        .store
        .jobs(tenant, JOBS_LISTED)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|j| JobRow {
            short: j.id.chars().take(8).collect(),
            model: j.model,
            status: j.status.as_str().to_owned(),
            stage: if j.total > 0 { format!("{} {} / {}", j.stage, j.done, j.total) } else { j.stage },
            done: j.done,
            total: j.total,
            live: !j.status.is_final(),
            created: when(j.created_at),
            message: j.message.unwrap_or_default(),
            version: j.version.map_or_else(String::new, |v| v.to_string()),
            id: j.id,
        })
        .collect();
    let page = ModelsPage {
        nav: Some(viewer.nav("models")),
        title: "Models".into(),
        versions,
        serving,
        jobs,
        names: ModelName::ALL.iter().map(|n| n.as_str()).collect(),
    };
    Ok(render(&page))
}

fn back() -> axum::response::Response {
    Redirect::to("/dashboard/models").into_response()
}

pub(crate) async fn serve(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(version): Path<String>,
    Form(form): Form<TokenForm>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    let version: i64 = version.parse().map_err(|_| {
        PageError(ApiError::bad_request("invalid_field", format!("version {version:?}: a version number")))
    })?;
    serve_version(&app, viewer.auth, version).await?;
    Ok(back())
}

#[derive(Deserialize)]
pub(crate) struct JobForm {
    csrf: String,
    model: String,
    serve: Option<String>,
}

pub(crate) async fn start_job(State(app): State<Arc<App>>, viewer: Viewer, Form(form): Form<JobForm>) -> PageResult {
    viewer.check_form(&form.csrf)?;
    let req = JobIn { model: form.model, config: None, seed: None, serve: form.serve.is_some() };
    start(&app, viewer.auth, req).await?;
    Ok((StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, "/dashboard/models#jobs")]).into_response())
}

pub(crate) async fn cancel_job(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    match cancel(&app, viewer.auth, &id).await {
        // A job that ended meanwhile needs no cancel: show the page as it is.
        Ok(_) => Ok(back()),
        Err(e) if e.code == "job_finished" => Ok(back()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_in_one_line() {
        let m = serde_json::json!({"auc": 0.78123, "answers": 1200, "note": "ok", "nested": {"x": 1}});
        assert_eq!(metrics_line(&m), "answers 1200 · auc 0.7812 · note ok");
        assert_eq!(metrics_line(&serde_json::json!([1, 2])), "");
    }
}
