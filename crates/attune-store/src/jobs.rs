//! Training jobs: a model fitted in the background on a tenant's answer log. The runner
//! writes its progress here, reads back whether anyone asked to cancel (any server may), and
//! records the registry version it produced or why it failed.

use serde::Serialize;

use crate::error::shown;
use crate::{Error, Result, Store, TenantId, now, on_pool};

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Accepted, not started.
    Queued,
    /// Fitting.
    Running,
    /// Fitted and registered.
    Succeeded,
    /// Stopped by an error (or by the server stopping).
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl JobStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => {
                return Err(Error::Corrupt {
                    field: "jobs.status",
                    value: shown(s),
                    reason: "not a job status".into(),
                });
            }
        })
    }
}

/// A stored job.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Job {
    /// Its id (a UUID).
    pub id: String,
    /// The registry name of the model it fits.
    pub model: String,
    /// The model's configuration as given.
    pub spec: serde_json::Value,
    /// Whether the fitted version is to serve at once.
    pub serve: bool,
    /// Where it is.
    pub status: JobStatus,
    /// The stage the fit reports (`em`, `epoch`, …).
    pub stage: String,
    /// Steps of the stage done.
    pub done: i64,
    /// Steps of the stage in all (0 where unknown).
    pub total: i64,
    /// Why it failed, or what it did.
    pub message: Option<String>,
    /// The registry version it produced.
    pub version: Option<i64>,
    /// Whether a cancel was asked for.
    pub cancel: bool,
    /// When it was accepted.
    pub created_at: i64,
    /// When the runner last wrote (a heartbeat while running).
    pub updated_at: i64,
}

type JobRow = (String, String, String, bool, String, String, i64, i64, Option<String>, Option<i64>, bool, i64, i64);

/// The columns of [`JobRow`], as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, model, spec, serve, status, stage, done, total, message, version, cancel, created_at, updated_at"
    };
}

fn from_row(r: JobRow) -> Result<Job> {
    let spec = serde_json::from_str(&r.2).map_err(|e| Error::Corrupt {
        field: "jobs.spec",
        value: shown(&r.2),
        reason: e.to_string(),
    })?;
    Ok(Job {
        id: r.0,
        model: r.1,
        spec,
        serve: r.3,
        status: JobStatus::parse(&r.4)?,
        stage: r.5,
        done: r.6,
        total: r.7,
        message: r.8,
        version: r.9,
        cancel: r.10,
        created_at: r.11,
        updated_at: r.12,
    })
}

impl Store {
    /// Stores a new queued job.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn create_job(
        &self,
        tenant: TenantId,
        id: &str,
        model: &str,
        spec: &serde_json::Value,
        serve: bool,
    ) -> Result<()> {
        let t = now();
        on_pool!(&*self.pool, p => {
            sqlx::query(
                "INSERT INTO jobs (tenant_id, id, model, spec, serve, status, stage, done, total, cancel, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', '', 0, 0, FALSE, $6, $6)",
            )
            .bind(tenant.0)
            .bind(id)
            .bind(model)
            .bind(spec.to_string())
            .bind(serve)
            .bind(t)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// The job `id` of `tenant`.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`].
    pub async fn job(&self, tenant: TenantId, id: &str) -> Result<Option<Job>> {
        let sql = concat!("SELECT ", columns!(), " FROM jobs WHERE tenant_id = $1 AND id = $2");
        let row: Option<JobRow> = on_pool!(&*self.pool, p => {
            sqlx::query_as(sql).bind(tenant.0).bind(id).fetch_optional(p).await?
        });
        row.map(from_row).transpose()
    }

    /// The tenant's jobs, newest first (at most `limit`).
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`].
    pub async fn jobs(&self, tenant: TenantId, limit: usize) -> Result<Vec<Job>> {
        let sql =
            concat!("SELECT ", columns!(), " FROM jobs WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT $2");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<JobRow> = on_pool!(&*self.pool, p => {
            sqlx::query_as(sql).bind(tenant.0).bind(limit).fetch_all(p).await?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// Records an unfinished job's status (queued or running) and progress, a heartbeat too,
    /// and returns whether a cancel was asked for (`true` for a job that has ended).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn job_progress(
        &self,
        tenant: TenantId,
        id: &str,
        status: JobStatus,
        stage: &str,
        done: i64,
        total: i64,
    ) -> Result<bool> {
        let cancel: Option<bool> = on_pool!(&*self.pool, p => {
            sqlx::query_scalar(
                "UPDATE jobs SET status = $7, stage = $1, done = $2, total = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND id = $6 AND status IN ('queued', 'running') RETURNING cancel",
            )
            .bind(stage)
            .bind(done)
            .bind(total)
            .bind(now())
            .bind(tenant.0)
            .bind(id)
            .bind(status.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(cancel.unwrap_or(true))
    }

    /// Ends a job with `status`, its message and the version it produced.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn finish_job(
        &self,
        tenant: TenantId,
        id: &str,
        status: JobStatus,
        message: Option<&str>,
        version: Option<i64>,
    ) -> Result<()> {
        on_pool!(&*self.pool, p => {
            sqlx::query(
                "UPDATE jobs SET status = $1, message = $2, version = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(status.as_str())
            .bind(message)
            .bind(version)
            .bind(now())
            .bind(tenant.0)
            .bind(id)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// Asks a job to stop; the job as it is now (`None` for an unknown id).
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`].
    pub async fn cancel_job(&self, tenant: TenantId, id: &str) -> Result<Option<Job>> {
        on_pool!(&*self.pool, p => {
            sqlx::query("UPDATE jobs SET cancel = TRUE WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id)
                .execute(p)
                .await?
                .rows_affected()
        });
        self.job(tenant, id).await
    }

    /// Marks as failed every unfinished job (of `tenant`, or of every tenant) whose runner has
    /// not written for `stale_seconds` (its server stopped); how many.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn fail_stale_jobs(&self, tenant: Option<TenantId>, stale_seconds: i64) -> Result<u64> {
        Ok(on_pool!(&*self.pool, p => {
            sqlx::query(
                "UPDATE jobs SET status = 'failed', message = 'the server running it stopped', updated_at = $1 \
                 WHERE status IN ('queued', 'running') AND updated_at < $2 AND ($3 IS NULL OR tenant_id = $3)",
            )
            .bind(now())
            .bind(now() - stale_seconds)
            .bind(tenant.map(|t| t.0))
            .execute(p)
            .await?
            .rows_affected()
        }))
    }
}
