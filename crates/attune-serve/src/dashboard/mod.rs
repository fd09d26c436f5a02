//! The teacher dashboard: server-rendered pages (askama templates, SVG charts from
//! attune-analytics, the same code as `attune report`), a little plain script for live job
//! progress, no external assets.
//!
//! - `/dashboard`: the class overview (mastery heat map, at-risk learners, skill coverage,
//!   activity);
//! - `/dashboard/learners/{learner}`: one learner (mastery over time, learning curve, recent
//!   answers with the predicted probability each had, the next items and why);
//! - `/dashboard/items`: item difficulty and discrimination, BKT parameters, odd items, a
//!   skill's prerequisite neighbourhood;
//! - `/dashboard/models`: the registry, switching and rolling back the serving version,
//!   training jobs with live progress and cancel.
//!
//! Signing in with an API key opens a web session (attune-store): the browser holds an
//! opaque token in an HttpOnly, SameSite=Strict cookie, every page reads only the key's
//! tenant, and every form that changes something carries a token derived from the session
//! (a cross-site form cannot know it).

mod items;
mod learner;
mod models;
mod overview;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::App;
use crate::auth::{Auth, SESSION_COOKIE, cookie};
use crate::error::ApiError;

/// How long a sign-in lasts.
const SESSION_SECONDS: i64 = 12 * 3600;

/// The dashboard's routes.
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(overview::page))
        .route("/dashboard/sign-in", get(sign_in_page).post(sign_in))
        .route("/dashboard/sign-out", post(sign_out))
        .route("/dashboard/learners/{learner}", get(learner::page))
        .route("/dashboard/items", get(items::page))
        .route("/dashboard/models", get(models::page))
        .route("/dashboard/models/{version}/serve", post(models::serve))
        .route("/dashboard/jobs", post(models::start_job))
        .route("/dashboard/jobs/{id}/cancel", post(models::cancel_job))
        .route("/dashboard/static/dashboard.css", get(|| asset("text/css", include_str!("../../static/dashboard.css"))))
        .route(
            "/dashboard/static/dashboard.js",
            get(|| asset("text/javascript", include_str!("../../static/dashboard.js"))),
        )
}

async fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "max-age=3600")], body).into_response()
}

/// The signed-in teacher or operator: the session's key's tenant and scopes.
pub(crate) struct Viewer {
    pub(crate) auth: Auth,
    tenant: String,
    csrf: String,
}

/// The form token of a session: a cross-site page cannot compute it without the cookie.
fn csrf_of(token: &str) -> String {
    Sha256::digest(format!("attune-dashboard-form:{token}").as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn to_sign_in(parts: &Parts) -> Response {
    let next = parts.uri.path_and_query().map_or("/dashboard", |p| p.as_str());
    let target = format!("/dashboard/sign-in?next={}", urlencode(next));
    Redirect::to(&target).into_response()
}

/// Everything but the unreserved characters of RFC 3986.
const RESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes a path segment or query value.
pub(crate) fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}

impl FromRequestParts<Arc<App>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_sign_in(parts)) };
        match app.web_session(token).await {
            Ok(Some((auth, tenant))) => Ok(Self { auth, tenant, csrf: csrf_of(token) }),
            Ok(None) => Err(to_sign_in(parts)),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

impl Viewer {
    /// The header and navigation of a page, `active` naming its section.
    pub(crate) fn nav(&self, active: &'static str) -> Nav {
        Nav {
            tenant: self.tenant.clone(),
            csrf: self.csrf.clone(),
            active,
            admin: self.auth.scopes.contains(attune_store::Scopes::ADMIN),
            write: self.auth.scopes.contains(attune_store::Scopes::WRITE),
        }
    }

    /// `Ok` where a submitted form carries this session's token.
    pub(crate) fn check_form(&self, csrf: &str) -> Result<(), PageError> {
        if csrf == self.csrf {
            Ok(())
        } else {
            Err(PageError(ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_form_token",
                "the form's token does not belong to this session: reload the page and try again",
            )))
        }
    }
}

/// What the layout shows around every page.
pub(crate) struct Nav {
    pub(crate) tenant: String,
    pub(crate) csrf: String,
    pub(crate) active: &'static str,
    pub(crate) admin: bool,
    pub(crate) write: bool,
}

