//! Dashboard sign-ins. Signing in with an API key opens a web session: a random token the
//! browser keeps in a cookie, of which only the SHA-256 is stored. The session acts with its
//! key's tenant and scopes, and ends when it expires, when it is signed out, or when its key
//! is revoked (every lookup joins the key).

use rand::RngExt;

use crate::tenants::{hash_hex, hex};
use crate::{Result, Scopes, Store, TenantId, now, on_pool};

/// What a web session acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSession {
    /// The key's tenant.
    pub tenant: TenantId,
    /// The tenant's name.
    pub tenant_name: String,
    /// The key's scopes.
    pub scopes: Scopes,
    /// The key's public id.
    pub key: String,
    /// When the session ends (seconds since the epoch).
    pub expires_at: i64,
}

impl Store {
    /// Signs in with a key `<public id>.<secret>`: a new session token valid for `seconds`,
    /// or `None` for an unknown, revoked or malformed key. Expired sessions are swept.
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub async fn open_web_session(&self, key: &str, seconds: i64) -> Result<Option<String>> {
        let Some((public_id, _)) = key.split_once('.') else { return Ok(None) };
        if self.authenticate(key).await?.is_none() {
            return Ok(None);
        }
        let token = hex(&rand::rng().random::<[u8; 32]>());
        let at = now();
        on_pool!(&*self.pool, p => {
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1").bind(at).execute(p).await?;
            sqlx::query("INSERT INTO web_sessions (token_hash, public_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(hash_hex(&token))
                .bind(public_id)
                .bind(at)
                .bind(at.saturating_add(seconds))
                .execute(p)
                .await?;
        });
        Ok(Some(token))
    }

    /// The session of `token`, while it lasts and its key is not revoked.
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub async fn web_session(&self, token: &str) -> Result<Option<WebSession>> {
        if token.len() != 64 {
            return Ok(None);
        }
        let row: Option<(i64, String, i64, String, i64)> = on_pool!(&*self.pool, p => {
            sqlx::query_as(
                "SELECT k.tenant_id, t.name, k.scopes, k.public_id, s.expires_at FROM web_sessions s \
                 JOIN api_keys k ON k.public_id = s.public_id JOIN tenants t ON t.id = k.tenant_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT k.revoked",
            )
            .bind(hash_hex(token))
            .bind(now())
            .fetch_optional(p)
            .await?
        });
        Ok(row.and_then(|(tenant, tenant_name, scopes, key, expires_at)| {
            let scopes = Scopes::from_bits(u8::try_from(scopes).ok()?)?;
            Some(WebSession { tenant: TenantId(tenant), tenant_name, scopes, key, expires_at })
        }))
    }

    /// Ends the session of `token`; `false` where there was none.
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub async fn close_web_session(&self, token: &str) -> Result<bool> {
        let n = on_pool!(&*self.pool, p => {
            sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
                .bind(hash_hex(token))
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}
