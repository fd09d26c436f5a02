//! `/v1/tutoring/sessions`: the tutoring loop. A session practises target skills with one
//! learner: next item → answer → feedback (the updated mastery, the weakest prerequisite and
//! why the next item was chosen) → … until every target skill is mastered or a limit is
//! reached. Answers go to the answer log like any other (xAPI statements whose
//! `context.registration` is a session's id count in that session); the session keeps the
//! trace.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use attune_core::SkillId;
use attune_models::LearnerState;
use attune_policy::{PracticeConfig, PrereqGraph};
use attune_store::{NewAnswer, Scopes, TenantId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::App;
use crate::api::{ModelRef, parse_one};
use crate::auth::Auth;
use crate::engine::Serving;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Session kind in the store.
pub(crate) const KIND: &str = "tutoring";

/// A new tutoring session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TutoringIn {
    /// The learner.
    pub learner: String,
    /// The skills to master (default: every skill of the serving model).
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// Probability of success the next item aims at (default 0.7).
    #[serde(default)]
    pub target: Option<f64>,
    /// Mastery at which a skill counts as mastered (default 0.95).
    #[serde(default)]
    pub mastery: Option<f64>,
    /// Most answers in the session (default 30).
    #[serde(default)]
    pub max_items: Option<usize>,
}

/// An answer in a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TutoringAnswerIn {
    /// The item answered (usually the suggested one; any item of the catalog is taken).
    pub item: String,
    /// Whether it was right.
    pub correct: bool,
    /// The client's id for the answer (default: from the session and step).
    #[serde(default)]
    pub id: Option<String>,
    /// When it was given, seconds since the epoch.
    #[serde(default)]
    pub time: Option<i64>,
}

/// The item to practise next and why.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct Suggestion {
    /// The item.
    pub item: String,
    /// Its skills.
    pub skills: Vec<String>,
    /// Predicted probability of success.
    pub predicted: f64,
    /// Why it was chosen, in a sentence a tutor can show.
    pub reason: String,
}

/// The least mastered prerequisite of the answered item's skills.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct WeakPrerequisite {
    /// The prerequisite skill.
    pub skill: String,
    /// The skill of the item that needs it.
    pub of: String,
    /// The learner's mastery of it.
    pub mastery: f64,
    /// Why it matters, in a sentence.
    pub reason: String,
}

/// One answer of a session and what the tutor made of it.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct TutoringStep {
    /// From 1.
    pub step: usize,
    /// The item answered.
    pub item: String,
    /// Whether it was the suggested item.
    pub suggested: bool,
    /// The answer.
    pub correct: bool,
    /// The probability of a right answer the model gave before it.
    pub predicted: Option<f64>,
    /// Mastery of the item's skills before the answer.
    pub mastery_before: BTreeMap<String, f64>,
    /// And after.
    pub mastery: BTreeMap<String, f64>,
    /// The weakest prerequisite of the item's skills, where one is not mastered.
    pub weakest_prerequisite: Option<WeakPrerequisite>,
    /// Feedback in words.
    pub feedback: String,
    /// What came next.
    pub next: Option<Suggestion>,
}

/// What a session stores.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct TutoringDoc {
    learner: String,
    skills: Vec<String>,
    target: f64,
    mastery: f64,
    max_items: usize,
    model: Option<(String, i64)>,
    status: String,
    next: Option<Suggestion>,
    steps: Vec<TutoringStep>,
}

/// A session as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutoringOut {
    /// The session id (also the xAPI `context.registration` that counts in it).
    pub id: String,
    /// The learner.
    pub learner: String,
    /// `active`, `mastered` (every target skill), `limit` (most answers reached) or
    /// `exhausted` (no item left to suggest).
    pub status: String,
    /// Answers in the session.
    pub answered: usize,
    /// Mastery of each target skill now.
    pub mastery: BTreeMap<String, f64>,
    /// The next item, while active.
    pub next: Option<Suggestion>,
    /// The last answer's feedback (after an answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<TutoringStep>,
    /// The model the session tutors with.
    pub model: Option<ModelRef>,
}

/// The full session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TutoringTraceOut {
    /// Where it stands.
    #[serde(flatten)]
    pub state: TutoringOut,
    /// The target skills.
    pub skills: Vec<String>,
    /// The success rate suggestions aim at.
    pub target: f64,
    /// The mastery threshold.
    pub threshold: f64,
    /// Most answers.
    pub max_items: usize,
    /// Every answer with its feedback.
    pub steps: Vec<TutoringStep>,
}