/// An error shown as a page with its status.
pub(crate) struct PageError(pub(crate) ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<Nav>,
    title: String,
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.status.is_server_error() {
            tracing::error!(code = e.code, message = %e.message, "dashboard page failed");
        }
        let title = e.status.canonical_reason().unwrap_or("Error").to_owned();
        let page = ErrorPage { nav: None, title, code: e.code, message: &e.message };
        (e.status, render(&page)).into_response()
    }
}

/// A rendered page (a template that fails to render is a server error page).
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a dashboard template");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// The result of a page handler.
pub(crate) type PageResult = Result<Response, PageError>;

/// A page's query, or a 400 page naming what is wrong with it.
pub(crate) fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, PageError> {
    q.map(|Query(q)| q).map_err(|e| PageError(ApiError::bad_request("invalid_field", e.body_text())))
}

/// A number with `digits` decimals, or a dash.
pub(crate) fn num(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite()).map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

/// A share as a percentage.
pub(crate) fn pct(v: f64) -> String {
    if v.is_finite() { format!("{:.1} %", 100.0 * v) } else { "–".to_owned() }
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM` (UTC).
pub(crate) fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%d %H:%M").to_string())
}

/// A colour for a mastery value (the heat map's scale), as CSS.
pub(crate) fn mastery_css(v: Option<f64>) -> String {
    v.map_or_else(
        || "#e6e6e6".to_owned(),
        |v| {
            let c = attune_analytics::charts::mastery_color(v);
            format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
        },
    )
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    nav: Option<Nav>,
    title: String,
    next: String,
    error: Option<String>,
}

/// Where a sign-in may lead: a dashboard page, never another site.
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with("/dashboard") && !n.starts_with("//") && !n.contains("\\"))
        .unwrap_or_else(|| "/dashboard".to_owned())
}

async fn sign_in_page(Query(q): Query<NextQuery>) -> Response {
    render(&SignInPage { nav: None, title: "Sign in".into(), next: safe_next(q.next), error: None })
}

#[derive(Deserialize)]
struct SignInForm {
    key: String,
    next: Option<String>,
}

/// `; Secure` where the browser reached the service over HTTPS (a TLS proxy in front says so
/// with `X-Forwarded-Proto`), so that the cookie never travels in clear text there.
fn secure(headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').next().is_some_and(|p| p.trim().eq_ignore_ascii_case("https")));
    if https { "; Secure" } else { "" }
}

async fn sign_in(State(app): State<Arc<App>>, request: HeaderMap, form: axum::Form<SignInForm>) -> Response {
    let form = form.0;
    let next = safe_next(form.next);
    match app.store.open_web_session(form.key.trim(), SESSION_SECONDS).await {
        Ok(Some(token)) => {
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
                secure(&request)
            );
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.insert(SET_COOKIE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&next) {
                headers.insert(LOCATION, v);
            }
            (StatusCode::SEE_OTHER, headers).into_response()
        }
        Ok(None) => {
            let page = SignInPage {
                nav: None,
                title: "Sign in".into(),
                next,
                error: Some("That key is unknown or revoked.".into()),
            };
            (StatusCode::UNAUTHORIZED, render(&page)).into_response()
        }
        Err(e) => PageError(e.into()).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    pub(crate) csrf: String,
}

async fn sign_out(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    headers: HeaderMap,
    form: axum::Form<TokenForm>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        app.end_web_session(token).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", secure(&headers));
    Ok((StatusCode::SEE_OTHER, [(SET_COOKIE, clear), (LOCATION, "/dashboard/sign-in".to_owned())]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_leads_only_to_dashboard_pages() {
        assert_eq!(safe_next(Some("/dashboard/items?skill=a".into())), "/dashboard/items?skill=a");
        for bad in ["https://evil.example/", "//evil.example/dashboard", "/v1/models", "/dashboard\\..\\x"] {
            assert_eq!(safe_next(Some(bad.into())), "/dashboard", "{bad}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }

    #[test]
    fn cookies_are_secure_behind_https() {
        let mut h = HeaderMap::new();
        assert_eq!(secure(&h), "");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        assert_eq!(secure(&h), "; Secure");
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        assert_eq!(secure(&h), "");
    }

    #[test]
    fn form_tokens_differ_by_session() {
        assert_eq!(csrf_of("a"), csrf_of("a"));
        assert_ne!(csrf_of("a"), csrf_of("b"));
        assert_eq!(csrf_of("a").len(), 32);
        assert_eq!(urlencode("/dashboard/x y?a=b"), "%2Fdashboard%2Fx%20y%3Fa%3Db");
    }
}
