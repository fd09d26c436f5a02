//! The JSON routes under `/v1/`: answers, learner state, next item, the catalog.

use std::collections::BTreeMap;
use std::sync::Arc;

use attune_policy::PracticeConfig;
use attune_store::{Item, NewAnswer, Prerequisite, Scopes};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Most answers one request may carry.
pub(crate) const MAX_ANSWERS: usize = 10_000;

/// One answer: `{"id", "learner", "item", "correct", "time"?, "skills"?}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerIn {
    /// The client's id for the answer: a retry with the same id is answered 200 and not
    /// counted again.
    pub id: String,
    /// The learner's id.
    pub learner: String,
    /// The item's id.
    pub item: String,
    /// Whether the answer was right.
    pub correct: bool,
    /// When it was given, seconds since the epoch (default: when it arrives).
    #[serde(default)]
    pub time: Option<i64>,
    /// The item's skills, where the client tags them (default: the model's Q-matrix).
    #[serde(default)]
    pub skills: Vec<String>,
}

/// A model version: its registry name and version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelRef {
    /// Registry name, e.g. `bkt`.
    pub name: String,
    /// Version in the tenant's registry.
    pub version: i64,
}

fn model_ref(m: Option<(String, i64)>) -> Option<ModelRef> {
    m.map(|(name, version)| ModelRef { name, version })
}

/// What became of one answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerResult {
    /// The client's id.
    pub id: String,
    /// Its place in the tenant's answer log.
    pub seq: i64,
    /// Whether the id was stored before (the answer was not counted again).
    pub duplicate: bool,
    /// The serving model's probability of a right answer before this one (new answers).
    pub predicted: Option<f64>,
    /// Mastery of the answer's skills after it (single-answer requests).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub mastery: BTreeMap<String, f64>,
}

/// The reply to `POST /v1/answers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswersOut {
    /// One result per answer sent, in order.
    pub results: Vec<AnswerResult>,
    /// How many were new.
    pub stored: usize,
    /// How many had been stored before.
    pub duplicates: usize,
    /// The model that scored them.
    pub model: Option<ModelRef>,
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "bad_body" };
        ApiError::new(status, code, e.body_text())
    })
}

fn json_value(body: Result<Bytes, BytesRejection>) -> ApiResult<serde_json::Value> {
    let body = body_bytes(body)?;
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("invalid_json", format!("not JSON: {e}")))
}

/// `v` as `T`, the error naming the field's path under `at`, e.g. `answers[3].correct:
/// invalid type: …`.
fn from_value<T: DeserializeOwned>(v: serde_json::Value, at: &str) -> ApiResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = Some(e.path().to_string()).filter(|p| p != ".");
        let at = match (at.is_empty(), path) {
            (true, None) => String::new(),
            (true, Some(p)) => format!("{p}: "),
            (false, None) => format!("{at}: "),
            (false, Some(p)) => format!("{at}.{p}: "),
        };
        ApiError::bad_request("invalid_field", format!("{at}{}", e.inner()))
    })
}

/// Parses `body` as one `T` or an array of them, the error naming the field (and the
/// element of an array).
pub(crate) fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>, what: &str) -> ApiResult<Vec<T>> {
    match json_value(body)? {
        serde_json::Value::Array(items) => {
            items.into_iter().enumerate().map(|(i, v)| from_value(v, &format!("{what}[{i}]"))).collect()
        }
        v @ serde_json::Value::Object(_) => Ok(vec![from_value(v, "")?]),
        _ => Err(ApiError::bad_request("invalid_json", format!("expected one {what} object or an array of them"))),
    }
}

/// Parses `body` as one JSON object `T`, the error naming the field.
pub(crate) fn parse_one<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    match json_value(body)? {
        v @ serde_json::Value::Object(_) => from_value(v, ""),
        _ => Err(ApiError::bad_request("invalid_json", "expected a JSON object")),
    }
}

