//! The serving side of the model layer: per tenant, the serving model version with its id
//! indices, and the learner states it keeps as caches of the answer log.
//!
//! A learner's state is built by replaying their stored answers and then updated by each new
//! answer after it is committed, under a per-learner lock, so that it always equals the
//! replay of the log. On PostgreSQL, where another server may have written answers of the
//! same learner, the cached answer count is checked against the log first and the state
//! replayed where they differ. A model switch starts a fresh cache: every state follows the
//! new version by replay.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use attune_core::{Interaction, ItemId, KnowledgeTracer, SkillId, StudentId};
use attune_models::{FittedModel, LearnerState};
use attune_policy::{Candidate, PracticeConfig, PrereqGraph, Recommendation, SkillPrerequisites, recommend};
use attune_store::{Appended, Backend, NewAnswer, Store, StoredAnswer, TenantId};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::{ApiError, ApiResult};
use crate::now;

/// A tenant's serving model (if any) and the states it holds.
pub(crate) struct Serving {
    /// The serving version and its model; `None` before the tenant has one.
    pub(crate) model: Option<(i64, FittedModel)>,
    items: HashMap<String, ItemId>,
    skills: HashMap<String, SkillId>,
    item_skills: Vec<Vec<SkillId>>,
    learners: Mutex<HashMap<String, Arc<AsyncMutex<Entry>>>>,
}

/// A learner's cached state and how many answers it has read.
#[derive(Default)]
struct Entry {
    state: Option<LearnerState>,
    answers: i64,
    loaded: bool,
}

/// An answer as recorded: its place in the log, whether it was new, and the probability of
/// a right answer the serving model gave before it (new answers only).
pub(crate) struct Recorded {
    pub(crate) seq: i64,
    pub(crate) duplicate: bool,
    pub(crate) predicted: Option<f64>,
    /// The mastery of the answer's skills after it (where asked for).
    pub(crate) mastery: Vec<(String, f64)>,
}

/// A learner's state as the API shows it.
pub(crate) struct View {
    pub(crate) answers: i64,
    pub(crate) mastery: BTreeMap<String, f64>,
}

impl Serving {
    fn new(model: Option<(i64, FittedModel)>) -> Self {
        let (mut items, mut skills, mut item_skills) = (HashMap::new(), HashMap::new(), Vec::new());
        if let Some((_, m)) = &model {
            items = m.ids.items.iter().enumerate().map(|(i, s)| (s.clone(), ItemId(i as u32))).collect();
            skills = m.ids.skills.iter().enumerate().map(|(i, s)| (s.clone(), SkillId(i as u32))).collect();
            item_skills = m.ids.item_skills.iter().map(|s| s.iter().map(|&k| SkillId(k)).collect()).collect();
        }
        Self { model, items, skills, item_skills, learners: Mutex::default() }
    }

    /// The model's name and version.
    pub(crate) fn model_ref(&self) -> Option<(String, i64)> {
        self.model.as_ref().map(|(v, m)| (m.name().as_str().to_owned(), *v))
    }

    /// The serving model's index of an item id.
    pub(crate) fn item_id(&self, item: &str) -> Option<ItemId> {
        self.items.get(item).copied()
    }

    /// The serving model's index of a skill id.
    pub(crate) fn skill_id(&self, skill: &str) -> Option<SkillId> {
        self.skills.get(skill).copied()
    }

    /// The skills of a known item, by the model's Q-matrix.
    pub(crate) fn skills_of_item(&self, item: ItemId) -> &[SkillId] {
        self.item_skills.get(item.index()).map_or(&[], Vec::as_slice)
    }

    /// A skill's id (`#k` for one the model does not name).
    pub(crate) fn skill_name(&self, skill: SkillId) -> String {
        self.model
            .as_ref()
            .and_then(|(_, m)| m.ids.skills.get(skill.index()))
            .cloned()
            .unwrap_or_else(|| format!("#{skill}"))
    }

    /// An item's id (`#k` for one the model does not name).
    pub(crate) fn item_name(&self, item: ItemId) -> String {
        self.model
            .as_ref()
            .and_then(|(_, m)| m.ids.items.get(item.index()))
            .cloned()
            .unwrap_or_else(|| format!("#{item}"))
    }

    fn entry(&self, learner: &str) -> Arc<AsyncMutex<Entry>> {
        let mut map = self.learners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(learner.to_owned()).or_default().clone()
    }

