//! `/v1/analytics/…`: class mastery by skill, at-risk learners, item difficulty, skill
//! parameters and learning curves, computed by attune-analytics on the tenant's stored
//! answers (the class the caches hold).

use std::sync::Arc;

use attune_analytics::{
    AtRiskRule, ItemStats, SkillStats, Traces, item_stats, learning_curves, skill_stats, trace_learners,
};
use attune_models::Model;
use attune_store::Scopes;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::api::ModelRef;
use crate::auth::Auth;
use crate::class::Class;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Mastery at or above which a skill counts as mastered.
pub(crate) const MASTERED: f64 = 0.95;

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("invalid_field", e.body_text()))
}

fn no_model() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "no_model", "this tenant has no serving model yet: train one and switch to it")
}

/// One skill across the class.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillMastery {
    /// The skill's id.
    pub skill: String,
    /// Its name, where the catalog has one.
    pub name: Option<String>,
    /// Learners who practised it.
    pub learners: usize,
    /// Their mean mastery after their answers.
    pub mean_mastery: f64,
    /// Share of them at or above the mastery threshold.
    pub mastered_share: f64,
}

/// The class's mastery by skill.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassMasteryOut {
    /// The serving model the mastery is under.
    pub model: Option<ModelRef>,
    /// Learners with answers.
    pub learners: usize,
    /// Answers stored.
    pub answers: usize,
    /// The threshold of `mastered_share`.
    pub threshold: f64,
    /// Skills practised, in the model's order.
    pub skills: Vec<SkillMastery>,
}

/// Mastery by skill over every learner of the tenant, under the serving model.
#[utoipa::path(get, path = "/v1/analytics/mastery", tag = "analytics",
    responses((status = 200, body = ClassMasteryOut), (status = 409, description = "No serving model", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn mastery(State(app): State<Arc<App>>, auth: Auth) -> ApiResult<Json<ClassMasteryOut>> {
    auth.require(Scopes::READ)?;
    let (class, traces) = class_traces(&app, auth.tenant).await?;
    let skills = skill_mastery(&class, &traces);
    Ok(Json(ClassMasteryOut {
        model: class.serving.model_ref().map(|(name, version)| ModelRef { name, version }),
        learners: class.data.n_learners(),
        answers: class.data.len(),
        threshold: MASTERED,
        skills,
    }))
}

/// Mastery by skill over the traced learners, skills practised only, in the model's order.
pub(crate) fn skill_mastery(class: &Class, traces: &Traces) -> Vec<SkillMastery> {
    let n_skills = class.data.vocab().n_skills();
    let mut sums = vec![(0usize, 0.0f64, 0usize); n_skills];
    for learner in &traces.mastery {
        for &(s, m) in learner {
            if let Some(e) = sums.get_mut(s.index()) {
                e.0 += 1;
                e.1 += m;
                e.2 += usize::from(m >= MASTERED);
            }
        }
    }
    sums.iter()
        .enumerate()
        .filter(|(_, e)| e.0 > 0)
        .map(|(k, &(n, sum, mastered))| {
            let skill = class.skill_id(attune_core::SkillId(k as u32));
            SkillMastery {
                name: class.names.get(&skill).cloned(),
                skill,
                learners: n,
                mean_mastery: sum / n as f64,
                mastered_share: mastered as f64 / n as f64,
            }
        })
        .collect()
}

/// The class traced under the serving model (409 `no_model` without one).
pub(crate) async fn class_traces(app: &App, tenant: attune_store::TenantId) -> ApiResult<(Arc<Class>, Arc<Traces>)> {
    let class = app.class(tenant).await?;
    let c = class.clone();
    let traces =
        tokio::task::spawn_blocking(move || c.traces()).await.map_err(ApiError::internal)?.ok_or_else(no_model)?;
    Ok((class, traces))
}

/// The at-risk rule's thresholds (each defaults to attune-analytics' rule).
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RiskQuery {
    /// Answers needed before any judgement.
    pub min_answers: Option<usize>,
    /// Mean mastery below which a learner is at risk.
    pub low_mastery: Option<f64>,
    /// Length of the windows compared for stalling.
    pub window: Option<usize>,
    /// Success rate of the last window below which a learner may be stalled.
    pub stall_rate: Option<f64>,
    /// Rise of the success rate between windows that counts as progress.
    pub min_gain: Option<f64>,
}

/// A learner the rule flagged.
#[derive(Debug, Serialize, ToSchema)]
pub struct AtRiskLearner {
    /// The learner's id.
    pub learner: String,
    /// Answers stored.
    pub answers: usize,
    /// Share right.
    pub correct_rate: f64,
    /// Mean mastery over the skills practised.
    pub mean_mastery: f64,
    /// Why: `{"reason": "low_mastery", "mean_mastery"}` or `{"reason": "stalled",
    /// "recent_rate", "previous_rate"}`.
    #[schema(value_type = Object)]
    pub why: serde_json::Value,
}

/// Who is at risk and by which rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct AtRiskOut {
    /// The rule in words.
    pub rule: String,
    /// Learners judged (with enough answers or not).
    pub learners: usize,
    /// The flagged learners, lowest mastery first.
    pub at_risk: Vec<AtRiskLearner>,
}

/// Learners who need a teacher's attention, with the rule that flagged each.
#[utoipa::path(get, path = "/v1/analytics/at-risk", tag = "analytics", params(RiskQuery),
    responses((status = 200, body = AtRiskOut), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn at_risk(
    State(app): State<Arc<App>>,
    auth: Auth,
    q: Result<Query<RiskQuery>, QueryRejection>,
) -> ApiResult<Json<AtRiskOut>> {
    auth.require(Scopes::READ)?;
    let q = query(q)?;
    let mut rule = AtRiskRule::default();
    let d = rule.clone();
    rule.min_answers = q.min_answers.unwrap_or(d.min_answers);
    rule.window = q.window.unwrap_or(d.window);
    for (name, v, field) in [
        ("low_mastery", q.low_mastery, &mut rule.low_mastery),
        ("stall_rate", q.stall_rate, &mut rule.stall_rate),
        ("min_gain", q.min_gain, &mut rule.min_gain),
    ] {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) {
                return Err(ApiError::bad_request("invalid_field", format!("{name} = {v}: a value in [0, 1]")));
            }
            *field = v;
        }
    }
    if rule.window == 0 {
        return Err(ApiError::bad_request("invalid_field", "window = 0: at least 1"));
    }
    let class = app.class(auth.tenant).await?;
    let c = class.clone();
    let r = rule.clone();
    let traces = tokio::task::spawn_blocking(move || {
        if r == AtRiskRule::default() {
            c.traces()
        } else {
            c.serving.model.as_ref().map(|(_, m)| Arc::new(trace_learners(m, &c.data, &r)))
        }
    })
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(no_model)?;
    let mut at_risk: Vec<AtRiskLearner> = traces
        .profiles
        .iter()
        .filter_map(|p| {
            Some(AtRiskLearner {
                learner: p.learner.clone(),
                answers: p.answers,
                correct_rate: p.correct_rate,
                mean_mastery: p.mean_mastery,
                why: serde_json::to_value(p.at_risk?).ok()?,
            })
        })
        .collect();
    at_risk.sort_by(|a, b| a.mean_mastery.total_cmp(&b.mean_mastery).then_with(|| a.learner.cmp(&b.learner)));
    Ok(Json(AtRiskOut { rule: rule.describe(), learners: traces.profiles.len(), at_risk }))
}