/// Records one answer or an array of them; each is acknowledged only once committed.
#[utoipa::path(post, path = "/v1/answers", tag = "answers",
    request_body(content = AnswerIn, description = "One answer or an array of them"),
    responses(
        (status = 200, description = "Stored (or stored before)", body = AnswersOut),
        (status = 400, description = "Malformed JSON or an invalid field: nothing stored", body = ErrorBody),
        (status = 401, description = "Missing or unknown key", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn post_answers(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<AnswersOut>> {
    auth.require(Scopes::WRITE)?;
    let answers: Vec<AnswerIn> = parse(body, "answers")?;
    if answers.is_empty() || answers.len() > MAX_ANSWERS {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("answers: {} given, 1 to {MAX_ANSWERS} per request", answers.len()),
        ));
    }
    let single = answers.len() == 1;
    let ids: Vec<String> = answers.iter().map(|a| a.id.clone()).collect();
    let new: Vec<NewAnswer> = answers
        .into_iter()
        .map(|a| NewAnswer {
            id: a.id,
            learner: a.learner,
            item: a.item,
            correct: a.correct,
            time: a.time,
            skills: a.skills,
            model: None,
        })
        .collect();
    let (model, recorded) = app.engine.record(auth.tenant, new, single).await?;
    let duplicates = recorded.iter().filter(|r| r.duplicate).count();
    app.metrics.answers(recorded.len() - duplicates, duplicates);
    let results = ids
        .into_iter()
        .zip(recorded)
        .map(|(id, r)| AnswerResult {
            id,
            seq: r.seq,
            duplicate: r.duplicate,
            predicted: r.predicted,
            mastery: r.mastery.into_iter().collect(),
        })
        .collect::<Vec<_>>();
    Ok(Json(AnswersOut { stored: results.len() - duplicates, duplicates, results, model: model_ref(model) }))
}

/// A learner's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateOut {
    /// The learner's id.
    pub learner: String,
    /// How many answers are stored for them.
    pub answers: i64,
    /// P(mastery) per skill, by skill id (empty without a serving model).
    pub mastery: BTreeMap<String, f64>,
    /// The model and version the state is under.
    pub model: Option<ModelRef>,
}

/// The learner's state under the serving model: the replay of their stored answers.
#[utoipa::path(get, path = "/v1/learners/{learner}/state", tag = "learners",
    params(("learner" = String, Path, description = "The learner's id")),
    responses(
        (status = 200, body = StateOut),
        (status = 404, description = "No answers of this learner in the tenant", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn get_state(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(learner): Path<String>,
) -> ApiResult<Json<StateOut>> {
    auth.require(Scopes::READ)?;
    let (serving, view) = app.engine.view(auth.tenant, &learner).await?;
    Ok(Json(StateOut { learner, answers: view.answers, mastery: view.mastery, model: model_ref(serving.model_ref()) }))
}

/// Options of `GET /v1/learners/{learner}/next`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct NextQuery {
    /// The probability of success to aim at (default 0.7).
    pub target: Option<f64>,
}

/// A prerequisite of the recommended item's skills and the learner's mastery of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrerequisiteOut {
    /// The prerequisite skill.
    pub skill: String,
    /// The learner's mastery of it, where the model estimates one.
    pub mastery: Option<f64>,
}

/// The next item and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextOut {
    /// The learner's id.
    pub learner: String,
    /// The item to practise; `null` when every item is mastered or waits on a prerequisite.
    pub item: Option<String>,
    /// The item's skills.
    pub skills: Vec<String>,
    /// Predicted probability of success on it.
    pub predicted: Option<f64>,
    /// The target it was chosen for.
    pub target: f64,
    /// The learner's mastery of the item's (first) skill.
    pub mastery: Option<f64>,
    /// The prerequisites of its skills, with the learner's mastery of each.
    pub prerequisites: Vec<PrerequisiteOut>,
    /// The reason in one sentence a tutor can show.
    pub reason: String,
    /// The model that chose it.
    pub model: Option<ModelRef>,
}

