//! The answer log: idempotent appends under a client-supplied id, through one writer task
//! that commits every waiting request in one transaction (group commit), and reads in log
//! order for replay.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::error::shown;
use crate::{Error, Pool, Result, Store, TenantId, now, on_pool};

/// Most answers one transaction of the writer holds.
const MAX_BATCH: usize = 4096;

/// Longest id, learner, item or skill id kept.
const MAX_ID: usize = 200;

/// Most skills one answer names.
const MAX_SKILLS: usize = 64;

/// An answer to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAnswer {
    /// The client's id for it: a retry with the same id is not counted twice.
    pub id: String,
    /// Who answered.
    pub learner: String,
    /// What was answered.
    pub item: String,
    /// Whether it was right.
    pub correct: bool,
    /// When (seconds since the epoch); the time it arrived where absent.
    pub time: Option<i64>,
    /// The item's skills, where the client names them.
    pub skills: Vec<String>,
    /// The model (name and version) whose prediction the learner saw, recorded beside it.
    pub model: Option<(String, i64)>,
}

/// An answer as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredAnswer {
    /// Its place in the tenant's log (increasing with arrival).
    pub seq: i64,
    /// The client's id.
    pub id: String,
    /// Who answered.
    pub learner: String,
    /// What was answered.
    pub item: String,
    /// Whether it was right.
    pub correct: bool,
    /// When it was answered.
    pub time: i64,
    /// The skills it named.
    pub skills: Vec<String>,
    /// The model version recorded with it.
    pub model: Option<(String, i64)>,
    /// When it was stored.
    pub received_at: i64,
}

/// What became of one appended answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Stored now, at this place in the log.
    New(i64),
    /// Its id was stored already (at this place): not counted again.
    Duplicate(i64),
}

impl Appended {
    /// The answer's place in the log.
    pub fn seq(self) -> i64 {
        match self {
            Self::New(s) | Self::Duplicate(s) => s,
        }
    }
}

/// Checks a learner id as the log keeps it (1 to 200 bytes, no control characters).
///
/// # Errors
/// [`Error::Invalid`] naming the `learner` field.
pub fn check_learner(learner: &str) -> Result<()> {
    check_id("learner", learner)
}

fn check_id(field: &'static str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > MAX_ID || v.chars().any(char::is_control) {
        return Err(Error::Invalid { field, value: shown(v), reason: "1 to 200 bytes, no control characters" });
    }
    Ok(())
}

impl NewAnswer {
    /// Checks every field; the error names the first bad one.
    ///
    /// # Errors
    /// [`Error::Invalid`].
    pub fn validate(&self) -> Result<()> {
        check_id("id", &self.id)?;
        check_id("learner", &self.learner)?;
        check_id("item", &self.item)?;
        if self.skills.len() > MAX_SKILLS {
            return Err(Error::Invalid {
                field: "skills",
                value: self.skills.len().to_string(),
                reason: "at most 64 skills",
            });
        }
        for s in &self.skills {
            check_id("skills", s)?;
        }
        // Years 1970 to 9999.
        if let Some(t) = self.time.filter(|t| !(0..=253_402_300_799).contains(t)) {
            return Err(Error::Invalid {
                field: "time",
                value: t.to_string(),
                reason: "seconds since 1970, before 10000",
            });
        }
        if let Some((name, version)) = &self.model {
            check_id("model", name)?;
            if *version < 1 {
                return Err(Error::Invalid { field: "model", value: version.to_string(), reason: "a version from 1" });
            }
        }
        Ok(())
    }
}

pub(crate) struct WriteRequest {
    tenant: TenantId,
    answers: Vec<NewAnswer>,
    reply: oneshot::Sender<Result<Vec<Appended>>>,
}

/// Starts the writer task; it ends when every sender is dropped.
pub(crate) fn spawn_writer(pool: Arc<Pool>) -> mpsc::Sender<WriteRequest> {
    let (tx, mut rx) = mpsc::channel::<WriteRequest>(4096);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            let mut n = batch[0].answers.len();
            while n < MAX_BATCH {
                match rx.try_recv() {
                    Ok(r) => {
                        n += r.answers.len();
                        batch.push(r);
                    }
                    Err(_) => break,
                }
            }
            commit(&pool, batch).await;
        }
    });
    tx
}

