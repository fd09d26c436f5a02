//! Authentication: `Authorization: Bearer <public id>.<secret>`, or HTTP Basic with the public
//! id as user name and the secret as password (as xAPI clients send keys). A verified key is
//! remembered for a few seconds, so that a request costs no key lookup while a revoked key
//! stops working soon after.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attune_store::{Scopes, TenantId};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;

use crate::App;
use crate::error::ApiError;

/// How long a verified key is trusted without a lookup.
const KEY_CACHE: Duration = Duration::from_secs(5);

/// The caller: their tenant and what their key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth {
    /// Every row the request touches belongs to this tenant.
    pub tenant: TenantId,
    /// The key's scopes.
    pub scopes: Scopes,
}

impl Auth {
    /// `Ok` where the key has `scope`; 403 `insufficient_scope` otherwise.
    ///
    /// # Errors
    /// The 403.
    pub fn require(&self, scope: Scopes) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this key has scopes {}; the route needs {scope}", self.scopes),
            ))
        }
    }
}

/// Verified keys by token, with when they were verified.
#[derive(Default)]
pub(crate) struct KeyCache(Mutex<HashMap<String, (Auth, Instant)>>);

impl KeyCache {
    fn get(&self, token: &str) -> Option<Auth> {
        let map = self.0.lock().ok()?;
        map.get(token).filter(|(_, at)| at.elapsed() < KEY_CACHE).map(|(a, _)| *a)
    }

    fn put(&self, token: String, auth: Auth) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (_, at)| at.elapsed() < KEY_CACHE);
            }
            map.insert(token, (auth, Instant::now()));
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// The token of an `Authorization` header value: `Bearer <token>` or `Basic <base64 of
/// id:secret>`.
fn token_of(header: &str) -> Option<String> {
    let (scheme, rest) = header.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
        return Some(format!("{user}.{password}"));
    }
    None
}

impl FromRequestParts<Arc<App>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization header: send Bearer <key>"))?
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not text"))?;
        let token = token_of(header).ok_or_else(|| unauthorized("Authorization: Bearer <key> or Basic <id:secret>"))?;
        if let Some(auth) = app.keys.get(&token) {
            return Ok(auth);
        }
        match app.store.authenticate(&token).await? {
            Some((tenant, scopes)) => {
                let auth = Auth { tenant, scopes };
                app.keys.put(token, auth);
                Ok(auth)
            }
            None => Err(unauthorized("unknown or revoked key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_bearer_and_basic() {
        assert_eq!(token_of("Bearer abc.def").as_deref(), Some("abc.def"));
        assert_eq!(token_of("bearer  abc.def ").as_deref(), Some("abc.def"));
        let basic = base64::engine::general_purpose::STANDARD.encode("abc:def");
        assert_eq!(token_of(&format!("Basic {basic}")).as_deref(), Some("abc.def"));
        assert_eq!(token_of("Basic !!!"), None);
        assert_eq!(token_of("Token abc"), None);
        assert_eq!(token_of("Bearer"), None);
    }
}
