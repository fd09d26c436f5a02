//! Attune's persistence: tenants and hashed API keys, the item/skill catalog, the answer log
//! (the source of truth every learner state is replayed from) and the versioned model
//! registry, in SQLite (one file in WAL mode, the embedded default) or PostgreSQL, with the
//! same schema, the same queries and the same test suite.
//!
//! [`Store`] is the one repository type: the service and the CLI hold it and never name the
//! database crate. Each backend is a connection pool; every query is written once and run on
//! either (placeholders `$1, $2, …` in order of first use, which both SQLite and PostgreSQL
//! bind by position). Answers go through a single writer task that commits whatever requests
//! are waiting in one transaction (group commit) and acknowledges each only after its
//! transaction is durable, so throughput does not pay one disk flush per answer.

mod answers;
mod catalog;
mod error;
mod jobs;
mod registry;
mod sessions;
mod statements;
mod tenants;
mod web;

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::mpsc;

pub use crate::answers::{Appended, LearnerSummary, NewAnswer, StoredAnswer, check_learner};
pub use crate::catalog::{Item, Prerequisite};
pub use crate::error::{Error, Result};
pub use crate::jobs::{Job, JobStatus};
pub use crate::registry::ModelVersion;
pub use crate::sessions::Session;
pub use crate::statements::{Put, Statement, StatementFilter};
pub use crate::tenants::{NewKey, Scopes, Tenant, TenantId};
pub use crate::web::WebSession;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file (WAL, full sync).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's pool, whichever backend it is: the body is
/// written once and compiled for both.
macro_rules! on_pool {
    ($pool_ref:expr, $pool:ident => $body:expr) => {
        match $pool_ref {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// An open store: a pool on the database and the answer log's writer task. Clones share
/// both.
#[derive(Clone)]
pub struct Store {
    pool: std::sync::Arc<Pool>,
    writer: mpsc::Sender<answers::WriteRequest>,
    backend: Backend,
}

impl Store {
    /// Opens (creating where needed) the database `database`: a `postgres://` or
    /// `postgresql://` URL, or else a SQLite file path (optionally `sqlite://path`), and
    /// brings its schema up to date. Must run inside a Tokio runtime.
    ///
    /// # Errors
    /// [`Error::BadUrl`], [`Error::Database`] when it cannot connect, [`Error::Migrate`].
    pub async fn open(database: &str) -> Result<Self> {
        let (pool, backend) = if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(database)
                .await?;
            // sqlx takes an advisory lock, so two servers starting together migrate once.
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            (Pool::Postgres(pool), Backend::Postgres)
        } else {
            let path = database.strip_prefix("sqlite://").unwrap_or(database);
            if path.is_empty() || path.contains('\0') {
                return Err(Error::BadUrl { url: database.into(), reason: "a SQLite file path or a postgres:// URL" });
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives power loss as well as a killed process.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            (Pool::Sqlite(pool), Backend::Sqlite)
        };
        let pool = std::sync::Arc::new(pool);
        let writer = answers::spawn_writer(pool.clone());
        Ok(Self { pool, writer, backend })
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query (readiness).
    pub async fn ping(&self) -> bool {
        on_pool!(&*self.pool, p => sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    /// Closes the pool (for every clone) after the writer has committed what it holds.
    pub async fn close(self) {
        drop(self.writer);
        on_pool!(&*self.pool, p => p.close().await);
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
