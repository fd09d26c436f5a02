//! The tenant's whole answer log as one dataset on the serving model's indices (what the
//! analytics read), and registered model versions other than the serving one (an IRT bank for
//! adaptive tests and item difficulty, BKT parameters for skills), both cached and rebuilt
//! only when the log or the registry moved on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use attune_analytics::{AtRiskRule, LearningCurve, Traces, learning_curves, trace_learners};
use attune_core::{Dataset, DatasetBuilder, SkillId, Vocab};
use attune_models::FittedModel;
use attune_store::{StoredAnswer, TenantId};
use axum::http::StatusCode;

use crate::App;
use crate::engine::Serving;
use crate::error::{ApiError, ApiResult};

/// Answers read from the log per query while building a class.
const PAGE: usize = 50_000;

/// A tenant's log as a dataset, as of `head`, under the serving version.
pub(crate) struct Class {
    /// The last log place it holds.
    pub(crate) head: i64,
    /// The serving model it was built under (its states are the engine's).
    pub(crate) serving: Arc<Serving>,
    /// Every answer, learners in order of first answer, each learner's answers in log order,
    /// on the serving model's item and skill indices (others past them); an answer's skills
    /// are its own, else the model's Q-matrix, else the catalog's.
    pub(crate) data: Dataset,
    /// Skill names from the catalog.
    pub(crate) names: HashMap<String, String>,
    /// The log as read, kept so that the next class reads only what is new.
    answers: Arc<Vec<StoredAnswer>>,
    traces: OnceLock<Arc<Traces>>,
    answers_per_skill: OnceLock<Vec<usize>>,
    pooled_curve: OnceLock<Option<LearningCurve>>,
    activity: OnceLock<Vec<(String, u32, u32)>>,
}

impl Class {
    /// The learners traced under the serving model with the default at-risk rule (computed
    /// once per class).
    pub(crate) fn traces(&self) -> Option<Arc<Traces>> {
        let (_, model) = self.serving.model.as_ref()?;
        Some(self.traces.get_or_init(|| Arc::new(trace_learners(model, &self.data, &AtRiskRule::default()))).clone())
    }

    /// Answers per skill, by skill index (computed once per class).
    pub(crate) fn answers_per_skill(&self) -> &[usize] {
        self.answers_per_skill.get_or_init(|| {
            let mut n = vec![0usize; self.data.vocab().n_skills()];
            for i in 0..self.data.len() {
                for s in self.data.skills(i) {
                    if let Some(c) = n.get_mut(s.index()) {
                        *c += 1;
                    }
                }
            }
            n
        })
    }

    /// The error rate by practice opportunity over every learner and skill, with its power
    /// law (opportunities 1 to 20, points of at least 10 answers; computed once per class).
    pub(crate) fn pooled_curve(&self) -> Option<&LearningCurve> {
        self.pooled_curve.get_or_init(|| learning_curves(&self.data, 20, 10).into_iter().next()).as_ref()
    }

    /// Answers and distinct learners per day (per month where the log spans more than 120
    /// days), by the time each answer was given, the last 120 buckets (computed once per
    /// class).
    pub(crate) fn activity(&self) -> &[(String, u32, u32)] {
        self.activity.get_or_init(|| {
            let day = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.date_naive());
            let days = || self.answers.iter().filter_map(|a| day(a.time));
            let (Some(first), Some(last)) = (days().min(), days().max()) else { return Vec::new() };
            let monthly = (last - first).num_days() > 120;
            let format = if monthly { "%Y-%m" } else { "%Y-%m-%d" };
            let mut buckets: BTreeMap<String, (u32, BTreeSet<&str>)> = BTreeMap::new();
            for a in self.answers.iter() {
                if let Some(d) = day(a.time) {
                    let e = buckets.entry(d.format(format).to_string()).or_default();
                    e.0 += 1;
                    e.1.insert(&a.learner);
                }
            }
            let n = buckets.len();
            buckets.into_iter().skip(n.saturating_sub(120)).map(|(k, (a, l))| (k, a, l.len() as u32)).collect()
        })
    }

    /// The skill's name from the catalog, else its id.
    pub(crate) fn skill_label(&self, skill: SkillId) -> String {
        let id = self.skill_id(skill);
        self.names.get(&id).cloned().unwrap_or(id)
    }

    /// The skill's id in the data.
    pub(crate) fn skill_id(&self, skill: SkillId) -> String {
        self.data.vocab().skills.name(skill.0).unwrap_or("?").to_owned()
    }
}

