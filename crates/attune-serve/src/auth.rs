//! Authentication: `Authorization: Bearer <public id>.<secret>`, or HTTP Basic with the public
//! id as user name and the secret as password (as xAPI clients send keys). A verified key is
//! remembered for a few seconds, so that a request costs no key lookup while a revoked key
//! stops working soon after.
//!
//! The dashboard signs in with a key once and then holds a web session (an HttpOnly,
//! SameSite=Strict cookie, see [`crate::dashboard`]); the API also takes that cookie on GET
//! requests, so that the dashboard's script can read job progress, while every request that
//! changes something still needs the header (or, on the dashboard's forms, the form token).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attune_store::{Scopes, TenantId};
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
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

/// Verified keys (or dashboard sessions) by token, with when they were verified.
pub(crate) struct KeyCache<V = Auth>(Mutex<HashMap<String, (V, Instant)>>);

impl<V> Default for KeyCache<V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<V: Clone> KeyCache<V> {
    fn get(&self, token: &str) -> Option<V> {
        let map = self.0.lock().ok()?;
        map.get(token).filter(|(_, at)| at.elapsed() < KEY_CACHE).map(|(v, _)| v.clone())
    }

    fn forget(&self, token: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(token);
        }
    }

    fn put(&self, token: String, value: V) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (_, at)| at.elapsed() < KEY_CACHE);
            }
            map.insert(token, (value, Instant::now()));
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

/// The name of the dashboard's session cookie.
pub(crate) const SESSION_COOKIE: &str = "attune_session";

/// The value of cookie `name` among the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

impl App {
    /// The web session of a dashboard cookie (its caller and tenant name), remembered for a
    /// few seconds like a key.
    pub(crate) async fn web_session(&self, token: &str) -> Result<Option<(Auth, String)>, ApiError> {
        if let Some(known) = self.web_sessions.get(token) {
            return Ok(Some(known));
        }
        let Some(s) = self.store.web_session(token).await? else { return Ok(None) };
        let known = (Auth { tenant: s.tenant, scopes: s.scopes }, s.tenant_name);
        self.web_sessions.put(token.to_owned(), known.clone());
        Ok(Some(known))
    }

    /// Signs the web session of `token` out, here and in the store.
    pub(crate) async fn end_web_session(&self, token: &str) -> Result<(), ApiError> {
        self.web_sessions.forget(token);
        self.store.close_web_session(token).await?;
        Ok(())
    }
}

impl FromRequestParts<Arc<App>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            let reads = parts.method == Method::GET || parts.method == Method::HEAD;
            if reads && let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
                return match app.web_session(token).await? {
                    Some((auth, _)) => Ok(auth),
                    None => Err(unauthorized("the dashboard session has ended: sign in again")),
                };
            }
            return Err(unauthorized("missing Authorization header: send Bearer <key>"));
        };
        let header = header.to_str().map_err(|_| unauthorized("the Authorization header is not text"))?;
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

    #[test]
    fn cookies_by_name() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "theme=dark; attune_session=abc".parse().unwrap());
        h.append(COOKIE, "other=1".parse().unwrap());
        assert_eq!(cookie(&h, "attune_session"), Some("abc"));
        assert_eq!(cookie(&h, "other"), Some("1"));
        assert_eq!(cookie(&h, "attune"), None);
        assert_eq!(cookie(&HeaderMap::new(), "attune_session"), None);
    }
}