/// The next item at the target success rate, skipping mastered skills and skills whose
/// prerequisites the learner is not ready for, with the reason.
#[utoipa::path(get, path = "/v1/learners/{learner}/next", tag = "learners",
    params(("learner" = String, Path, description = "The learner's id"), NextQuery),
    responses(
        (status = 200, body = NextOut),
        (status = 400, description = "A target outside (0, 1)", body = ErrorBody),
        (status = 404, description = "No answers of this learner in the tenant", body = ErrorBody),
        (status = 409, description = "No serving model", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn get_next(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(learner): Path<String>,
    query: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<NextOut>> {
    auth.require(Scopes::READ)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_field", e.body_text()))?;
    let mut config = PracticeConfig::default();
    if let Some(t) = q.target {
        if !(t > 0.0 && t < 1.0) {
            return Err(ApiError::bad_request("invalid_field", format!("target = {t}: a probability in (0, 1)")));
        }
        config.target = t;
    }
    let (serving, rec) = app.engine.next(auth.tenant, &learner, &config).await?;
    Ok(Json(next_out(&serving, learner, rec.as_ref(), config.target, None)))
}

/// A recommendation as the API and the dashboard show it: item and skill ids, the
/// prerequisites' mastery, the reason in words (naming skills by `names` where given, the
/// catalog's names on the dashboard).
pub(crate) fn next_out(
    serving: &crate::engine::Serving,
    learner: String,
    rec: Option<&attune_policy::Recommendation>,
    target: f64,
    names: Option<&std::collections::HashMap<String, String>>,
) -> NextOut {
    let model = serving.model.as_ref().map(|(_, m)| m);
    let skill_name = |s: attune_core::SkillId| {
        model.and_then(|m| m.ids.skills.get(s.index())).cloned().unwrap_or_else(|| format!("#{s}"))
    };
    let shown_name = |s: attune_core::SkillId| {
        let id = skill_name(s);
        names.and_then(|n| n.get(&id).cloned()).unwrap_or(id)
    };
    match rec {
        Some(r) => {
            let item = model.and_then(|m| m.ids.items.get(r.item.index())).cloned().unwrap_or_default();
            let skills = model
                .and_then(|m| m.ids.item_skills.get(r.item.index()))
                .map(|s| s.iter().map(|&k| skill_name(attune_core::SkillId(k))).collect())
                .unwrap_or_default();
            NextOut {
                learner,
                reason: r.reason.describe(&item, &shown_name),
                item: Some(item),
                skills,
                predicted: Some(r.reason.predicted),
                target: r.reason.target,
                mastery: r.reason.mastery,
                prerequisites: r
                    .reason
                    .prerequisites
                    .iter()
                    .map(|&(s, m)| PrerequisiteOut { skill: skill_name(s), mastery: m })
                    .collect(),
                model: model_ref(serving.model_ref()),
            }
        }
        None => NextOut {
            learner,
            item: None,
            skills: Vec::new(),
            predicted: None,
            target,
            mastery: None,
            prerequisites: Vec::new(),
            reason: "every item's skills are mastered or wait on a prerequisite".into(),
            model: model_ref(serving.model_ref()),
        },
    }
}

/// An item to import.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ItemIn {
    /// The item's id.
    pub item: String,
    /// Its skills.
    #[serde(default)]
    pub skills: Vec<String>,
}

/// How many were stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredOut {
    /// Rows stored.
    pub stored: usize,
}

/// Imports items with their skills (one or an array; an item's skills are replaced).
#[utoipa::path(post, path = "/v1/items", tag = "catalog", request_body = ItemIn,
    responses((status = 200, body = StoredOut), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn post_items(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<StoredOut>> {
    auth.require(Scopes::WRITE)?;
    let items: Vec<ItemIn> = parse(body, "items")?;
    let items: Vec<Item> = items.into_iter().map(|i| Item { item: i.item, skills: i.skills }).collect();
    app.store.put_items(auth.tenant, &items).await?;
    Ok(Json(StoredOut { stored: items.len() }))
}

/// The tenant's items.
#[utoipa::path(get, path = "/v1/items", tag = "catalog", responses((status = 200, body = Vec<ItemIn>)),
    security(("bearer" = [])))]
pub(crate) async fn get_items(State(app): State<Arc<App>>, auth: Auth) -> ApiResult<Json<Vec<ItemIn>>> {
    auth.require(Scopes::READ)?;
    let items = app.store.items(auth.tenant).await?;
    Ok(Json(items.into_iter().map(|i| ItemIn { item: i.item, skills: i.skills }).collect()))
}

/// A prerequisite edge: `skill` needs `requires` first.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PrerequisiteIn {
    /// The later skill.
    pub skill: String,
    /// The skill it builds on.
    pub requires: String,
}

