//! The model registry: versioned model files per tenant, one version serving, switched and
//! rolled back atomically.

use serde::Serialize;

use crate::error::shown;
use crate::{Error, Result, Store, TenantId, now, on_pool};

/// A registered model version (without its file).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelVersion {
    /// Its version, from 1, increasing per tenant.
    pub version: i64,
    /// The model's registry name (`bkt`, `irt1pl`, …).
    pub name: String,
    /// Its metrics as the fit reported them (JSON).
    pub metrics: serde_json::Value,
    /// When it was registered.
    pub created_at: i64,
    /// Whether it is the serving version.
    pub serving: bool,
}

impl Store {
    /// Registers a model file as the tenant's next version (not serving yet).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty file or name, [`Error::Database`].
    pub async fn add_model(
        &self,
        tenant: TenantId,
        name: &str,
        file: &[u8],
        metrics: &serde_json::Value,
    ) -> Result<i64> {
        if name.is_empty() || name.len() > 100 {
            return Err(Error::Invalid { field: "name", value: shown(name), reason: "1 to 100 bytes" });
        }
        if file.is_empty() {
            return Err(Error::Invalid { field: "file", value: String::new(), reason: "a model file" });
        }
        let metrics = metrics.to_string();
        // Two servers may register at once: the primary key refuses the loser, which retries.
        for _ in 0..5 {
            let added: Result<i64, sqlx::Error> = on_pool!(&*self.pool, p => {
                sqlx::query_scalar(
                    "INSERT INTO models (tenant_id, version, name, file, metrics, created_at) \
                     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM models WHERE tenant_id = $1 \
                     RETURNING version",
                )
                .bind(tenant.0)
                .bind(name)
                .bind(file)
                .bind(&metrics)
                .bind(now())
                .fetch_one(p)
                .await
            });
            match added {
                Ok(v) => return Ok(v),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Exists { what: "model version", name: "next".into() })
    }

    /// Makes `version` the serving one (atomically: readers see the old or the new).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a version the tenant does not have, [`Error::Database`].
    pub async fn serve_model(&self, tenant: TenantId, version: i64) -> Result<()> {
        let n = on_pool!(&*self.pool, p => {
            sqlx::query(
                "INSERT INTO serving (tenant_id, version) SELECT tenant_id, version FROM models \
                 WHERE tenant_id = $1 AND version = $2 \
                 ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version",
            )
            .bind(tenant.0)
            .bind(version)
            .execute(p)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound { what: "model version", id: version.to_string() });
        }
        Ok(())
    }

    /// The serving version and its file, if any.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn serving_model(&self, tenant: TenantId) -> Result<Option<(i64, Vec<u8>)>> {
        Ok(on_pool!(&*self.pool, p => {
            sqlx::query_as(
                "SELECT m.version, m.file FROM serving s JOIN models m \
                 ON m.tenant_id = s.tenant_id AND m.version = s.version WHERE s.tenant_id = $1",
            )
            .bind(tenant.0)
            .fetch_optional(p)
            .await?
        }))
    }

    /// The file of `version`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Database`].
    pub async fn model_file(&self, tenant: TenantId, version: i64) -> Result<Vec<u8>> {
        let file: Option<Vec<u8>> = on_pool!(&*self.pool, p => {
            sqlx::query_scalar("SELECT file FROM models WHERE tenant_id = $1 AND version = $2")
                .bind(tenant.0)
                .bind(version)
                .fetch_optional(p)
                .await?
        });
        file.ok_or_else(|| Error::NotFound { what: "model version", id: version.to_string() })
    }

    /// Every version of `tenant`, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`] for edited metrics.
    pub async fn models(&self, tenant: TenantId) -> Result<Vec<ModelVersion>> {
        let rows: Vec<(i64, String, String, i64, bool)> = on_pool!(&*self.pool, p => {
            sqlx::query_as(
                "SELECT m.version, m.name, m.metrics, m.created_at, \
                 (s.version IS NOT NULL AND s.version = m.version) AS serving \
                 FROM models m LEFT JOIN serving s ON s.tenant_id = m.tenant_id \
                 WHERE m.tenant_id = $1 ORDER BY m.version",
            )
            .bind(tenant.0)
            .fetch_all(p)
            .await?
        });
        rows.into_iter()
            .map(|(version, name, metrics, created_at, serving)| {
                let metrics = serde_json::from_str(&metrics).map_err(|e| Error::Corrupt {
                    field: "models.metrics",
                    value: shown(&metrics),
                    reason: e.to_string(),
                })?;
                Ok(ModelVersion { version, name, metrics, created_at, serving })
            })
            .collect()
    }
}
