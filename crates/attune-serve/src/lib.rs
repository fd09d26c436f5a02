//! `attune serve`: Attune as the adaptive engine behind a learning product, over HTTP.
//!
//! Learners' answers arrive (`POST /v1/answers`, one or a batch, idempotent under the
//! client's id), are committed to the tenant's answer log (attune-store, group commit) and
//! only then acknowledged, and update the learner's state under the tenant's serving model
//! (attune-models); `GET /v1/learners/{learner}/state` shows mastery per skill, `…/next` the
//! next item at a target success rate with the reason (attune-policy). Every request carries
//! an API key (`Authorization: Bearer <key>`) that names its tenant; every row belongs to
//! one. xAPI "answered" statements arrive under `/xapi/` and are answers too. The OpenAPI 3 document is generated from the handlers at `/openapi.json`; `/healthz`,
//! `/readyz` and Prometheus `/metrics` are for operators.
//!
//! Beside the answer loop: adaptive tests (`/v1/cat/sessions`, over a registered IRT model's
//! item bank), tutoring sessions (`/v1/tutoring/sessions`: next item → answer → feedback),
//! analytics over the stored answers (`/v1/analytics/…`), training jobs that fit any model
//! on them and register it (`/v1/jobs`), bulk import of any log format the readers know
//! (`/v1/import`) and the learner list (`/v1/learners`).
//!
//! The service holds no model or policy code of its own: it calls the library crates.

pub mod analytics;
pub mod api;
mod auth;
pub mod cat;
mod class;
pub mod dashboard;
mod demo;
mod engine;
mod error;
pub mod import;
pub mod jobs;
mod metrics;
mod openapi;
pub mod tutor;
mod xapi;

use std::net::SocketAddr;
use std::sync::Arc;

use attune_store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub use crate::auth::Auth;
pub use crate::demo::{DEMO_TENANT, Demo};
pub use crate::error::{ApiError, Error, ErrorBody, ErrorDetail};

/// The service's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest request body accepted (a batch of 10,000 answers fits).
pub const MAX_BODY: usize = 4 << 20;

/// What the routes share: the store, the serving models and learner states, verified keys
/// and the metrics.
pub struct App {
    store: Store,
    engine: engine::Engine,
    keys: auth::KeyCache,
    /// Verified dashboard sessions: the caller and the tenant's name.
    web_sessions: auth::KeyCache<(Auth, String)>,
    metrics: metrics::Metrics,
    caches: class::Caches,
    /// One training job fits at a time on this server (a fit uses every core).
    training: tokio::sync::Semaphore,
}

impl App {
    /// The service's state over an open store.
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            engine: engine::Engine::new(store.clone()),
            store,
            keys: auth::KeyCache::default(),
            web_sessions: auth::KeyCache::default(),
            metrics: metrics::Metrics::default(),
            caches: class::Caches::default(),
            training: tokio::sync::Semaphore::new(1),
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Drops the tenant's cached serving model after its serving version changed: states
    /// follow the new version by replay.
    ///
    /// # Errors
    /// As loading the model from the registry.
    pub async fn reload_model(&self, tenant: attune_store::TenantId) -> Result<(), ApiError> {
        self.engine.reload(tenant).await.map(|_| ())
    }
}

/// Every route, over `app`; tests call it without a socket.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::serve))
        .route("/openapi.json", get(openapi::serve))
        .route("/v1/answers", post(api::post_answers))
        .route("/v1/learners/{learner}/state", get(api::get_state))
        .route("/v1/learners/{learner}/next", get(api::get_next))
        .route("/v1/items", post(api::post_items).get(api::get_items))
        .route("/v1/prerequisites", post(api::post_prerequisites))
        .route("/v1/learners", post(api::post_learners).get(api::get_learners))
        .route("/v1/models", get(api::get_models))
        .route("/v1/models/{version}/serve", post(api::post_serve))
        .route("/v1/jobs", post(jobs::create).get(jobs::list))
        .route("/v1/jobs/{id}", get(jobs::get))
        .route("/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/v1/cat/sessions", post(cat::create))
        .route("/v1/cat/sessions/{id}", get(cat::trace))
        .route("/v1/cat/sessions/{id}/responses", post(cat::respond))
        .route("/v1/tutoring/sessions", post(tutor::create))
        .route("/v1/tutoring/sessions/{id}", get(tutor::trace))
        .route("/v1/tutoring/sessions/{id}/answers", post(tutor::answer))
        .route("/v1/analytics/mastery", get(analytics::mastery))
        .route("/v1/analytics/at-risk", get(analytics::at_risk))
        .route("/v1/analytics/items", get(analytics::items))
        .route("/v1/analytics/skills", get(analytics::skills))
        .route("/v1/analytics/curves", get(analytics::curves))
        .route("/v1/import", post(import::import).layer(DefaultBodyLimit::max(import::MAX_IMPORT)))
        .merge(
            Router::new()
                .route("/xapi/statements", post(xapi::post).put(xapi::put).get(xapi::get))
                .route("/xapi/about", get(xapi::about))
                .layer(axum::middleware::from_fn(xapi::version)),
        )
        .merge(dashboard::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(app.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(app)
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Database unavailable")))]
async fn readyz(State(app): State<Arc<App>>) -> impl IntoResponse {
    if app.store.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", format!("no route {}", uri.path()))
}

async fn wrong_method(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take this method", uri.path()),
    )
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// How to run the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// A SQLite file path or a `postgres://` URL.
    pub database: String,
    /// The address to listen on.
    pub bind: String,
    /// Whether to set up the demo tenant (bundled ASSIST2009 data and a fitted BKT).
    pub demo: bool,
    /// Whether to read and trace every tenant's class in the background at start, so that
    /// the first dashboard page after a restart is as fast as the next.
    pub warm_up: bool,
}

/// A bound, ready service.
pub struct Started {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The demo tenant, where set up.
    pub demo: Option<Demo>,
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    warm_up: bool,
}

/// Opens the store, sets up the demo tenant where asked, and binds the address.
///
/// # Errors
/// [`Error::Store`], [`Error::Demo`], [`Error::Bind`].
pub async fn start(config: &Config) -> Result<Started, Error> {
    let store = Store::open(&config.database).await?;
    // Jobs whose server stopped mid-fit would otherwise read as running for ever.
    let failed = store.fail_stale_jobs(None, jobs::STALE_SECONDS).await?;
    if failed > 0 {
        tracing::warn!(jobs = failed, "training jobs of a stopped server marked failed");
    }
    let app = App::new(store);
    let demo = if config.demo { Some(demo::set_up(&app).await?) } else { None };
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .map_err(|source| Error::Bind { addr: config.bind.clone(), source })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind { addr: config.bind.clone(), source })?;
    Ok(Started { addr, demo, listener, app, warm_up: config.warm_up })
}

impl Started {
    /// The service's state (its store), for setting up tenants and models around it.
    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    ///
    /// # Errors
    /// [`Error::Serve`].
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), Error> {
        let store = self.app.store.clone();
        if self.warm_up {
            tokio::spawn(self.app.clone().warm_up());
        }
        axum::serve(self.listener, router(self.app)).with_graceful_shutdown(shutdown).await.map_err(Error::Serve)?;
        store.close().await;
        Ok(())
    }
}
