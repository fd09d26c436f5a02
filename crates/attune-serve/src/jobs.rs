//! `/v1/jobs`: training jobs. A job fits any registry model (attune-models' one `fit`) on
//! the tenant's stored answers in the background, one job at a time per server (the fit uses
//! every core), writes its progress to the store every half second (any server shows it), takes
//! a cancel from any server, and registers the fitted model as the tenant's next version —
//! serving at once where asked.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attune_core::Progress;
use attune_models::{ModelName, ModelSpec, Training, fit};
use attune_store::{Job, JobStatus, Scopes, TenantId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::App;
use crate::api::parse_one;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// How often a running job writes its progress (and reads a cancel request).
const BEAT: Duration = Duration::from_millis(500);

/// A job whose runner has not written for this long belongs to a server that stopped.
pub(crate) const STALE_SECONDS: i64 = 60;

/// A model to fit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobIn {
    /// The registry name: `bkt`, `bkt-forgets`, `irt1pl`, `irt2pl`, `pfa`, `elo`, `dkt`, …
    pub model: String,
    /// Hyperparameters, as `attune fit --set` takes them (checked against the model's ranges).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// Seed (default 42).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Serve the fitted version at once (needs the admin scope).
    #[serde(default)]
    pub serve: bool,
}

/// A job as the API shows it (the store's row).
pub(crate) type JobOut = Job;