/// What a class is built under when the cached one is stale: the serving version, the log's
/// head and its size.
type Stale = (Arc<Serving>, i64, i64);

/// The cached classes and registered models of every tenant.
#[derive(Default)]
pub(crate) struct Caches {
    classes: Mutex<HashMap<TenantId, Arc<Class>>>,
    /// One build of a tenant's class at a time: a request arriving during a build (the
    /// start's warm-up, say) waits for it instead of reading the log a second time.
    building: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<()>>>>,
    models: Mutex<HashMap<(TenantId, i64), Arc<FittedModel>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl App {
    /// The tenant's class as of now: the cached one while the log and serving version are
    /// unchanged, else rebuilt from the log.
    pub(crate) async fn class(&self, tenant: TenantId) -> ApiResult<Arc<Class>> {
        if let Ok(c) = self.cached_class(tenant).await? {
            return Ok(c);
        }
        let gate = lock(&self.caches.building).entry(tenant).or_default().clone();
        let _building = gate.lock().await;
        // Whoever held the gate may have built just what is needed.
        let (serving, head, count) = match self.cached_class(tenant).await? {
            Ok(c) => return Ok(c),
            Err(now) => now,
        };
        // The log only grows: read what the cached class lacks, not the whole log again.
        let cached = lock(&self.caches.classes).get(&tenant).map(|c| c.answers.clone());
        let mut answers: Vec<StoredAnswer> = match &cached {
            Some(a) if a.last().is_none_or(|l| l.seq <= head) => a.as_ref().clone(),
            _ => Vec::new(),
        };
        self.read_log(tenant, head, &mut answers).await?;
        if answers.len() as i64 != count {
            // Another server committed below the cached head: read the log afresh.
            answers.clear();
            self.read_log(tenant, head, &mut answers).await?;
        }
        let answers = Arc::new(answers);
        let names: HashMap<String, String> =
            self.store.skills(tenant).await?.into_iter().filter_map(|(k, n)| Some((k, n?))).collect();
        let catalog: HashMap<String, Vec<String>> =
            self.store.items(tenant).await?.into_iter().map(|i| (i.item, i.skills)).collect();
        let vocab = serving.model.as_ref().map_or_else(Vocab::default, |(_, m)| m.ids.vocab());
        let head = answers.last().map_or(head, |a| a.seq);
        let rows = answers.clone();
        let data = tokio::task::spawn_blocking(move || {
            let mut b = DatasetBuilder::with_vocab(vocab);
            b.timestamps(true);
            for a in rows.iter() {
                let student = b.student(&a.learner);
                let item = b.item(&a.item);
                // The answer's own skills, else the model's Q-matrix, else the catalog's.
                let known = b.vocab_mut().skills_of(item).to_vec();
                let skills: Vec<SkillId> = if !a.skills.is_empty() {
                    a.skills.iter().map(|s| b.skill(s)).collect()
                } else if !known.is_empty() {
                    known
                } else {
                    catalog.get(&a.item).map_or_else(Vec::new, |c| c.iter().map(|s| b.skill(s)).collect())
                };
                b.push_row(student, item, &skills, a.correct, a.time);
            }
            b.finish()
        })
        .await
        .map_err(ApiError::internal)?;
        let class = Arc::new(Class {
            head,
            serving,
            data,
            names,
            answers,
            traces: OnceLock::new(),
            answers_per_skill: OnceLock::new(),
            pooled_curve: OnceLock::new(),
            activity: OnceLock::new(),
        });
        lock(&self.caches.classes).insert(tenant, class.clone());
        Ok(class)
    }

    /// Builds and traces the class of every tenant with answers and a serving model, one
    /// after another, so that the first dashboard page after a start finds them cached.
    pub(crate) async fn warm_up(self: Arc<Self>) {
        let started = std::time::Instant::now();
        let tenants = match self.store.tenants().await {
            Ok(t) => t,
            Err(e) => return tracing::warn!(error = %e, "warm-up: listing tenants"),
        };
        let mut warmed = 0;
        for t in tenants {
            match self.store.log_head(t.id).await {
                Ok(0) | Err(_) => continue,
                Ok(_) => {}
            }
            match crate::analytics::class_traces(&self, t.id).await {
                Ok(_) => warmed += 1,
                Err(e) if e.code == "no_model" => {}
                Err(e) => tracing::warn!(tenant = t.id.0, error = %e.message, "warm-up"),
            }
        }
        tracing::info!(tenants = warmed, seconds = started.elapsed().as_secs_f64(), "classes read and traced");
    }

    /// The cached class while the log and the serving version are unchanged; else what a
    /// new one is to be built under: the serving version and the log's head and size.
    async fn cached_class(&self, tenant: TenantId) -> ApiResult<Result<Arc<Class>, Stale>> {
        let serving = self.engine.serving(tenant).await?;
        let (head, count) = self.store.log_size(tenant).await?;
        let cached = lock(&self.caches.classes)
            .get(&tenant)
            .filter(|c| c.head == head && c.answers.len() as i64 == count && Arc::ptr_eq(&c.serving, &serving))
            .cloned();
        Ok(cached.ok_or((serving, head, count)))
    }

    /// Appends to `answers` the tenant's answers after its last one, up to `head`.
    async fn read_log(&self, tenant: TenantId, head: i64, answers: &mut Vec<StoredAnswer>) -> ApiResult<()> {
        let mut after = answers.last().map_or(0, |a| a.seq);
        while after < head {
            let page = self.store.answers_after(tenant, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            answers.extend(page);
        }
        Ok(())
    }

    /// The newest registered version of one of `names` (the serving one where it is one of
    /// them), or `version` where given (which must be one of `names`).
    ///
    /// # Errors
    /// 404 for an unknown version, 400 `wrong_model` for a version of another model, 409
    /// `no_model` where the registry has none of `names`.
    pub(crate) async fn registered(
        &self,
        tenant: TenantId,
        names: &[&str],
        version: Option<i64>,
        purpose: &str,
    ) -> ApiResult<(i64, Arc<FittedModel>)> {
        let models = self.store.models(tenant).await?;
        let chosen = match version {
            Some(v) => {
                let m = models
                    .iter()
                    .find(|m| m.version == v)
                    .ok_or_else(|| ApiError::not_found("model version", &v.to_string()))?;
                if !names.contains(&m.name.as_str()) {
                    return Err(ApiError::bad_request(
                        "wrong_model",
                        format!("model version {v} is {}; {purpose} needs one of {}", m.name, names.join(", ")),
                    ));
                }
                m
            }
            None => models
                .iter()
                .filter(|m| names.contains(&m.name.as_str()))
                .max_by_key(|m| (m.serving, m.version))
                .ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "no_model",
                    format!(
                        "{purpose} needs a registered {} model: train one with POST /v1/jobs {{\"model\": \"{}\"}}",
                        names.join(" or "),
                        names[0]
                    ),
                )
            })?,
        };
        let v = chosen.version;
        if let Some(m) = lock(&self.caches.models).get(&(tenant, v)) {
            return Ok((v, m.clone()));
        }
        let bytes = self.store.model_file(tenant, v).await?;
        let model =
            tokio::task::spawn_blocking(move || FittedModel::from_json(std::path::Path::new("model registry"), &bytes))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt_model", format!("model version {v}: {e}"))
                })?;
        let model = Arc::new(model);
        lock(&self.caches.models).insert((tenant, v), model.clone());
        Ok((v, model))
    }
}
