//! `/v1/cat/sessions`: computerized adaptive tests over the item bank of a registered IRT
//! model. A session stores its configuration and its full trace (each step's item with the
//! parameters used, the answer and the ability and standard error before and after), so a
//! test can be audited and resumed on any server; the selection rules, estimators and
//! exposure control are attune-policy's.

use std::collections::HashMap;
use std::sync::Arc;

use attune_models::FittedModel;
use attune_policy::cat::{BankItem, Estimate, Estimator, Exposure, ItemBank, Selector, select};
use attune_store::{NewAnswer, Scopes, TenantId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::api::{ModelRef, parse_one};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Session kind in the store.
const KIND: &str = "cat";

/// When a test stops.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopRule {
    /// Most items (default 20).
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    /// Stop once the standard error is at most this (variable length).
    #[serde(default)]
    pub se: Option<f64>,
    /// Fewest items before the standard-error rule may stop the test (default 1).
    #[serde(default = "default_min_items")]
    pub min_items: usize,
}

fn default_max_items() -> usize {
    20
}

fn default_min_items() -> usize {
    1
}

impl Default for StopRule {
    fn default() -> Self {
        Self { max_items: default_max_items(), se: None, min_items: default_min_items() }
    }
}

/// A new adaptive test.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatIn {
    /// The learner taking it: their responses are stored as answers too.
    #[serde(default)]
    pub learner: Option<String>,
    /// The item pool (default: every item of the bank).
    #[serde(default)]
    pub items: Option<Vec<String>>,
    /// `mfi` (default), `kli`, `active` or `random`.
    #[serde(default)]
    pub selector: Option<String>,
    /// `eap` (default), `map` or `mle`.
    #[serde(default)]
    pub estimator: Option<String>,
    /// Exposure control: pick each item at random among the `randomesque` best (default 1).
    #[serde(default)]
    pub randomesque: Option<usize>,
    /// The stop rule.
    #[serde(default)]
    pub stop: Option<StopRule>,
    /// The registry version of the IRT model whose items make the bank (default: the
    /// serving one where it is IRT, else the newest IRT version).
    #[serde(default)]
    pub calibration: Option<i64>,
    /// Seed of the random choices (default: from the session id).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// One step of a test.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct CatStep {
    /// From 1.
    pub step: usize,
    /// The item administered.
    pub item: String,
    /// Its parameters in the bank: `P(right | θ) = c + (1 − c) σ(a (θ − b))`.
    pub a: f64,
    /// Difficulty.
    pub b: f64,
    /// Pseudo-guessing.
    pub c: f64,
    /// Its Fisher information at the ability before it.
    pub information: f64,
    /// The ability estimate when it was chosen.
    pub ability_before: f64,
    /// Its standard error.
    pub se_before: f64,
    /// The answer.
    pub correct: bool,
    /// The estimate after the answer.
    pub ability: f64,
    /// Its standard error.
    pub se: f64,
}

/// What a session stores.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct CatDoc {
    learner: Option<String>,
    calibration: (String, i64),
    pool: Option<Vec<String>>,
    selector: Selector,
    estimator: Estimator,
    randomesque: usize,
    stop: StopRule,
    seed: u64,
    estimate: Estimate,
    pending: Option<String>,
    steps: Vec<CatStep>,
    stop_reason: Option<String>,
}

/// A test's state after a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatOut {
    /// The session id.
    pub id: String,
    /// The learner taking it.
    pub learner: Option<String>,
    /// `active` or `finished`.
    pub status: String,
    /// Current ability estimate.
    pub ability: f64,
    /// Its standard error.
    pub se: f64,
    /// Items answered.
    pub answered: usize,
    /// The items to present next (empty once finished).
    pub next: Vec<String>,
    /// Why the test stopped: `max_items`, `se` or `pool_exhausted`.
    pub stop_reason: Option<String>,
    /// The IRT version whose bank the test uses.
    pub calibration: ModelRef,
}

/// The full trace of a test.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatTraceOut {
    /// Where the test stands.
    #[serde(flatten)]
    pub state: CatOut,
    /// The selection rule.
    pub selector: String,
    /// The estimator.
    pub estimator: String,
    /// The exposure control (`randomesque` k).
    pub randomesque: usize,
    /// The stop rule.
    pub stop: StopRule,
    /// Every step with the item parameters used.
    pub steps: Vec<CatStep>,
}

/// A response to the pending item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatResponseIn {
    /// The item answered (the pending one).
    pub item: String,
    /// Whether the answer was right.
    pub correct: bool,
    /// The client's id for the answer (default: from the session and step).
    #[serde(default)]
    pub id: Option<String>,
    /// When it was given, seconds since the epoch.
    #[serde(default)]
    pub time: Option<i64>,
}

/// The bank of a calibration and where each item id sits in it.
struct Bank {
    bank: ItemBank,
    ids: Vec<String>,
    index: HashMap<String, usize>,
}

