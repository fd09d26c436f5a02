//! Adaptive-test and tutoring sessions: each a JSON document (configuration and trace) with a
//! step counter, updated by compare-and-set so that a response is applied once even when two
//! servers receive it.

use crate::error::shown;
use crate::{Error, Result, Store, TenantId, now, on_pool};

/// Largest session document kept (a long test's trace fits many times over).
const MAX_BODY: usize = 4 << 20;

/// A stored session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// Its id (a UUID the service chose).
    pub id: String,
    /// `cat` or `tutoring`.
    pub kind: String,
    /// The learner taking it, where named.
    pub learner: Option<String>,
    /// Configuration and trace.
    pub body: serde_json::Value,
    /// Steps applied so far: the version an update must name.
    pub steps: i64,
    /// Whether it has ended.
    pub finished: bool,
    /// When it started.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

type SessionRow = (String, String, Option<String>, String, i64, bool, i64, i64);

fn from_row(r: SessionRow) -> Result<Session> {
    let body = serde_json::from_str(&r.3).map_err(|e| Error::Corrupt {
        field: "sessions.body",
        value: shown(&r.3),
        reason: e.to_string(),
    })?;
    Ok(Session { id: r.0, kind: r.1, learner: r.2, body, steps: r.4, finished: r.5, created_at: r.6, updated_at: r.7 })
}

fn encode(body: &serde_json::Value) -> Result<String> {
    let text = body.to_string();
    if text.len() > MAX_BODY {
        return Err(Error::Invalid { field: "session", value: text.len().to_string(), reason: "at most 4 MiB" });
    }
    Ok(text)
}

impl Store {
    /// Stores a new session at step 0.
    ///
    /// # Errors
    /// [`Error::Exists`] for a known id, [`Error::Invalid`] for an oversize body,
    /// [`Error::Database`].
    pub async fn create_session(
        &self,
        tenant: TenantId,
        id: &str,
        kind: &str,
        learner: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<()> {
        let text = encode(body)?;
        let t = now();
        let done: Result<_, sqlx::Error> = on_pool!(&*self.pool, p => {
            sqlx::query(
                "INSERT INTO sessions (tenant_id, id, kind, learner, body, steps, finished, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, FALSE, $6, $6)",
            )
            .bind(tenant.0)
            .bind(id)
            .bind(kind)
            .bind(learner)
            .bind(&text)
            .bind(t)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        });
        match done {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(Error::Exists { what: "session", name: id.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The session `id` of `tenant` and `kind`, if there is one.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`] for an edited row.
    pub async fn session(&self, tenant: TenantId, kind: &str, id: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = on_pool!(&*self.pool, p => {
            sqlx::query_as(
                "SELECT id, kind, learner, body, steps, finished, created_at, updated_at FROM sessions \
                 WHERE tenant_id = $1 AND kind = $2 AND id = $3",
            )
            .bind(tenant.0)
            .bind(kind)
            .bind(id)
            .fetch_optional(p)
            .await?
        });
        row.map(from_row).transpose()
    }

    /// Replaces the session's body where it is still at step `steps`, moving it to `steps + 1`;
    /// `false` when another update came first (nothing changed).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an oversize body, [`Error::Database`].
    pub async fn update_session(
        &self,
        tenant: TenantId,
        id: &str,
        steps: i64,
        body: &serde_json::Value,
        finished: bool,
    ) -> Result<bool> {
        let text = encode(body)?;
        let n = on_pool!(&*self.pool, p => {
            sqlx::query(
                "UPDATE sessions SET body = $1, steps = steps + 1, finished = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5 AND steps = $6",
            )
            .bind(&text)
            .bind(finished)
            .bind(now())
            .bind(tenant.0)
            .bind(id)
            .bind(steps)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}