    /// The answer on the model's indices: unknown items and skills take indices past the
    /// model's, which every model treats as unknown.
    fn skills_of(&self, item: ItemId, named: &[String]) -> Cow<'_, [SkillId]> {
        let unknown_skill = SkillId(self.skills.len() as u32);
        if named.is_empty() {
            Cow::Borrowed(self.item_skills.get(item.index()).map_or(&[][..], Vec::as_slice))
        } else {
            Cow::Owned(named.iter().map(|s| self.skills.get(s).copied().unwrap_or(unknown_skill)).collect())
        }
    }

    fn item(&self, item: &str) -> ItemId {
        self.items.get(item).copied().unwrap_or(ItemId(self.items.len() as u32))
    }

    /// Applies one answer to `state`: the prediction before it.
    fn apply(&self, state: &mut LearnerState, item: &str, skills: &[String], correct: bool, time: i64) -> Option<f64> {
        let (_, model) = self.model.as_ref()?;
        let item = self.item(item);
        let skills = self.skills_of(item, skills);
        let obs = Interaction { student: StudentId(0), item, skills: &skills, correct, time };
        let p = model.predict_interaction(state, &obs).get();
        model.update(state, &obs);
        Some(p)
    }

    /// The mastery of an answer's skills (those the model knows) in `state`.
    fn mastery_of(&self, state: &LearnerState, item: &str, skills: &[String]) -> Vec<(String, f64)> {
        let Some((_, model)) = &self.model else { return Vec::new() };
        self.skills_of(self.item(item), skills)
            .iter()
            .copied()
            .filter_map(|s| Some((model.ids.skills.get(s.index())?.clone(), model.mastery(state, s)?.get())))
            .collect()
    }

    fn replay(&self, answers: &[StoredAnswer]) -> Option<LearnerState> {
        let (_, model) = self.model.as_ref()?;
        let mut state = model.initial_state();
        for a in answers {
            self.apply(&mut state, &a.item, &a.skills, a.correct, a.time);
        }
        Some(state)
    }

    /// The learner's entry, locked and in step with the log.
    async fn load(&self, store: &Store, tenant: TenantId, learner: &str) -> ApiResult<OwnedMutexGuard<Entry>> {
        let mut e = self.entry(learner).lock_owned().await;
        let stale = !e.loaded
            || (store.backend() == Backend::Postgres && store.count_answers(tenant, learner).await? != e.answers);
        if stale {
            let answers = store.answers_of(tenant, learner).await?;
            e.state = self.replay(&answers);
            e.answers = answers.len() as i64;
            e.loaded = true;
        }
        Ok(e)
    }
}

/// The serving models of every tenant seen since start.
pub(crate) struct Engine {
    store: Store,
    tenants: Mutex<HashMap<TenantId, Arc<Serving>>>,
}

impl Engine {
    pub(crate) fn new(store: Store) -> Self {
        Self { store, tenants: Mutex::default() }
    }