impl Bank {
    fn of(model: &FittedModel) -> ApiResult<Self> {
        let attune_models::Model::Irt(irt) = &model.model else {
            return Err(ApiError::bad_request("wrong_model", "an adaptive test needs an IRT model"));
        };
        let bank = ItemBank::from_irt(irt).ok_or_else(|| {
            ApiError::bad_request("wrong_model", "an adaptive test needs a one-dimensional IRT model (irt1pl, irt2pl)")
        })?;
        let ids = model.ids.items.clone();
        let index = ids.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect();
        Ok(Self { bank, ids, index })
    }

    /// Which bank items are out of the test: outside the pool or administered.
    fn used(&self, doc: &CatDoc) -> Vec<bool> {
        let mut used = match &doc.pool {
            Some(pool) => {
                let mut u = vec![true; self.bank.len()];
                for i in pool.iter().filter_map(|s| self.index.get(s)) {
                    u[*i] = false;
                }
                u
            }
            None => vec![false; self.bank.len()],
        };
        for s in &doc.steps {
            if let Some(&i) = self.index.get(&s.item) {
                used[i] = true;
            }
        }
        used
    }

    /// Picks the next item for `doc`, or records why the test stops.
    fn advance(&self, doc: &mut CatDoc) {
        let answered = doc.steps.len();
        let stop = if answered >= doc.stop.max_items {
            Some("max_items")
        } else if doc.stop.se.is_some_and(|se| doc.estimate.se <= se) && answered >= doc.stop.min_items {
            Some("se")
        } else {
            None
        };
        doc.pending = None;
        if let Some(reason) = stop {
            doc.stop_reason = Some(reason.into());
            return;
        }
        let mut rng = StdRng::seed_from_u64(doc.seed ^ (answered as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let exposure = if doc.randomesque > 1 { Exposure::Randomesque { k: doc.randomesque } } else { Exposure::None };
        match select(doc.selector, &exposure, &self.bank, doc.estimate, &self.used(doc), answered, &mut rng) {
            Some(i) => doc.pending = Some(self.ids[i].clone()),
            None => doc.stop_reason = Some("pool_exhausted".into()),
        }
    }
}

fn out(id: &str, doc: &CatDoc) -> CatOut {
    CatOut {
        id: id.to_owned(),
        learner: doc.learner.clone(),
        status: if doc.stop_reason.is_some() { "finished" } else { "active" }.into(),
        ability: doc.estimate.theta,
        se: doc.estimate.se,
        answered: doc.steps.len(),
        next: doc.pending.iter().cloned().collect(),
        stop_reason: doc.stop_reason.clone(),
        calibration: ModelRef { name: doc.calibration.0.clone(), version: doc.calibration.1 },
    }
}

fn parse_rule<T: std::str::FromStr<Err = String>>(field: &str, v: Option<&str>, default: T) -> ApiResult<T> {
    v.map_or(Ok(default), |s| {
        s.parse().map_err(|e: String| ApiError::bad_request("invalid_field", format!("{field}: {e}")))
    })
}

async fn calibration(app: &App, tenant: TenantId, version: Option<i64>) -> ApiResult<(i64, Arc<FittedModel>, Bank)> {
    let (v, model) = app.registered(tenant, &["irt2pl", "irt1pl"], version, "an adaptive test").await?;
    let bank = Bank::of(&model)?;
    Ok((v, model, bank))
}

/// Starts an adaptive test: the first item to present.
#[utoipa::path(post, path = "/v1/cat/sessions", tag = "adaptive tests", request_body = CatIn,
    responses(
        (status = 201, body = CatOut),
        (status = 400, description = "An invalid field or an item the bank lacks", body = ErrorBody),
        (status = 409, description = "No IRT model registered", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<CatOut>)> {
    auth.require(Scopes::WRITE)?;
    let req: CatIn = parse_one(body)?;
    let selector = parse_rule("selector", req.selector.as_deref(), Selector::Mfi)?;
    let estimator = parse_rule("estimator", req.estimator.as_deref(), Estimator::Eap)?;
    let stop = req.stop.unwrap_or_default();
    if stop.max_items == 0 || stop.max_items > 1000 {
        return Err(ApiError::bad_request("invalid_field", format!("stop.max_items = {}: 1 to 1000", stop.max_items)));
    }
    if let Some(se) = stop.se.filter(|se| !(*se > 0.0 && se.is_finite())) {
        return Err(ApiError::bad_request("invalid_field", format!("stop.se = {se}: a positive number")));
    }
    if let Some(l) = &req.learner {
        attune_store::check_learner(l)?;
    }
    let (version, model, bank) = calibration(&app, auth.tenant, req.calibration).await?;
    if let Some(pool) = &req.items {
        if pool.is_empty() {
            return Err(ApiError::bad_request("invalid_field", "items: an empty pool"));
        }
        let unknown: Vec<&str> =
            pool.iter().filter(|s| !bank.index.contains_key(*s)).map(String::as_str).take(5).collect();
        if !unknown.is_empty() {
            return Err(ApiError::bad_request(
                "unknown_item",
                format!("items: {unknown:?} not in the bank of {} version {version}", model.name().as_str()),
            ));
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let seed = req.seed.unwrap_or_else(|| uuid::Uuid::parse_str(&id).map_or(0, |u| u.as_u64_pair().0));
    let mut doc = CatDoc {
        learner: req.learner,
        calibration: (model.name().as_str().to_owned(), version),
        pool: req.items,
        selector,
        estimator,
        randomesque: req.randomesque.unwrap_or(1).max(1),
        stop,
        seed,
        estimate: Estimate::PRIOR,
        pending: None,
        steps: Vec::new(),
        stop_reason: None,
    };
    bank.advance(&mut doc);
    let body = serde_json::to_value(&doc).map_err(ApiError::internal)?;
    app.store.create_session(auth.tenant, &id, KIND, doc.learner.as_deref(), &body).await?;
    if doc.stop_reason.is_some() {
        app.store.update_session(auth.tenant, &id, 0, &body, true).await?;
    }
    Ok((StatusCode::CREATED, Json(out(&id, &doc))))
}

async fn load(app: &App, tenant: TenantId, id: &str) -> ApiResult<(i64, CatDoc)> {
    let s = app.store.session(tenant, KIND, id).await?.ok_or_else(|| ApiError::not_found("adaptive test", id))?;
    let doc = serde_json::from_value(s.body).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt_session", format!("adaptive test {id}: {e}"))
    })?;
    Ok((s.steps, doc))
}

/// Records the answer to the pending item: the new ability and standard error, and the next
/// item or why the test stopped.
#[utoipa::path(post, path = "/v1/cat/sessions/{id}/responses", tag = "adaptive tests", request_body = CatResponseIn,
    params(("id" = String, Path, description = "The session id")),
    responses(
        (status = 200, body = CatOut),
        (status = 404, description = "No such test in the tenant", body = ErrorBody),
        (status = 409, description = "The test has finished, the item is not the pending one, or another response came first", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn respond(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<CatOut>> {
    auth.require(Scopes::WRITE)?;
    let req: CatResponseIn = parse_one(body)?;
    let (version, mut doc) = load(&app, auth.tenant, &id).await?;
    if let Some(reason) = &doc.stop_reason {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "session_finished",
            format!("adaptive test {id} stopped ({reason})"),
        ));
    }
    if doc.pending.as_deref() != Some(req.item.as_str()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_administered",
            format!(
                "item {:?} is not the pending item of test {id} ({:?})",
                req.item,
                doc.pending.as_deref().unwrap_or("none")
            ),
        ));
    }
    let (_, _, bank) = calibration(&app, auth.tenant, Some(doc.calibration.1)).await?;
    let step = doc.steps.len() + 1;
    // The answer goes to the log first (idempotent under its id), so a retry after a lost
    // reply or a lost race neither loses nor doubles it.
    if let Some(learner) = &doc.learner {
        let answer = NewAnswer {
            id: req.id.clone().unwrap_or_else(|| format!("cat:{id}:{step}")),
            learner: learner.clone(),
            item: req.item.clone(),
            correct: req.correct,
            time: req.time,
            skills: Vec::new(),
            model: None,
        };
        app.engine.record(auth.tenant, vec![answer], false).await?;
    }
    let i = *bank.index.get(&req.item).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_session",
            format!("test {id}: pending item not in its bank"),
        )
    })?;
    let item: BankItem = bank.bank.items[i];
    let before = doc.estimate;
    let mut answers: Vec<(usize, bool)> =
        doc.steps.iter().filter_map(|s| Some((*bank.index.get(&s.item)?, s.correct))).collect();
    answers.push((i, req.correct));
    doc.estimate = doc.estimator.estimate(&bank.bank, &answers, before);
    doc.steps.push(CatStep {
        step,
        item: req.item,
        a: item.a,
        b: item.b,
        c: item.c,
        information: item.information(before.theta),
        ability_before: before.theta,
        se_before: before.se,
        correct: req.correct,
        ability: doc.estimate.theta,
        se: doc.estimate.se,
    });
    bank.advance(&mut doc);
    let body = serde_json::to_value(&doc).map_err(ApiError::internal)?;
    if !app.store.update_session(auth.tenant, &id, version, &body, doc.stop_reason.is_some()).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("another response to test {id} came first: read the test and answer its pending item"),
        ));
    }
    Ok(Json(out(&id, &doc)))
}

/// The test with every step and the item parameters used at each.
#[utoipa::path(get, path = "/v1/cat/sessions/{id}", tag = "adaptive tests",
    params(("id" = String, Path, description = "The session id")),
    responses((status = 200, body = CatTraceOut), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn trace(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CatTraceOut>> {
    auth.require(Scopes::READ)?;
    let (_, doc) = load(&app, auth.tenant, &id).await?;
    Ok(Json(CatTraceOut {
        state: out(&id, &doc),
        selector: serde_json::to_value(doc.selector)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        estimator: serde_json::to_value(doc.estimator)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        randomesque: doc.randomesque,
        stop: doc.stop.clone(),
        steps: doc.steps,
    }))
}