/// Mastery of `skills` (model indices) in `state`.
fn mastery_of(serving: &Serving, state: Option<&LearnerState>, skills: &[SkillId]) -> BTreeMap<String, f64> {
    let (Some((_, m)), Some(state)) = (&serving.model, state) else { return BTreeMap::new() };
    skills.iter().filter_map(|&s| Some((serving.skill_name(s), m.mastery(state, s)?.get()))).collect()
}

/// The session's targets on the serving model, plus every prerequisite they build on (items
/// of those may be suggested first).
fn targets(serving: &Serving, doc: &TutoringDoc, graph: &PrereqGraph) -> (Vec<SkillId>, BTreeSet<SkillId>) {
    let targets: Vec<SkillId> = doc.skills.iter().filter_map(|s| serving.skill_id(s)).collect();
    let mut practise: BTreeSet<SkillId> = targets.iter().copied().collect();
    for t in &targets {
        practise.extend(graph.ancestors(t.index()).into_iter().map(|k| SkillId(k as u32)));
    }
    (targets, practise)
}

/// Updates `doc`'s status and next suggestion from the learner's current state after
/// `answered` answers in the session.
async fn advance(
    app: &App,
    tenant: TenantId,
    doc: &mut TutoringDoc,
    graph: &PrereqGraph,
    answered: usize,
) -> ApiResult<BTreeMap<String, f64>> {
    let (serving, state, _) = app.engine.state(tenant, &doc.learner).await?;
    let (targets, practise) = targets(&serving, doc, graph);
    let mastery = mastery_of(&serving, state.as_ref(), &targets);
    doc.next = None;
    if !mastery.is_empty() && mastery.values().all(|&m| m >= doc.mastery) {
        doc.status = "mastered".into();
    } else if answered >= doc.max_items {
        doc.status = "limit".into();
    } else {
        let config = PracticeConfig { target: doc.target, mastered: doc.mastery, ..PracticeConfig::default() };
        let (serving, rec) = app.engine.next_among(tenant, &doc.learner, &config, Some(&practise), false).await?;
        match rec {
            Some(r) => {
                let item = serving.item_name(r.item);
                let name = |s: SkillId| serving.skill_name(s);
                doc.next = Some(Suggestion {
                    reason: r.reason.describe(&item, &name),
                    skills: serving.skills_of_item(r.item).iter().map(|&s| serving.skill_name(s)).collect(),
                    predicted: r.reason.predicted,
                    item,
                });
                doc.status = "active".into();
            }
            None => doc.status = "exhausted".into(),
        }
    }
    Ok(mastery)
}

async fn graph(app: &App, tenant: TenantId, serving: &Serving) -> ApiResult<PrereqGraph> {
    let edges = app.store.prerequisites(tenant).await?;
    let pairs: Vec<(String, String)> = edges.into_iter().map(|p| (p.requires, p.skill)).collect();
    let skills = serving.model.as_ref().map_or(&[][..], |(_, m)| m.ids.skills.as_slice());
    Ok(PrereqGraph::new(skills, &pairs))
}

fn out(id: &str, doc: &TutoringDoc, mastery: BTreeMap<String, f64>, feedback: Option<TutoringStep>) -> TutoringOut {
    TutoringOut {
        id: id.to_owned(),
        learner: doc.learner.clone(),
        status: doc.status.clone(),
        answered: doc.steps.len(),
        mastery,
        next: doc.next.clone(),
        feedback,
        model: doc.model.clone().map(|(name, version)| ModelRef { name, version }),
    }
}

fn check_probability(field: &str, v: Option<f64>, default: f64) -> ApiResult<f64> {
    match v {
        None => Ok(default),
        Some(p) if p > 0.0 && p < 1.0 => Ok(p),
        Some(p) => Err(ApiError::bad_request("invalid_field", format!("{field} = {p}: a probability in (0, 1)"))),
    }
}