    /// The tenant's serving model, loaded from the registry on first use.
    pub(crate) async fn serving(&self, tenant: TenantId) -> ApiResult<Arc<Serving>> {
        if let Some(s) = self.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&tenant) {
            return Ok(s.clone());
        }
        self.reload(tenant).await
    }

    /// Loads the tenant's serving version afresh (after a switch): states start over by replay.
    pub(crate) async fn reload(&self, tenant: TenantId) -> ApiResult<Arc<Serving>> {
        let model = match self.store.serving_model(tenant).await? {
            Some((version, bytes)) => {
                let path = std::path::Path::new("model registry");
                let m = FittedModel::from_json(path, &bytes).map_err(|e| {
                    ApiError::new(
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "corrupt_model",
                        format!("serving model version {version}: {e}"),
                    )
                })?;
                Some((version, m))
            }
            None => None,
        };
        let serving = Arc::new(Serving::new(model));
        self.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(tenant, serving.clone());
        Ok(serving)
    }

    /// Drops the cached states of `learners` after answers of theirs were stored around the
    /// engine (a bulk import): their next use replays the log.
    pub(crate) async fn forget(&self, tenant: TenantId, learners: &BTreeSet<String>) -> ApiResult<()> {
        let serving = self.serving(tenant).await?;
        let mut map = serving.learners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for l in learners {
            map.remove(l);
        }
        Ok(())
    }

    /// The learner's state (the model's prior for a learner without answers) and how many
    /// answers it has read, under the serving model.
    pub(crate) async fn state(
        &self,
        tenant: TenantId,
        learner: &str,
    ) -> ApiResult<(Arc<Serving>, Option<LearnerState>, i64)> {
        let serving = self.serving(tenant).await?;
        let e = serving.load(&self.store, tenant, learner).await?;
        let (state, answers) = (e.state.clone(), e.answers);
        drop(e);
        Ok((serving, state, answers))
    }

    /// Records `answers` (checked, then committed), then updates each learner's state with
    /// the new ones in log order; with `detail` each new answer's result carries the mastery
    /// of its skills after it.
    pub(crate) async fn record(
        &self,
        tenant: TenantId,
        mut answers: Vec<NewAnswer>,
        detail: bool,
    ) -> ApiResult<(Option<(String, i64)>, Vec<Recorded>)> {
        for a in &answers {
            a.validate()?;
        }
        let serving = self.serving(tenant).await?;
        let model = serving.model_ref();
        let arrived = now();
        for a in &mut answers {
            a.model.clone_from(&model);
            // The time the state is updated with is the one stored, so a replay agrees.
            a.time.get_or_insert(arrived);
        }
        let mut learners: Vec<&str> = answers.iter().map(|a| a.learner.as_str()).collect();
        learners.sort_unstable();
        learners.dedup();
        // Locks in sorted order, so that two requests on the same learners cannot deadlock.
        let mut entries = BTreeMap::new();
        for l in learners {
            entries.insert(l.to_owned(), serving.load(&self.store, tenant, l).await?);
        }
        let appended = self.store.append(tenant, answers.clone()).await?;
        let mut out = Vec::with_capacity(answers.len());
        for (a, r) in answers.iter().zip(appended) {
            let Some(e) = entries.get_mut(&a.learner) else { continue };
            let recorded = match r {
                Appended::New(seq) => {
                    e.answers += 1;
                    let time = a.time.unwrap_or(arrived);
                    let predicted =
                        e.state.as_mut().and_then(|s| serving.apply(s, &a.item, &a.skills, a.correct, time));
                    let mastery = match (detail, &e.state) {
                        (true, Some(state)) => serving.mastery_of(state, &a.item, &a.skills),
                        _ => Vec::new(),
                    };
                    Recorded { seq, duplicate: false, predicted, mastery }
                }
                Appended::Duplicate(seq) => Recorded { seq, duplicate: true, predicted: None, mastery: Vec::new() },
            };
            out.push(recorded);
        }
        Ok((model, out))
    }

    /// The learner's state; 404 for a learner with no answers.
    pub(crate) async fn view(&self, tenant: TenantId, learner: &str) -> ApiResult<(Arc<Serving>, View)> {
        let serving = self.serving(tenant).await?;
        let e = serving.load(&self.store, tenant, learner).await?;
        if e.answers == 0 {
            return Err(ApiError::not_found("learner", learner));
        }
        let mut mastery = BTreeMap::new();
        if let (Some((_, m)), Some(state)) = (&serving.model, &e.state) {
            for (k, p) in m.mastery_profile(state).into_iter().enumerate() {
                if let (Some(p), Some(name)) = (p, m.ids.skills.get(k)) {
                    mastery.insert(name.clone(), p.get());
                }
            }
        }
        let view = View { answers: e.answers, mastery };
        drop(e);
        Ok((serving, view))
    }

    /// The next item for the learner at `config`'s target, over the tenant's prerequisite
    /// graph; `None` when every item is mastered or none is ready.
    pub(crate) async fn next(
        &self,
        tenant: TenantId,
        learner: &str,
        config: &PracticeConfig,
    ) -> ApiResult<(Arc<Serving>, Option<Recommendation>)> {
        self.next_among(tenant, learner, config, None, true).await
    }

    /// As [`Engine::next`] among the items practising a skill of `only` (every item where
    /// `None`); with `known` false a learner without answers starts from the model's prior.
    pub(crate) async fn next_among(
        &self,
        tenant: TenantId,
        learner: &str,
        config: &PracticeConfig,
        only: Option<&BTreeSet<SkillId>>,
        known: bool,
    ) -> ApiResult<(Arc<Serving>, Option<Recommendation>)> {
        let serving = self.serving(tenant).await?;
        let Some((_, model)) = &serving.model else {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "no_model",
                "this tenant has no serving model yet: train one and switch to it",
            ));
        };
        let edges = self.store.prerequisites(tenant).await?;
        let e = serving.load(&self.store, tenant, learner).await?;
        if known && e.answers == 0 {
            return Err(ApiError::not_found("learner", learner));
        }
        let Some(state) = &e.state else { return Ok((serving.clone(), None)) };
        let candidates: Vec<Candidate<'_>> = serving
            .item_skills
            .iter()
            .enumerate()
            .filter(|(_, skills)| only.is_none_or(|o| skills.iter().any(|s| o.contains(s))))
            .map(|(i, skills)| Candidate { item: ItemId(i as u32), skills })
            .collect();
        let pairs: Vec<(String, String)> = edges.into_iter().map(|p| (p.requires, p.skill)).collect();
        let graph = PrereqGraph::new(&model.ids.skills, &pairs);
        let prerequisites = (!pairs.is_empty()).then_some(SkillPrerequisites { graph: &graph });
        let rec = recommend(model, state, &candidates, prerequisites, config);
        drop(e);
        Ok((serving, rec))
    }
}