/// Commits `batch` in one transaction and answers each request; where that fails, each
/// request alone, so that one failing request does not fail the others.
async fn commit(pool: &Pool, batch: Vec<WriteRequest>) {
    let refs: Vec<(TenantId, &[NewAnswer])> = batch.iter().map(|r| (r.tenant, r.answers.as_slice())).collect();
    match write(pool, &refs).await {
        Ok(results) => {
            for (r, res) in batch.into_iter().zip(results) {
                let _ = r.reply.send(Ok(res));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(r) = batch.into_iter().next() {
                let _ = r.reply.send(Err(e));
            }
        }
        Err(_) => {
            for r in batch {
                let res = write(pool, &[(r.tenant, &r.answers)]).await.map(|mut v| v.pop().unwrap_or_default());
                let _ = r.reply.send(res);
            }
        }
    }
}

/// Rows per multi-row statement (10 parameters a row, within SQLite's 32,766).
const ROWS_PER_STATEMENT: usize = 1000;

/// One transaction appending every request's answers: per request, what became of each.
/// Each tenant's answers go in as few multi-row statements as fit (a statement per answer
/// cost a round trip to the database's thread each, which dominated the time).
async fn write(pool: &Pool, requests: &[(TenantId, &[NewAnswer])]) -> Result<Vec<Vec<Appended>>> {
    use std::collections::{HashMap, HashSet};
    let received_at = now();
    // Each tenant's answers in arrival order, an id once (its first occurrence).
    let mut by_tenant: Vec<(TenantId, Vec<&NewAnswer>)> = Vec::new();
    let mut seen: HashSet<(TenantId, &str)> = HashSet::new();
    for &(tenant, answers) in requests {
        for a in answers {
            if seen.insert((tenant, a.id.as_str())) {
                match by_tenant.iter_mut().find(|(t, _)| *t == tenant) {
                    Some((_, v)) => v.push(a),
                    None => by_tenant.push((tenant, vec![a])),
                }
            }
        }
    }
    // Per tenant (in `by_tenant`'s order): the ids inserted now and those stored before.
    let mut new: Vec<HashMap<String, i64>> = vec![HashMap::new(); by_tenant.len()];
    let mut old: Vec<HashMap<String, i64>> = vec![HashMap::new(); by_tenant.len()];
    on_pool!(pool, p => {
        let mut tx = p.begin().await?;
        for (k, (tenant, answers)) in by_tenant.iter().enumerate() {
            let (new, old) = (&mut new[k], &mut old[k]);
            for chunk in answers.chunks(ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO answers (tenant_id, id, learner, item, correct, time, skills, model_name, \
                     model_version, received_at) ",
                );
                q.push_values(chunk, |mut row, a| {
                    let (model_name, model_version) = a.model.clone().unzip();
                    row.push_bind(tenant.0)
                        .push_bind(a.id.clone())
                        .push_bind(a.learner.clone())
                        .push_bind(a.item.clone())
                        .push_bind(a.correct)
                        .push_bind(a.time.unwrap_or(received_at))
                        .push_bind(serde_json::to_string(&a.skills).unwrap_or_else(|_| "[]".into()))
                        .push_bind(model_name)
                        .push_bind(model_version)
                        .push_bind(received_at);
                });
                q.push(" ON CONFLICT (tenant_id, id) DO NOTHING RETURNING seq, id");
                let rows: Vec<(i64, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                new.extend(rows.into_iter().map(|(seq, id)| (id, seq)));
                let learners: HashSet<&str> = chunk
                    .iter()
                    .filter(|a| new.contains_key(a.id.as_str()))
                    .map(|a| a.learner.as_str())
                    .collect();
                if !learners.is_empty() {
                    let mut q = sqlx::QueryBuilder::new("INSERT INTO learners (tenant_id, learner, created_at) ");
                    q.push_values(learners, |mut row, l| {
                        row.push_bind(tenant.0).push_bind(l.to_owned()).push_bind(received_at);
                    });
                    q.push(" ON CONFLICT (tenant_id, learner) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
                let stored: Vec<&&NewAnswer> = chunk.iter().filter(|a| !new.contains_key(a.id.as_str())).collect();
                if !stored.is_empty() {
                    let mut q = sqlx::QueryBuilder::new("SELECT id, seq FROM answers WHERE tenant_id = ");
                    q.push_bind(tenant.0).push(" AND id IN (");
                    let mut ids = q.separated(", ");
                    for a in stored {
                        ids.push_bind(a.id.clone());
                    }
                    q.push(")");
                    let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
                    old.extend(rows);
                }
            }
        }
        tx.commit().await?;
    });
    // Each answer's fate: new for the first occurrence of an id inserted now.
    let mut claimed: HashSet<(TenantId, &str)> = HashSet::new();
    let mut out = Vec::with_capacity(requests.len());
    for &(tenant, answers) in requests {
        let mut done = Vec::with_capacity(answers.len());
        let k = by_tenant.iter().position(|(t, _)| *t == tenant).unwrap_or_default();
        for a in answers {
            let (id, new, old) = (a.id.as_str(), &new[k], &old[k]);
            let appended = match (new.get(id), old.get(id)) {
                (Some(&seq), _) if claimed.insert((tenant, a.id.as_str())) => Appended::New(seq),
                (Some(&seq), _) | (None, Some(&seq)) => Appended::Duplicate(seq),
                (None, None) => {
                    return Err(Error::Corrupt {
                        field: "answers.id",
                        value: shown(&a.id),
                        reason: "neither inserted nor found".into(),
                    });
                }
            };
            done.push(appended);
        }
        out.push(done);
    }
    Ok(out)
}

type AnswerRow = (i64, String, String, String, bool, i64, String, Option<String>, Option<i64>, i64);

fn from_row(r: AnswerRow) -> Result<StoredAnswer> {
    let (seq, id, learner, item, correct, time, skills, model_name, model_version, received_at) = r;
    let skills = serde_json::from_str(&skills).map_err(|e| Error::Corrupt {
        field: "answers.skills",
        value: shown(&skills),
        reason: e.to_string(),
    })?;
    Ok(StoredAnswer {
        seq,
        id,
        learner,
        item,
        correct,
        time,
        skills,
        model: model_name.zip(model_version),
        received_at,
    })
}

/// The columns of [`AnswerRow`], as a literal for `concat!`.
macro_rules! columns {
    () => {
        "seq, id, learner, item, correct, time, skills, model_name, model_version, received_at"
    };
}

impl Store {
    /// Appends `answers` for `tenant`, acknowledging after they are committed. Every answer
    /// is checked first: one invalid answer refuses the whole request and stores nothing. An
    /// id stored before (by this request or an earlier one) is [`Appended::Duplicate`].
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the answer's field, [`Error::Database`], [`Error::Closed`].
    pub async fn append(&self, tenant: TenantId, answers: Vec<NewAnswer>) -> Result<Vec<Appended>> {
        for a in &answers {
            a.validate()?;
        }
        if answers.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.writer.send(WriteRequest { tenant, answers, reply }).await.map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Every answer of `learner` in `tenant`, in log order.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`] for an edited row.
    pub async fn answers_of(&self, tenant: TenantId, learner: &str) -> Result<Vec<StoredAnswer>> {
        let sql = concat!("SELECT ", columns!(), " FROM answers WHERE tenant_id = $1 AND learner = $2 ORDER BY seq");
        let rows: Vec<AnswerRow> = on_pool!(&*self.pool, p => {
            sqlx::query_as(sql).bind(tenant.0).bind(learner).fetch_all(p).await?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// Up to `limit` answers of `tenant` after place `after` in the log, in log order (for
    /// replaying or training on the whole log a page at a time).
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`].
    pub async fn answers_after(&self, tenant: TenantId, after: i64, limit: usize) -> Result<Vec<StoredAnswer>> {
        let sql =
            concat!("SELECT ", columns!(), " FROM answers WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<AnswerRow> = on_pool!(&*self.pool, p => {
            sqlx::query_as(sql).bind(tenant.0).bind(after).bind(limit).fetch_all(p).await?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// How many answers `learner` has in `tenant`.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn count_answers(&self, tenant: TenantId, learner: &str) -> Result<i64> {
        Ok(on_pool!(&*self.pool, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM answers WHERE tenant_id = $1 AND learner = $2")
                .bind(tenant.0)
                .bind(learner)
                .fetch_one(p)
                .await?
        }))
    }

    /// The learners of `tenant` who have answered, in order of their first answer.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn learners(&self, tenant: TenantId) -> Result<Vec<String>> {
        Ok(on_pool!(&*self.pool, p => {
            sqlx::query_scalar("SELECT learner FROM learners WHERE tenant_id = $1 ORDER BY created_at, learner")
                .bind(tenant.0)
                .fetch_all(p)
                .await?
        }))
    }
}

/// A learner as listed: their answers and when they were first and last active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LearnerSummary {
    /// The learner's id.
    pub learner: String,
    /// Answers stored.
    pub answers: i64,
    /// How many of them were right.
    pub right: i64,
    /// When they were registered or first answered.
    pub created_at: i64,
    /// Time of their last answer, where they have one.
    pub last_answer: Option<i64>,
}

impl Store {
    /// Registers learners (known ones are left as they are); how many were new.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad id, [`Error::Database`].
    pub async fn register_learners(&self, tenant: TenantId, learners: &[String]) -> Result<u64> {
        for l in learners {
            check_id("learner", l)?;
        }
        let t = now();
        let mut new = 0;
        for chunk in learners.chunks(1000) {
            new += on_pool!(&*self.pool, p => {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO learners (tenant_id, learner, created_at) ");
                q.push_values(chunk, |mut row, l| {
                    row.push_bind(tenant.0).push_bind(l.clone()).push_bind(t);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(p).await?.rows_affected()
            });
        }
        Ok(new)
    }

    /// The tenant's learners with their answer counts, in order of registration.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn learner_summaries(&self, tenant: TenantId) -> Result<Vec<LearnerSummary>> {
        let rows: Vec<(String, i64, i64, i64, Option<i64>)> = on_pool!(&*self.pool, p => {
            sqlx::query_as(
                "SELECT l.learner, COUNT(a.seq), COALESCE(SUM(CASE WHEN a.correct THEN 1 ELSE 0 END), 0), \
                 l.created_at, MAX(a.time) FROM learners l \
                 LEFT JOIN answers a ON a.tenant_id = l.tenant_id AND a.learner = l.learner \
                 WHERE l.tenant_id = $1 GROUP BY l.learner, l.created_at ORDER BY l.created_at, l.learner",
            )
            .bind(tenant.0)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(learner, answers, right, created_at, last_answer)| LearnerSummary {
                learner,
                answers,
                right,
                created_at,
                last_answer,
            })
            .collect())
    }

    /// The last place in the tenant's log and how many answers it holds (0, 0 for an empty
    /// log): what a cache of the whole log compares to know it is current (the count catches
    /// a transaction of another server that committed a lower place after a later one).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn log_size(&self, tenant: TenantId) -> Result<(i64, i64)> {
        let (head, n): (Option<i64>, i64) = on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT MAX(seq), COUNT(*) FROM answers WHERE tenant_id = $1")
                .bind(tenant.0)
                .fetch_one(p)
                .await?
        });
        Ok((head.unwrap_or(0), n))
    }

    /// The last place in the tenant's log (0 for an empty log).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn log_head(&self, tenant: TenantId) -> Result<i64> {
        let head: Option<i64> = on_pool!(&*self.pool, p => {
            sqlx::query_scalar("SELECT MAX(seq) FROM answers WHERE tenant_id = $1").bind(tenant.0).fetch_one(p).await?
        });
        Ok(head.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> NewAnswer {
        NewAnswer {
            id: "a1".into(),
            learner: "ana".into(),
            item: "q1".into(),
            correct: true,
            time: Some(1_700_000_000),
            skills: vec!["fractions".into()],
            model: Some(("bkt".into(), 1)),
        }
    }

    #[test]
    fn validation_names_the_field() {
        assert!(answer().validate().is_ok());
        type Edit = fn(&mut NewAnswer);
        let cases: [(&str, Edit); 7] = [
            ("id", |a| a.id.clear()),
            ("learner", |a| a.learner = "x".repeat(201)),
            ("item", |a| a.item = "bad\nitem".into()),
            ("skills", |a| a.skills = vec![String::new()]),
            ("skills", |a| a.skills = vec!["s".into(); 65]),
            ("time", |a| a.time = Some(-1)),
            ("model", |a| a.model = Some(("bkt".into(), 0))),
        ];
        for (field, edit) in cases {
            let mut a = answer();
            edit(&mut a);
            match a.validate() {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