/// Starts a tutoring session: the first item to practise and why.
#[utoipa::path(post, path = "/v1/tutoring/sessions", tag = "tutoring", request_body = TutoringIn,
    responses(
        (status = 201, body = TutoringOut),
        (status = 400, description = "An invalid field or a skill the model lacks", body = ErrorBody),
        (status = 409, description = "No serving model", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<TutoringOut>)> {
    auth.require(Scopes::WRITE)?;
    let req: TutoringIn = parse_one(body)?;
    attune_store::check_learner(&req.learner)?;
    let serving = app.engine.serving(auth.tenant).await?;
    let Some((_, model)) = &serving.model else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_model",
            "this tenant has no serving model yet: train one and switch to it",
        ));
    };
    let skills = match req.skills {
        Some(s) if s.is_empty() => return Err(ApiError::bad_request("invalid_field", "skills: none given")),
        Some(s) => {
            if let Some(bad) = s.iter().find(|k| serving.skill_id(k).is_none()) {
                return Err(ApiError::bad_request(
                    "unknown_skill",
                    format!("skills: {bad:?} is not a skill of the serving model"),
                ));
            }
            s
        }
        None => model.ids.skills.clone(),
    };
    let max_items = req.max_items.unwrap_or(30);
    if max_items == 0 || max_items > 10_000 {
        return Err(ApiError::bad_request("invalid_field", format!("max_items = {max_items}: 1 to 10000")));
    }
    let mut doc = TutoringDoc {
        learner: req.learner,
        skills,
        target: check_probability("target", req.target, 0.7)?,
        mastery: check_probability("mastery", req.mastery, 0.95)?,
        max_items,
        model: serving.model_ref(),
        status: "active".into(),
        next: None,
        steps: Vec::new(),
    };
    let graph = graph(&app, auth.tenant, &serving).await?;
    let mastery = advance(&app, auth.tenant, &mut doc, &graph, 0).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_value(&doc).map_err(ApiError::internal)?;
    app.store.create_session(auth.tenant, &id, KIND, Some(&doc.learner), &body).await?;
    if doc.status != "active" {
        app.store.update_session(auth.tenant, &id, 0, &body, true).await?;
    }
    Ok((StatusCode::CREATED, Json(out(&id, &doc, mastery, None))))
}

async fn load(app: &App, tenant: TenantId, id: &str) -> ApiResult<(i64, TutoringDoc)> {
    let s = app.store.session(tenant, KIND, id).await?.ok_or_else(|| ApiError::not_found("tutoring session", id))?;
    let doc = serde_json::from_value(s.body).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt_session", format!("tutoring session {id}: {e}"))
    })?;
    Ok((s.steps, doc))
}

/// The weakest unmastered prerequisite of `skills` in `state`.
fn weakest(
    serving: &Serving,
    state: Option<&LearnerState>,
    skills: &[SkillId],
    graph: &PrereqGraph,
    threshold: f64,
) -> Option<WeakPrerequisite> {
    let (Some((_, m)), Some(state)) = (&serving.model, state) else { return None };
    let mut best: Option<(f64, SkillId, SkillId)> = None;
    for &s in skills {
        if s.index() >= graph.len() {
            continue;
        }
        for &p in graph.prerequisites(s.index()) {
            let p = SkillId(p as u32);
            let Some(mastery) = m.mastery(state, p).map(|x| x.get()) else { continue };
            if mastery < threshold && best.is_none_or(|(b, ..)| mastery < b) {
                best = Some((mastery, p, s));
            }
        }
    }
    best.map(|(mastery, p, s)| {
        let (p, s) = (serving.skill_name(p), serving.skill_name(s));
        WeakPrerequisite {
            reason: format!(
                "{p} is a prerequisite of {s}, and at mastery {mastery:.2} it is the least mastered of them: practise {p} if {s} stays hard"
            ),
            skill: p,
            of: s,
            mastery,
        }
    })
}