/// Which registered version to read parameters from.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// A registry version (default: the serving one where it fits, else the newest that does).
    pub version: Option<i64>,
}

/// Item statistics and the IRT version they come from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemsOut {
    /// The IRT model version.
    pub model: ModelRef,
    /// Per answered item: `item`, `answers`, `correct_rate`, `difficulty` (2PL `b`),
    /// `discrimination` (`a`), `flags` (e.g. `negative discrimination`).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

/// Difficulty and discrimination of every answered item, from a registered IRT model.
#[utoipa::path(get, path = "/v1/analytics/items", tag = "analytics", params(VersionQuery),
    responses((status = 200, body = ItemsOut), (status = 409, description = "No IRT model registered", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn items(
    State(app): State<Arc<App>>,
    auth: Auth,
    q: Result<Query<VersionQuery>, QueryRejection>,
) -> ApiResult<Json<ItemsOut>> {
    auth.require(Scopes::READ)?;
    let q = query(q)?;
    let (model, items) = item_table(&app, auth.tenant, q.version).await?;
    let items = items.into_iter().filter_map(|s| serde_json::to_value(s).ok()).collect();
    Ok(Json(ItemsOut { model, items }))
}

/// Item statistics of every answered item under a registered IRT version (the newest, or
/// `version`).
pub(crate) async fn item_table(
    app: &App,
    tenant: attune_store::TenantId,
    version: Option<i64>,
) -> ApiResult<(ModelRef, Vec<ItemStats>)> {
    let (version, model) = app.registered(tenant, &["irt2pl", "irt1pl", "mirt"], version, "item statistics").await?;
    let class = app.class(tenant).await?;
    let name = model.name().as_str().to_owned();
    let items = tokio::task::spawn_blocking(move || {
        let Model::Irt(irt) = &model.model else { return Vec::new() };
        let data = model.ids.remap(&class.data);
        item_stats(irt, &data)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok((ModelRef { name, version }, items))
}

/// Skill statistics and the BKT version they come from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillsOut {
    /// The BKT model version.
    pub model: ModelRef,
    /// Per practised skill: `skill`, `name`, `answers`, `learners`, `coverage`,
    /// `correct_rate`, BKT `prior`, `learn`, `guess`, `slip`, `forget`, `flags`.
    #[schema(value_type = Vec<Object>)]
    pub skills: Vec<serde_json::Value>,
}

/// BKT parameters, coverage and odd fits of every practised skill, from a registered BKT model.
#[utoipa::path(get, path = "/v1/analytics/skills", tag = "analytics", params(VersionQuery),
    responses((status = 200, body = SkillsOut), (status = 409, description = "No BKT model registered", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn skills(
    State(app): State<Arc<App>>,
    auth: Auth,
    q: Result<Query<VersionQuery>, QueryRejection>,
) -> ApiResult<Json<SkillsOut>> {
    auth.require(Scopes::READ)?;
    let q = query(q)?;
    let (model, skills) = skill_table(&app, auth.tenant, q.version).await?;
    let skills = skills.into_iter().filter_map(|s| serde_json::to_value(s).ok()).collect();
    Ok(Json(SkillsOut { model, skills }))
}

/// Statistics of every practised skill under a registered BKT version (the newest, or
/// `version`).
pub(crate) async fn skill_table(
    app: &App,
    tenant: attune_store::TenantId,
    version: Option<i64>,
) -> ApiResult<(ModelRef, Vec<SkillStats>)> {
    let names = ["bkt", "bkt-forgets", "bkt-multigs"];
    let (version, model) = app.registered(tenant, &names, version, "skill statistics").await?;
    let class = app.class(tenant).await?;
    let name = model.name().as_str().to_owned();
    let skills = tokio::task::spawn_blocking(move || {
        let Model::Bkt(bkt) = &model.model else { return Vec::new() };
        let data = model.ids.remap(&class.data);
        skill_stats(bkt, &data, &class.names).into_iter().filter(|s| s.answers > 0).collect()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok((ModelRef { name, version }, skills))
}

/// Which learning curves.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CurvesQuery {
    /// One skill's curve (default: the pooled curve and every skill's).
    pub skill: Option<String>,
    /// Last practice opportunity (default 20, at most 200).
    pub max_opportunity: Option<u32>,
    /// Answers a point needs (default 10).
    pub min_count: Option<u32>,
}

/// One learning curve.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurveOut {
    /// The skill, `null` for all skills pooled.
    pub skill: Option<String>,
    /// Its name, where the catalog has one.
    pub name: Option<String>,
    /// `{opportunity, n, errors, error_rate}` per opportunity with enough answers.
    #[schema(value_type = Vec<Object>)]
    pub points: Vec<serde_json::Value>,
    /// The power law `error(n) = a · n^(-b)` fitted to the points: `{a, b, r2}`.
    #[schema(value_type = Object)]
    pub fit: Option<serde_json::Value>,
}

/// The error rate at each practice opportunity (pooled and per skill) and its power law.
#[utoipa::path(get, path = "/v1/analytics/curves", tag = "analytics", params(CurvesQuery),
    responses((status = 200, body = Vec<CurveOut>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn curves(
    State(app): State<Arc<App>>,
    auth: Auth,
    q: Result<Query<CurvesQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<CurveOut>>> {
    auth.require(Scopes::READ)?;
    let q = query(q)?;
    let max = q.max_opportunity.unwrap_or(20);
    if !(1..=200).contains(&max) {
        return Err(ApiError::bad_request("invalid_field", format!("max_opportunity = {max}: 1 to 200")));
    }
    let min_count = q.min_count.unwrap_or(10).max(1);
    let class = app.class(auth.tenant).await?;
    let wanted = match &q.skill {
        Some(s) => Some(class.data.vocab().skills.get(s).ok_or_else(|| ApiError::not_found("skill with answers", s))?),
        None => None,
    };
    let c = class.clone();
    let curves = tokio::task::spawn_blocking(move || learning_curves(&c.data, max, min_count))
        .await
        .map_err(ApiError::internal)?;
    let name_of = |skill: &Option<String>| skill.as_ref().and_then(|s| class.names.get(s).cloned());
    let out = curves
        .into_iter()
        .filter(|c| wanted.is_none() || c.skill.map(|s| s.0) == wanted)
        .map(|c| {
            let skill = c.skill.map(|s| class.skill_id(s));
            CurveOut {
                name: name_of(&skill),
                skill,
                points: c.points.iter().filter_map(|p| serde_json::to_value(p).ok()).collect(),
                fit: c.fit.and_then(|f| serde_json::to_value(f).ok()),
            }
        })
        .collect();
    Ok(Json(out))
}