/// Adds prerequisite edges (one or an array).
#[utoipa::path(post, path = "/v1/prerequisites", tag = "catalog", request_body = PrerequisiteIn,
    responses((status = 200, body = StoredOut), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn post_prerequisites(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<StoredOut>> {
    auth.require(Scopes::WRITE)?;
    let edges: Vec<PrerequisiteIn> = parse(body, "prerequisites")?;
    let edges: Vec<Prerequisite> =
        edges.into_iter().map(|e| Prerequisite { skill: e.skill, requires: e.requires }).collect();
    app.store.add_prerequisites(auth.tenant, &edges).await?;
    Ok(Json(StoredOut { stored: edges.len() }))
}

/// A registered model version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelVersionOut {
    /// The version, from 1.
    pub version: i64,
    /// The model's registry name.
    pub name: String,
    /// Its fit metrics.
    pub metrics: serde_json::Value,
    /// When it was registered (seconds since the epoch).
    pub created_at: i64,
    /// Whether it serves.
    pub serving: bool,
}

/// The tenant's model registry, oldest version first.
#[utoipa::path(get, path = "/v1/models", tag = "models", responses((status = 200, body = Vec<ModelVersionOut>)),
    security(("bearer" = [])))]
pub(crate) async fn get_models(State(app): State<Arc<App>>, auth: Auth) -> ApiResult<Json<Vec<ModelVersionOut>>> {
    auth.require(Scopes::READ)?;
    let models = app.store.models(auth.tenant).await?;
    Ok(Json(
        models
            .into_iter()
            .map(|m| ModelVersionOut {
                version: m.version,
                name: m.name,
                metrics: m.metrics,
                created_at: m.created_at,
                serving: m.serving,
            })
            .collect(),
    ))
}

/// Makes `version` the serving one (a switch or a rollback, atomic); every learner state
/// follows it by replay of the answer log.
#[utoipa::path(post, path = "/v1/models/{version}/serve", tag = "models",
    params(("version" = i64, Path, description = "A version of the tenant's registry")),
    responses(
        (status = 200, body = ModelRef),
        (status = 403, description = "The key lacks the admin scope", body = ErrorBody),
        (status = 404, description = "No such version in the tenant", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn post_serve(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(version): Path<String>,
) -> ApiResult<Json<ModelRef>> {
    let version: i64 = version
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_field", format!("version {version:?}: a version number")))?;
    serve_version(&app, auth, version).await.map(Json)
}

/// Makes `version` the tenant's serving one (admin scope) and reloads the engine.
pub(crate) async fn serve_version(app: &App, auth: Auth, version: i64) -> ApiResult<ModelRef> {
    auth.require(Scopes::ADMIN)?;
    app.store.serve_model(auth.tenant, version).await?;
    let serving = app.engine.reload(auth.tenant).await?;
    model_ref(serving.model_ref()).ok_or_else(|| ApiError::not_found("model version", &version.to_string()))
}

/// A learner to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LearnerIn {
    /// The learner's id.
    pub learner: String,
}

/// A learner as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearnerOut {
    /// The learner's id.
    pub learner: String,
    /// Answers stored.
    pub answers: i64,
    /// Share of them right (`null` without answers).
    pub correct_rate: Option<f64>,
    /// When they were registered or first answered (seconds since the epoch).
    pub created_at: i64,
    /// Time of their last answer.
    pub last_answer: Option<i64>,
}

/// Registers learners (one or an array) before their first answer; known ones are kept.
#[utoipa::path(post, path = "/v1/learners", tag = "learners", request_body = LearnerIn,
    responses((status = 200, description = "How many were new", body = StoredOut), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn post_learners(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<StoredOut>> {
    auth.require(Scopes::WRITE)?;
    let learners: Vec<LearnerIn> = parse(body, "learners")?;
    if learners.len() > MAX_ANSWERS {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("learners: {} given, at most {MAX_ANSWERS}", learners.len()),
        ));
    }
    let ids: Vec<String> = learners.into_iter().map(|l| l.learner).collect();
    let new = app.store.register_learners(auth.tenant, &ids).await?;
    Ok(Json(StoredOut { stored: usize::try_from(new).unwrap_or(usize::MAX) }))
}

/// The tenant's learners with their answer counts, in order of registration.
#[utoipa::path(get, path = "/v1/learners", tag = "learners", responses((status = 200, body = Vec<LearnerOut>)),
    security(("bearer" = [])))]
pub(crate) async fn get_learners(State(app): State<Arc<App>>, auth: Auth) -> ApiResult<Json<Vec<LearnerOut>>> {
    auth.require(Scopes::READ)?;
    let rows = app.store.learner_summaries(auth.tenant).await?;
    Ok(Json(
        rows.into_iter()
            .map(|l| LearnerOut {
                correct_rate: (l.answers > 0).then(|| l.right as f64 / l.answers as f64),
                learner: l.learner,
                answers: l.answers,
                created_at: l.created_at,
                last_answer: l.last_answer,
            })
            .collect(),
    ))
}
