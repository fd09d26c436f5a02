//! xAPI statements as received, per tenant: stored once under their id, a known id with other
//! content refused.

use std::collections::HashMap;

use crate::{Result, Store, TenantId, now, on_pool};

/// A statement to store: its id, verb IRI, registration and JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement id (a UUID).
    pub id: String,
    /// The verb's IRI.
    pub verb: String,
    /// `context.registration`, where given.
    pub registration: Option<String>,
    /// The learner id the actor's identifier names.
    pub actor: Option<String>,
    /// The object's activity id, where the object is an activity.
    pub activity: Option<String>,
    /// The statement as received, with its id, as JSON text.
    pub body: String,
}

/// What storing one statement found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    /// Stored now.
    New,
    /// Stored before with the same content: nothing to do.
    Same,
    /// Stored before with other content (nothing of the request was stored).
    Conflict,
}

impl Store {
    /// Stores `statements` (ids distinct) in one transaction; where any id is known with
    /// other content, stores none and reports the conflicts. `same` compares a stored body
    /// with a received one.
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub async fn put_statements(
        &self,
        tenant: TenantId,
        statements: &[Statement],
        same: impl Fn(&str, &str) -> bool,
    ) -> Result<Vec<Put>> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let stored_at = now();
        on_pool!(&*self.pool, p => {
            let mut tx = p.begin().await?;
            let mut known: HashMap<String, String> = HashMap::new();
            for chunk in statements.chunks(500) {
                let mut q = sqlx::QueryBuilder::new("SELECT id, body FROM xapi_statements WHERE tenant_id = ");
                q.push_bind(tenant.0).push(" AND id IN (");
                let mut ids = q.separated(", ");
                for s in chunk {
                    ids.push_bind(s.id.clone());
                }
                q.push(")");
                let rows: Vec<(String, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                known.extend(rows);
            }
            let outcome: Vec<Put> = statements
                .iter()
                .map(|s| match known.get(&s.id) {
                    None => Put::New,
                    Some(b) if same(b, &s.body) => Put::Same,
                    Some(_) => Put::Conflict,
                })
                .collect();
            if outcome.contains(&Put::Conflict) {
                return Ok(outcome);
            }
            let new: Vec<&Statement> =
                statements.iter().zip(&outcome).filter(|(_, o)| **o == Put::New).map(|(s, _)| s).collect();
            for chunk in new.chunks(500) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO xapi_statements (tenant_id, id, verb, registration, body, stored_at, actor, activity) ",
                );
                q.push_values(chunk, |mut row, s| {
                    row.push_bind(tenant.0)
                        .push_bind(s.id.clone())
                        .push_bind(s.verb.clone())
                        .push_bind(s.registration.clone())
                        .push_bind(s.body.clone())
                        .push_bind(stored_at)
                        .push_bind(s.actor.clone())
                        .push_bind(s.activity.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// The statement `id` of `tenant`: its JSON text and when it was stored.
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub async fn statement(&self, tenant: TenantId, id: &str) -> Result<Option<(String, i64)>> {
        Ok(on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT body, stored_at FROM xapi_statements WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id)
                .fetch_optional(p)
                .await?
        }))
    }

    /// Up to `limit` statements of `tenant` matching `filter`, newest first (oldest first
    /// with `filter.ascending`), after `filter.cursor` where given: JSON text, stored time and
    /// id (the cursor of the next page).
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub async fn statements(
        &self,
        tenant: TenantId,
        filter: &StatementFilter,
        limit: usize,
    ) -> Result<Vec<(String, i64, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(on_pool!(&*self.pool, p => {
            let mut q = sqlx::QueryBuilder::new("SELECT body, stored_at, id FROM xapi_statements WHERE tenant_id = ");
            q.push_bind(tenant.0);
            for (column, value) in [
                ("verb", &filter.verb),
                ("registration", &filter.registration),
                ("actor", &filter.actor),
                ("activity", &filter.activity),
            ] {
                if let Some(v) = value {
                    q.push(format_args!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(t) = filter.since {
                q.push(" AND stored_at > ").push_bind(t);
            }
            if let Some(t) = filter.until {
                q.push(" AND stored_at <= ").push_bind(t);
            }
            let (cmp, order) = if filter.ascending { (">", "ASC") } else { ("<", "DESC") };
            if let Some((at, id)) = &filter.cursor {
                q.push(format_args!(" AND (stored_at {cmp} ")).push_bind(*at);
                q.push(format_args!(" OR (stored_at = ")).push_bind(*at);
                q.push(format_args!(" AND id {cmp} ")).push_bind(id.clone()).push("))");
            }
            q.push(format_args!(" ORDER BY stored_at {order}, id {order} LIMIT ")).push_bind(limit);
            q.build_query_as().fetch_all(p).await?
        }))
    }
}

/// Which statements `GET /xapi/statements` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatementFilter {
    /// Only this verb IRI.
    pub verb: Option<String>,
    /// Only this registration.
    pub registration: Option<String>,
    /// Only statements of this learner id.
    pub actor: Option<String>,
    /// Only statements about this activity id.
    pub activity: Option<String>,
    /// Stored after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Stored at or before this time.
    pub until: Option<i64>,
    /// Oldest first.
    pub ascending: bool,
    /// Continue after this (stored time, id).
    pub cursor: Option<(i64, String)>,
}