/// The fit's progress, shared with the writer of heartbeats.
#[derive(Default)]
struct Shared {
    stage: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl Progress for Shared {
    fn start(&self, stage: &str, total: u64) {
        *self.stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = stage.to_owned();
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    fn advance(&self, done: u64) -> bool {
        self.done.fetch_add(done, Ordering::Relaxed);
        !self.cancel.load(Ordering::Relaxed)
    }
}

impl Shared {
    fn snapshot(&self) -> (String, i64, i64) {
        let stage = self.stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let n = |a: &AtomicU64| i64::try_from(a.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        (stage, n(&self.done), n(&self.total))
    }
}

/// Starts a training job on the tenant's stored answers.
#[utoipa::path(post, path = "/v1/jobs", tag = "models", request_body = JobIn,
    responses(
        (status = 202, description = "Accepted: poll GET /v1/jobs/{id}", body = Object),
        (status = 400, description = "Unknown model or invalid hyperparameter", body = ErrorBody),
        (status = 403, description = "`serve` without the admin scope", body = ErrorBody),
        (status = 409, description = "No answers stored yet", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<JobOut>)> {
    let req: JobIn = parse_one(body)?;
    Ok((StatusCode::ACCEPTED, Json(start(&app, auth, req).await?)))
}

/// Starts a training job (write scope; admin too where it is to serve at once).
pub(crate) async fn start(app: &Arc<App>, auth: Auth, req: JobIn) -> ApiResult<Job> {
    auth.require(Scopes::WRITE)?;
    if req.serve {
        auth.require(Scopes::ADMIN)?;
    }
    let name: ModelName =
        req.model.parse().map_err(|e: attune_models::Error| ApiError::bad_request("unknown_model", e.to_string()))?;
    let mut spec = ModelSpec::new(name, req.seed.unwrap_or(42));
    if let Some(values) = &req.config {
        spec = spec.with_values(values).map_err(|e| ApiError::bad_request("invalid_field", format!("config: {e}")))?;
    }
    if app.store.log_head(auth.tenant).await? == 0 {
        return Err(ApiError::new(StatusCode::CONFLICT, "no_answers", "this tenant has no answers to train on yet"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let shown = serde_json::json!({"model": name.as_str(), "config": spec.config.to_json(), "serve": req.serve});
    app.store.create_job(auth.tenant, &id, name.as_str(), &shown, req.serve).await?;
    tokio::spawn(run(app.clone(), auth.tenant, id.clone(), spec, req.serve));
    app.store.job(auth.tenant, &id).await?.ok_or_else(|| ApiError::not_found("job", &id))
}

/// Runs a job to its end, recording how it ended.
async fn run(app: Arc<App>, tenant: TenantId, id: String, spec: ModelSpec, serve: bool) {
    let ended = match attempt(&app, tenant, &id, spec, serve).await {
        Ok((status, message, version)) => app.store.finish_job(tenant, &id, status, Some(&message), version).await,
        Err(e) => app.store.finish_job(tenant, &id, JobStatus::Failed, Some(&e.message), None).await,
    };
    if let Err(e) = ended {
        tracing::error!(job = %id, error = %e, "recording the end of a training job");
    }
}

async fn attempt(
    app: &Arc<App>,
    tenant: TenantId,
    id: &str,
    spec: ModelSpec,
    serve: bool,
) -> ApiResult<(JobStatus, String, Option<i64>)> {
    let shared = Arc::new(Shared::default());
    *shared.stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = "waiting for the job before it".into();
    let done = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicBool::new(false));
    // Heartbeats: progress out, a cancel request in.
    let beat = {
        let (app, shared, done, running, id) =
            (app.clone(), shared.clone(), done.clone(), running.clone(), id.to_owned());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let (stage, n, total) = shared.snapshot();
                let status = if running.load(Ordering::Relaxed) { JobStatus::Running } else { JobStatus::Queued };
                if let Ok(true) = app.store.job_progress(tenant, &id, status, &stage, n, total).await {
                    shared.cancel.store(true, Ordering::Relaxed);
                }
                tokio::time::sleep(BEAT).await;
            }
        })
    };
    let result = async {
        let _turn =
            app.training.acquire().await.map_err(|_| {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the server is stopping")
            })?;
        if shared.cancel.load(Ordering::Relaxed) {
            return Ok((JobStatus::Cancelled, "cancelled before it started".into(), None));
        }
        running.store(true, Ordering::Relaxed);
        shared.start("reading the answer log", 1);
        let class = app.class(tenant).await?;
        let (data_shared, progress) = (class.clone(), shared.clone());
        let fitted = tokio::task::spawn_blocking(move || {
            fit(&spec, Training { train: &data_shared.data, validation: None }, &*progress)
        })
        .await
        .map_err(ApiError::internal)?;
        let fitted = match fitted {
            Ok(f) => f,
            Err(_) if shared.cancel.load(Ordering::Relaxed) => {
                return Ok((JobStatus::Cancelled, "cancelled during the fit".into(), None));
            }
            Err(e) => return Ok((JobStatus::Failed, e.to_string(), None)),
        };
        if shared.cancel.load(Ordering::Relaxed) {
            return Ok((JobStatus::Cancelled, "cancelled before registering".into(), None));
        }
        let metrics = serde_json::to_value(&fitted.training).unwrap_or_default();
        let name = fitted.name().as_str();
        let version = app.store.add_model(tenant, name, &fitted.to_json(), &metrics).await?;
        let mut message = format!(
            "fitted {name} on {} answers of {} learners in {:.1} s: version {version}",
            fitted.training.n_interactions, fitted.training.n_learners, fitted.training.fit_seconds
        );
        if serve {
            app.store.serve_model(tenant, version).await?;
            app.engine.reload(tenant).await?;
            message.push_str(", serving");
        }
        Ok((JobStatus::Succeeded, message, Some(version)))
    }
    .await;
    done.store(true, Ordering::Relaxed);
    let _ = beat.await;
    result
}

/// The tenant's jobs, newest first (at most 100).
#[utoipa::path(get, path = "/v1/jobs", tag = "models", responses((status = 200, body = Vec<Object>)),
    security(("bearer" = [])))]
pub(crate) async fn list(State(app): State<Arc<App>>, auth: Auth) -> ApiResult<Json<Vec<JobOut>>> {
    auth.require(Scopes::READ)?;
    Ok(Json(app.store.jobs(auth.tenant, 100).await?))
}

/// A job: status (`queued`, `running`, `succeeded`, `failed`, `cancelled`), stage and
/// progress, the message and the registry version it produced.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "models", params(("id" = String, Path, description = "The job id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get(State(app): State<Arc<App>>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<JobOut>> {
    auth.require(Scopes::READ)?;
    app.store.job(auth.tenant, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("job", &id))
}

/// Asks a job to stop; it ends `cancelled` at the fit's next step.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "models", params(("id" = String, Path, description = "The job id")),
    responses((status = 202, body = Object), (status = 404, body = ErrorBody), (status = 409, description = "The job has ended", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn cancel(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<JobOut>)> {
    Ok((StatusCode::ACCEPTED, Json(cancel_job(&app, auth, &id).await?)))
}

/// Asks the job `id` to stop (write scope); 409 where it has ended.
pub(crate) async fn cancel_job(app: &App, auth: Auth, id: &str) -> ApiResult<Job> {
    auth.require(Scopes::WRITE)?;
    let job = app.store.job(auth.tenant, id).await?.ok_or_else(|| ApiError::not_found("job", id))?;
    if job.status.is_final() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_finished",
            format!("job {id} has ended ({})", job.status.as_str()),
        ));
    }
    app.store.cancel_job(auth.tenant, id).await?.ok_or_else(|| ApiError::not_found("job", id))
}
