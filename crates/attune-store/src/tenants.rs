//! Tenants and their API keys. A key is `<public id>.<secret>`; only the SHA-256 of the
//! secret is stored (the secret is 256 random bits, so a plain hash is as strong as a slow
//! one), and it is shown once, when created.

use std::fmt;

use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::error::shown;
use crate::{Error, Result, Store, now, on_pool};

/// A tenant's id: every stored row carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub i64);

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Its unique name.
    pub name: String,
    /// When it was created (seconds since the epoch).
    pub created_at: i64,
}

/// What a key may do: read, write (answers, imports), admin (keys, models, jobs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Reading learner states, items, analytics.
    pub const READ: Self = Self(1);
    /// Recording answers and importing items.
    pub const WRITE: Self = Self(2);
    /// Keys, model versions, training jobs.
    pub const ADMIN: Self = Self(4);
    /// Every scope.
    pub const ALL: Self = Self(7);

    /// The scopes of stored bits; `None` for bits no scope has.
    pub(crate) fn from_bits(bits: u8) -> Option<Self> {
        (bits <= Self::ALL.0).then_some(Self(bits))
    }

    /// Whether every scope of `other` is in these.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parses a comma-separated list of `read`, `write`, `admin`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the unknown scope.
    pub fn parse(s: &str) -> Result<Self> {
        let mut bits = 0;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            bits |= match part {
                "read" => 1,
                "write" => 2,
                "admin" => 4,
                _ => {
                    return Err(Error::Invalid { field: "scopes", value: shown(part), reason: "read, write or admin" });
                }
            };
        }
        if bits == 0 {
            return Err(Error::Invalid {
                field: "scopes",
                value: shown(s),
                reason: "at least one of read, write, admin",
            });
        }
        Ok(Self(bits))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> =
            [(1, "read"), (2, "write"), (4, "admin")].iter().filter(|(b, _)| self.0 & b != 0).map(|t| t.1).collect();
        f.write_str(&names.join(","))
    }
}

/// A key as created: shown once, never stored in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The public part (also the HTTP Basic user name).
    pub public_id: String,
    /// The secret part (the HTTP Basic password).
    pub secret: String,
}

impl NewKey {
    /// The bearer token: `<public id>.<secret>`.
    pub fn token(&self) -> String {
        format!("{}.{}", self.public_id, self.secret)
    }
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey").field("public_id", &self.public_id).finish_non_exhaustive()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The SHA-256 of `secret` in hex (how web-session tokens are stored).
pub(crate) fn hash_hex(secret: &str) -> String {
    hex(&hash(secret))
}

/// Equality that takes the same time wherever the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_name(name: &str) -> Result<()> {
    let ok = (1..=100).contains(&name.chars().count()) && !name.chars().any(char::is_control) && name.trim() == name;
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "name",
            value: shown(name),
            reason: "1 to 100 characters, no control characters or surrounding spaces",
        })
    }
}

impl Store {
    /// Creates tenant `name` with a first key of every scope.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad name, [`Error::Exists`], [`Error::Database`].
    pub async fn create_tenant(&self, name: &str) -> Result<(Tenant, NewKey)> {
        check_name(name)?;
        let created_at = now();
        let id: Result<i64, sqlx::Error> = on_pool!(&*self.pool, p => {
            sqlx::query_scalar("INSERT INTO tenants (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(created_at)
                .fetch_one(p)
                .await
        });
        let id = match id {
            Ok(id) => TenantId(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::Exists { what: "tenant", name: name.into() });
            }
            Err(e) => return Err(e.into()),
        };
        let key = self.create_key(id, Scopes::ALL).await?;
        Ok((Tenant { id, name: name.into(), created_at }, key))
    }

    /// The tenant called `name`.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        let row: Option<(i64, String, i64)> = on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT id, name, created_at FROM tenants WHERE name = $1").bind(name).fetch_optional(p).await?
        });
        Ok(row.map(|(id, name, created_at)| Tenant { id: TenantId(id), name, created_at }))
    }

    /// Every tenant, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows: Vec<(i64, String, i64)> = on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT id, name, created_at FROM tenants ORDER BY id").fetch_all(p).await?
        });
        Ok(rows.into_iter().map(|(id, name, created_at)| Tenant { id: TenantId(id), name, created_at }).collect())
    }

    /// A new key of `scopes` for `tenant`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown tenant, [`Error::Database`].
    pub async fn create_key(&self, tenant: TenantId, scopes: Scopes) -> Result<NewKey> {
        let mut rng = rand::rng();
        let key = NewKey { public_id: hex(&rng.random::<[u8; 8]>()), secret: hex(&rng.random::<[u8; 32]>()) };
        let done: Result<_, sqlx::Error> = on_pool!(&*self.pool, p => {
            sqlx::query(
                "INSERT INTO api_keys (public_id, tenant_id, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&key.public_id)
            .bind(tenant.0)
            .bind(hash(&key.secret))
            .bind(i64::from(scopes.0))
            .bind(now())
            .execute(p)
            .await
            .map(|_| ())
        });
        match done {
            Ok(_) => Ok(key),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(Error::NotFound { what: "tenant", id: tenant.0.to_string() })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes the key `public_id` of `tenant`; `false` if it has no such key.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn revoke_key(&self, tenant: TenantId, public_id: &str) -> Result<bool> {
        let n = on_pool!(&*self.pool, p => {
            sqlx::query("UPDATE api_keys SET revoked = TRUE WHERE public_id = $1 AND tenant_id = $2")
                .bind(public_id)
                .bind(tenant.0)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// The tenant and scopes of a bearer token `<public id>.<secret>`; `None` for an unknown,
    /// revoked or malformed one.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn authenticate(&self, token: &str) -> Result<Option<(TenantId, Scopes)>> {
        match token.split_once('.') {
            Some((public_id, secret)) => self.authenticate_parts(public_id, secret).await,
            None => Ok(None),
        }
    }

    /// [`Store::authenticate`] from the two parts (as HTTP Basic sends them).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn authenticate_parts(&self, public_id: &str, secret: &str) -> Result<Option<(TenantId, Scopes)>> {
        if public_id.len() > 64 || secret.len() > 128 {
            return Ok(None);
        }
        let row: Option<(i64, Vec<u8>, i64, bool)> = on_pool!(&*self.pool, p => {
            sqlx::query_as("SELECT tenant_id, secret_hash, scopes, revoked FROM api_keys WHERE public_id = $1")
                .bind(public_id)
                .fetch_optional(p)
                .await?
        });
        Ok(row.and_then(|(tenant, stored, scopes, revoked)| {
            let scopes = Scopes::from_bits(u8::try_from(scopes).ok()?)?;
            (!revoked && same(&stored, &hash(secret))).then_some((TenantId(tenant), scopes))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        let s = Scopes::parse("read, admin").unwrap();
        assert!(s.contains(Scopes::READ) && s.contains(Scopes::ADMIN) && !s.contains(Scopes::WRITE));
        assert_eq!(s.to_string(), "read,admin");
        assert!(Scopes::ALL.contains(s));
        assert!(matches!(Scopes::parse("read,root"), Err(Error::Invalid { field: "scopes", .. })));
        assert!(Scopes::parse("").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("Lincoln High").is_ok());
        for bad in ["", " padded", "tab\there", &"x".repeat(101)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn constant_time_equality() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
