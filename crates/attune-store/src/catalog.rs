//! Items with their skills, skills with their names, and the prerequisite graph, per tenant.

use serde::{Deserialize, Serialize};

use crate::error::shown;
use crate::{Error, Result, Store, TenantId, on_pool};

/// An item and the skills it exercises.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Its id.
    pub item: String,
    /// Its skills.
    pub skills: Vec<String>,
}

/// `skill` builds on `requires`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prerequisite {
    /// The later skill.
    pub skill: String,
    /// The skill it needs first.
    pub requires: String,
}

fn check(field: &'static str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > 200 || v.chars().any(char::is_control) {
        return Err(Error::Invalid { field, value: shown(v), reason: "1 to 200 bytes, no control characters" });
    }
    Ok(())
}

impl Store {
    /// Adds or replaces `items` (an item's skills are replaced) in one transaction; their
    /// skills are added to the skill list.
    ///
    /// # Errors
    /// [`Error::Invalid`] (nothing stored), [`Error::Database`].
    pub async fn put_items(&self, tenant: TenantId, items: &[Item]) -> Result<()> {
        for it in items {
            check("item", &it.item)?;
            it.skills.iter().try_for_each(|s| check("skills", s))?;
        }
        on_pool!(&*self.pool, p => {
            let mut tx = p.begin().await?;
            for it in items {
                let skills = serde_json::to_string(&it.skills).unwrap_or_else(|_| "[]".into());
                sqlx::query(
                    "INSERT INTO items (tenant_id, item, skills) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, item) DO UPDATE SET skills = excluded.skills",
                )
                .bind(tenant.0)
                .bind(&it.item)
                .bind(&skills)
                .execute(&mut *tx)
                .await?;
                for s in &it.skills {
                    sqlx::query(
                        "INSERT INTO skills (tenant_id, skill) VALUES ($1, $2) ON CONFLICT (tenant_id, skill) DO NOTHING",
                    )
                    .bind(tenant.0)
                    .bind(s)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every item of `tenant`, by id.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`] for an edited row.
    pub async fn items(&self, tenant: TenantId) -> Result<Vec<Item>> {
        let rows: Vec<(String, String)> = on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT item, skills FROM items WHERE tenant_id = $1 ORDER BY item")
                .bind(tenant.0)
                .fetch_all(p)
                .await?
        });
        rows.into_iter()
            .map(|(item, skills)| {
                let skills = serde_json::from_str(&skills).map_err(|e| Error::Corrupt {
                    field: "items.skills",
                    value: shown(&skills),
                    reason: e.to_string(),
                })?;
                Ok(Item { item, skills })
            })
            .collect()
    }

    /// Names skills (`(skill, name)`), adding those not known yet.
    ///
    /// # Errors
    /// [`Error::Invalid`], [`Error::Database`].
    pub async fn name_skills(&self, tenant: TenantId, names: &[(String, String)]) -> Result<()> {
        for (s, n) in names {
            check("skill", s)?;
            check("name", n)?;
        }
        on_pool!(&*self.pool, p => {
            let mut tx = p.begin().await?;
            for (s, n) in names {
                sqlx::query(
                    "INSERT INTO skills (tenant_id, skill, name) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, skill) DO UPDATE SET name = excluded.name",
                )
                .bind(tenant.0)
                .bind(s)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every skill of `tenant` with its name where it has one, by id.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn skills(&self, tenant: TenantId) -> Result<Vec<(String, Option<String>)>> {
        Ok(on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT skill, name FROM skills WHERE tenant_id = $1 ORDER BY skill")
                .bind(tenant.0)
                .fetch_all(p)
                .await?
        }))
    }

    /// Adds prerequisite edges (a skill may not require itself).
    ///
    /// # Errors
    /// [`Error::Invalid`], [`Error::Database`].
    pub async fn add_prerequisites(&self, tenant: TenantId, edges: &[Prerequisite]) -> Result<()> {
        for e in edges {
            check("skill", &e.skill)?;
            check("requires", &e.requires)?;
            if e.skill == e.requires {
                return Err(Error::Invalid { field: "requires", value: shown(&e.skill), reason: "another skill" });
            }
        }
        on_pool!(&*self.pool, p => {
            let mut tx = p.begin().await?;
            for e in edges {
                sqlx::query(
                    "INSERT INTO prerequisites (tenant_id, skill, requires) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, skill, requires) DO NOTHING",
                )
                .bind(tenant.0)
                .bind(&e.skill)
                .bind(&e.requires)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The prerequisite graph of `tenant`.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn prerequisites(&self, tenant: TenantId) -> Result<Vec<Prerequisite>> {
        let rows: Vec<(String, String)> = on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT skill, requires FROM prerequisites WHERE tenant_id = $1 ORDER BY skill, requires")
                .bind(tenant.0)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(|(skill, requires)| Prerequisite { skill, requires }).collect())
    }
}