/// Applies one answer to session `id`: `None` where there is no active session `id` of
/// `learner` (the answer is then recorded as a plain answer by the caller).
pub(crate) async fn answer_in(
    app: &App,
    tenant: TenantId,
    id: &str,
    answer: NewAnswer,
) -> ApiResult<Option<TutoringOut>> {
    let Some(s) = app.store.session(tenant, KIND, id).await? else { return Ok(None) };
    if s.finished || s.learner.as_deref() != Some(answer.learner.as_str()) {
        return Ok(None);
    }
    let (version, mut doc) = load(app, tenant, id).await?;
    let step = doc.steps.len() + 1;
    let serving = app.engine.serving(tenant).await?;
    let item = serving.item_id(&answer.item);
    let skills: Vec<SkillId> = match (answer.skills.is_empty(), item) {
        (true, Some(i)) => serving.skills_of_item(i).to_vec(),
        _ => answer.skills.iter().filter_map(|s| serving.skill_id(s)).collect(),
    };
    let (_, before, _) = app.engine.state(tenant, &doc.learner).await?;
    let mastery_before = mastery_of(&serving, before.as_ref(), &skills);
    let (item, correct, suggested) =
        (answer.item.clone(), answer.correct, doc.next.as_ref().is_some_and(|n| n.item == answer.item));
    let (_, recorded) = app.engine.record(tenant, vec![answer], false).await?;
    let Some(r) = recorded.first() else { return Ok(None) };
    let (serving, after, _) = app.engine.state(tenant, &doc.learner).await?;
    if r.duplicate {
        // A retry: the step was taken (or the answer belongs elsewhere); the session as it is.
        let targets = targets(&serving, &doc, &graph(app, tenant, &serving).await?).0;
        let mastery = mastery_of(&serving, after.as_ref(), &targets);
        return Ok(Some(out(id, &doc, mastery, doc.steps.last().cloned())));
    }
    let graph = graph(app, tenant, &serving).await?;
    let mastery = mastery_of(&serving, after.as_ref(), &skills);
    let weakest_prerequisite = weakest(&serving, after.as_ref(), &skills, &graph, doc.mastery);
    let target_mastery = advance(app, tenant, &mut doc, &graph, step).await?;
    let mut feedback = String::from(if correct { "Right." } else { "Not this time." });
    for (k, after) in &mastery {
        if let Some(before) = mastery_before.get(k) {
            let verb = if after >= before { "rose" } else { "fell" };
            feedback.push_str(&format!(" Mastery of {k} {verb} from {before:.2} to {after:.2}."));
        }
    }
    if let Some(w) = &weakest_prerequisite {
        feedback.push_str(&format!(" {} is the weakest prerequisite (mastery {:.2}).", w.skill, w.mastery));
    }
    match (doc.status.as_str(), &doc.next) {
        ("mastered", _) => feedback.push_str(" Every target skill is mastered: the session is complete."),
        ("limit", _) => feedback.push_str(" The session reached its limit of answers."),
        ("exhausted", _) => feedback.push_str(" No item is left to suggest."),
        (_, Some(n)) => feedback.push_str(&format!(" Next: {}", n.reason)),
        _ => {}
    }
    let taken = TutoringStep {
        step,
        item,
        suggested,
        correct,
        predicted: r.predicted,
        mastery_before,
        mastery,
        weakest_prerequisite,
        feedback,
        next: doc.next.clone(),
    };
    doc.steps.push(taken.clone());
    let body = serde_json::to_value(&doc).map_err(ApiError::internal)?;
    if !app.store.update_session(tenant, id, version, &body, doc.status != "active").await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("another answer to session {id} came first: the answer is stored; read the session"),
        ));
    }
    Ok(Some(out(id, &doc, target_mastery, Some(taken))))
}

/// Records an answer in the session: the feedback (updated mastery, weakest prerequisite)
/// and the next item with its reason, or how the session ended.
#[utoipa::path(post, path = "/v1/tutoring/sessions/{id}/answers", tag = "tutoring", request_body = TutoringAnswerIn,
    params(("id" = String, Path, description = "The session id")),
    responses(
        (status = 200, body = TutoringOut),
        (status = 404, description = "No such session in the tenant", body = ErrorBody),
        (status = 409, description = "The session has ended, or another answer came first", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn answer(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<TutoringOut>> {
    auth.require(Scopes::WRITE)?;
    let req: TutoringAnswerIn = parse_one(body)?;
    let (version, doc) = load(&app, auth.tenant, &id).await?;
    if doc.status != "active" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "session_finished",
            format!("tutoring session {id} has ended ({})", doc.status),
        ));
    }
    let answer = NewAnswer {
        id: req.id.unwrap_or_else(|| format!("tutor:{id}:{}", version + 1)),
        learner: doc.learner,
        item: req.item,
        correct: req.correct,
        time: req.time,
        skills: Vec::new(),
        model: None,
    };
    answer.validate()?;
    answer_in(&app, auth.tenant, &id, answer).await?.map(Json).ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "session_finished", format!("tutoring session {id} has ended"))
    })
}

/// The session with every answer and its feedback.
#[utoipa::path(get, path = "/v1/tutoring/sessions/{id}", tag = "tutoring",
    params(("id" = String, Path, description = "The session id")),
    responses((status = 200, body = TutoringTraceOut), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn trace(
    State(app): State<Arc<App>>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TutoringTraceOut>> {
    auth.require(Scopes::READ)?;
    let (_, doc) = load(&app, auth.tenant, &id).await?;
    let (serving, state, _) = app.engine.state(auth.tenant, &doc.learner).await?;
    let graph = graph(&app, auth.tenant, &serving).await?;
    let mastery = mastery_of(&serving, state.as_ref(), &targets(&serving, &doc, &graph).0);
    Ok(Json(TutoringTraceOut {
        state: out(&id, &doc, mastery, None),
        skills: doc.skills.clone(),
        target: doc.target,
        threshold: doc.mastery,
        max_items: doc.max_items,
        steps: doc.steps,
    }))
}
