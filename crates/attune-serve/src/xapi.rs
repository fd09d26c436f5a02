//! xAPI (Experience API 1.0.3): `POST`/`PUT`/`GET /xapi/statements` and `GET /xapi/about`.
//!
//! Statements are validated as the specification requires (an actor with exactly one inverse
//! functional identifier, IRI verb and activity ids, UUID statement ids and registrations,
//! ISO 8601 timestamps), stored as received under their id (generated where absent), and an
//! "answered" statement (verb `http://adlnet.gov/expapi/verbs/answered`) with
//! `result.success` is also an answer: learner = the actor (`account.name`, else the `mbox`
//! address, `mbox_sha1sum` or `openid`), item = the activity id (`urn:attune:item:<id>`
//! names item `<id>`), recorded with `context.registration`. Other statements are stored and returned but update no model.

use std::collections::HashSet;
use std::sync::Arc;

use attune_store::{NewAnswer, Put, Scopes, Statement, StatementFilter};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::App;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};

/// The xAPI version this service speaks.
pub(crate) const XAPI_VERSION: &str = "1.0.3";

/// The verb whose statements are answers.
pub(crate) const ANSWERED: &str = "http://adlnet.gov/expapi/verbs/answered";

/// Activity ids `urn:attune:item:<id>` name the item `<id>`; any other activity IRI is itself
/// the item's id.
pub(crate) const ITEM_PREFIX: &str = "urn:attune:item:";

const VERSION_HEADER: &str = "x-experience-api-version";

/// Middleware for `/xapi/`: every response carries the version header; every request but
/// `GET /xapi/about` must send a 1.0.x one.
pub(crate) async fn version(req: Request, next: Next) -> Response {
    let about = req.uri().path().trim_end_matches('/') == "/xapi/about";
    let sent = req.headers().get(VERSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut resp = match sent {
        Some(v) if v.starts_with("1.0") => next.run(req).await,
        _ if about => next.run(req).await,
        Some(v) => invalid(&format!("X-Experience-API-Version {v:?}: this service speaks 1.0.x")).into_response(),
        None => invalid("missing X-Experience-API-Version header (1.0.3)").into_response(),
    };
    resp.headers_mut().insert(VERSION_HEADER, HeaderValue::from_static(XAPI_VERSION));
    resp
}

fn invalid(message: &str) -> ApiError {
    ApiError::bad_request("invalid_statement", message)
}

/// `GET /xapi/about`: the xAPI versions spoken (no key needed).
#[utoipa::path(get, path = "/xapi/about", tag = "xapi", responses((status = 200, description = "{\"version\": [\"1.0.3\"]}")))]
pub(crate) async fn about() -> Json<Value> {
    Json(json!({"version": [XAPI_VERSION]}))
}

/// Whether `s` is an absolute IRI: a scheme (a letter, then letters, digits, `+`, `-`, `.`),
/// a colon, and no whitespace.
fn is_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    let mut c = scheme.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || "+-.".contains(ch))
        && !rest.is_empty()
        && !s.chars().any(|ch| ch.is_whitespace() || ch.is_control())
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// Seconds since the epoch of an ISO 8601 (RFC 3339) timestamp.
fn timestamp(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A statement checked: its id, verb, registration and the answer it is, if it is one.
struct Checked {
    id: String,
    verb: String,
    registration: Option<String>,
    actor: String,
    activity: Option<String>,
    body: Value,
    answer: Option<(String, String, bool, Option<i64>)>,
}

/// The learner id of an agent: exactly one inverse functional identifier.
fn agent(actor: &Value, at: &str) -> ApiResult<String> {
    let obj = actor.as_object().ok_or_else(|| invalid(&format!("{at}: an Agent object")))?;
    let ids: Vec<&str> =
        ["mbox", "mbox_sha1sum", "openid", "account"].into_iter().filter(|k| obj.contains_key(*k)).collect();
    if ids.len() != 1 {
        return Err(invalid(&format!(
            "{at}: exactly one of mbox, mbox_sha1sum, openid, account (found {})",
            if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
        )));
    }
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    match ids[0] {
        "mbox" => match text("mbox").and_then(|m| m.strip_prefix("mailto:")) {
            Some(addr) if addr.contains('@') && !addr.contains(char::is_whitespace) => Ok(addr.to_owned()),
            _ => Err(invalid(&format!("{at}.mbox: a mailto: IRI with an address"))),
        },
        "mbox_sha1sum" => match text("mbox_sha1sum") {
            Some(h) if h.len() == 40 && h.chars().all(|c| c.is_ascii_hexdigit()) => Ok(h.to_owned()),
            _ => Err(invalid(&format!("{at}.mbox_sha1sum: 40 hexadecimal digits"))),
        },
        "openid" => match text("openid") {
            Some(u) if is_iri(u) => Ok(u.to_owned()),
            _ => Err(invalid(&format!("{at}.openid: an IRI"))),
        },
        _ => {
            let acc = obj.get("account").and_then(Value::as_object);
            let home = acc.and_then(|a| a.get("homePage")).and_then(Value::as_str);
            let name = acc.and_then(|a| a.get("name")).and_then(Value::as_str);
            match (home, name) {
                (Some(h), Some(n)) if is_iri(h) && !n.is_empty() => Ok(n.to_owned()),
                _ => Err(invalid(&format!("{at}.account: homePage (an IRL) and name"))),
            }
        }
    }
}

/// Checks one statement (`at` names it in errors), giving it an id where it has none.
fn check(mut s: Value, at: &str) -> ApiResult<Checked> {
    let obj = s.as_object_mut().ok_or_else(|| invalid(&format!("{at}: a statement object")))?;
    let id = match obj.get("id") {
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            obj.insert("id".into(), Value::String(id.clone()));
            id
        }
        Some(Value::String(id)) if is_uuid(id) => id.to_lowercase(),
        Some(v) => return Err(invalid(&format!("{at}.id {v}: a UUID"))),
    };
    let learner =
        agent(obj.get("actor").ok_or_else(|| invalid(&format!("{at}.actor: missing")))?, &format!("{at}.actor"))?;
    let verb = match obj.get("verb").and_then(|v| v.get("id")).and_then(Value::as_str) {
        Some(v) if is_iri(v) => v.to_owned(),
        _ => return Err(invalid(&format!("{at}.verb.id: an IRI"))),
    };
    let object = obj.get("object").ok_or_else(|| invalid(&format!("{at}.object: missing")))?;
    let kind = object.get("objectType").and_then(Value::as_str).unwrap_or("Activity");
    let activity = if kind == "Activity" {
        match object.get("id").and_then(Value::as_str) {
            Some(a) if is_iri(a) => Some(a.to_owned()),
            _ => return Err(invalid(&format!("{at}.object.id: an IRI"))),
        }
    } else {
        None
    };
    let registration = match obj.get("context").and_then(|c| c.get("registration")) {
        None => None,
        Some(Value::String(r)) if is_uuid(r) => Some(r.to_lowercase()),
        Some(v) => return Err(invalid(&format!("{at}.context.registration {v}: a UUID"))),
    };
    let time = match obj.get("timestamp") {
        None => None,
        Some(Value::String(t)) => {
            Some(timestamp(t).ok_or_else(|| invalid(&format!("{at}.timestamp {t:?}: an ISO 8601 date-time")))?)
        }
        Some(v) => return Err(invalid(&format!("{at}.timestamp {v}: an ISO 8601 date-time"))),
    };
    let success = match obj.get("result").and_then(|r| r.get("success")) {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => return Err(invalid(&format!("{at}.result.success {v}: true or false"))),
    };
    let answer = match (verb == ANSWERED, &activity, success) {
        (true, Some(activity), Some(correct)) => {
            let item = activity.strip_prefix(ITEM_PREFIX).unwrap_or(activity).to_owned();
            Some((learner.clone(), item, correct, time))
        }
        _ => None,
    };
    Ok(Checked { id, verb, registration, actor: learner, activity, body: s, answer })
}

/// Two statements agree where they differ only in what the store adds.
fn same(stored: &str, received: &str) -> bool {
    let strip = |s: &str| -> Option<Value> {
        let mut v: Value = serde_json::from_str(s).ok()?;
        if let Some(o) = v.as_object_mut() {
            for k in ["stored", "authority", "version"] {
                o.remove(k);
            }
        }
        Some(v)
    };
    let stored = strip(stored);
    stored.is_some() && stored == strip(received)
}

/// Stores checked statements and records the answers among them; the ids.
async fn store(app: &App, auth: Auth, checked: Vec<Checked>) -> ApiResult<Vec<String>> {
    let mut seen = HashSet::new();
    if let Some(dup) = checked.iter().find(|c| !seen.insert(c.id.clone())) {
        return Err(invalid(&format!("statement id {} twice in one request", dup.id)));
    }
    let rows: Vec<Statement> = checked
        .iter()
        .map(|c| Statement {
            id: c.id.clone(),
            verb: c.verb.clone(),
            registration: c.registration.clone(),
            actor: Some(c.actor.clone()),
            activity: c.activity.clone(),
            body: c.body.to_string(),
        })
        .collect();
    let outcome = app.store.put_statements(auth.tenant, &rows, same).await?;
    if let Some(i) = outcome.iter().position(|o| *o == Put::Conflict) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "statement_conflict",
            format!("statement {} is stored with other content", checked[i].id),
        ));
    }
    // Answers again for statements stored before, so that a retry after a failure between
    // the two steps still records them (answers are idempotent under their id). An answer
    // whose registration is a tutoring session of its learner is that session's next step.
    let mut plain = Vec::new();
    for c in &checked {
        let Some((learner, item, correct, time)) = c.answer.clone() else { continue };
        let answer =
            NewAnswer { id: format!("xapi:{}", c.id), learner, item, correct, time, skills: Vec::new(), model: None };
        let in_session = match &c.registration {
            Some(r) => crate::tutor::answer_in(app, auth.tenant, r, answer.clone()).await?.is_some(),
            None => false,
        };
        if !in_session {
            plain.push(answer);
        }
    }
    if !plain.is_empty() {
        app.engine.record(auth.tenant, plain, false).await?;
    }
    Ok(checked.into_iter().map(|c| c.id).collect())
}

fn parse(body: Result<Bytes, BytesRejection>) -> ApiResult<Value> {
    let body = body.map_err(|e| ApiError::new(e.status(), "bad_body", e.body_text()))?;
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("invalid_json", format!("not JSON: {e}")))
}

/// `POST /xapi/statements`: one statement or an array; 200 with the ids.
#[utoipa::path(post, path = "/xapi/statements", tag = "xapi",
    params(("X-Experience-API-Version" = String, Header, description = "1.0.x")),
    responses(
        (status = 200, description = "The statements' ids", body = Vec<String>),
        (status = 400, description = "An invalid statement, duplicate ids in the batch, no version header", body = crate::ErrorBody),
        (status = 409, description = "A known id with other content: nothing stored", body = crate::ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub(crate) async fn post(
    State(app): State<Arc<App>>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Vec<String>>> {
    auth.require(Scopes::WRITE)?;
    let checked = match parse(body)? {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, s)| check(s, &format!("statements[{i}]")))
            .collect::<ApiResult<_>>()?,
        s => vec![check(s, "statement")?],
    };
    Ok(Json(store(&app, auth, checked).await?))
}

/// The query of `PUT` and `GET /xapi/statements`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatementQuery {
    statement_id: Option<String>,
    limit: Option<usize>,
    /// An Agent as JSON: statements whose actor names the same learner.
    agent: Option<String>,
    verb: Option<String>,
    activity: Option<String>,
    registration: Option<String>,
    /// ISO 8601: stored after.
    since: Option<String>,
    /// ISO 8601: stored at or before.
    until: Option<String>,
    #[serde(default)]
    ascending: bool,
    /// Where the previous page ended (the `more` link carries it).
    cursor: Option<String>,
}

impl StatementQuery {
    /// The store's filter for this query; 400 naming the parameter where one is malformed.
    fn filter(&self) -> ApiResult<StatementFilter> {
        let time = |name: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
            v.as_deref()
                .map(|t| timestamp(t).ok_or_else(|| invalid(&format!("{name} {t:?}: an ISO 8601 date-time"))))
                .transpose()
        };
        let actor = match &self.agent {
            Some(a) => {
                let v: Value = serde_json::from_str(a).map_err(|_| invalid("agent: an Agent object as JSON"))?;
                Some(agent(&v, "agent")?)
            }
            None => None,
        };
        let cursor = match &self.cursor {
            Some(c) => {
                let (at, id) = c.split_once('.').ok_or_else(|| invalid("cursor: as the more link gives it"))?;
                Some((at.parse().map_err(|_| invalid("cursor: as the more link gives it"))?, id.to_owned()))
            }
            None => None,
        };
        Ok(StatementFilter {
            verb: self.verb.clone(),
            registration: self.registration.as_ref().map(|r| r.to_lowercase()),
            actor,
            activity: self.activity.clone(),
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            ascending: self.ascending,
            cursor,
        })
    }

    /// This query with `cursor`, as a relative URL (the `more` link).
    fn more(&self, cursor: &str) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("agent", &self.agent),
            ("verb", &self.verb),
            ("activity", &self.activity),
            ("registration", &self.registration),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        }
        if let Some(l) = self.limit {
            pairs.push(("limit", l.to_string()));
        }
        if self.ascending {
            pairs.push(("ascending", "true".into()));
        }
        pairs.push(("cursor", cursor.to_owned()));
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        format!("/xapi/statements?{}", query.join("&"))
    }
}

/// `PUT /xapi/statements?statementId=…`: one statement under that id; 204.
#[utoipa::path(put, path = "/xapi/statements", tag = "xapi",
    params(("statementId" = String, Query, description = "The statement's UUID"),
        ("X-Experience-API-Version" = String, Header, description = "1.0.x")),
    responses((status = 204, description = "Stored"), (status = 400, body = crate::ErrorBody), (status = 409, body = crate::ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub(crate) async fn put(
    State(app): State<Arc<App>>,
    auth: Auth,
    Query(q): Query<StatementQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<StatusCode> {
    auth.require(Scopes::WRITE)?;
    let id = match q.statement_id {
        Some(id) if is_uuid(&id) => id.to_lowercase(),
        Some(id) => return Err(invalid(&format!("statementId {id:?}: a UUID"))),
        None => return Err(invalid("PUT needs the statementId parameter")),
    };
    let mut s = parse(body)?;
    match s.get("id").and_then(Value::as_str) {
        Some(body_id) if body_id.to_lowercase() != id => {
            return Err(invalid(&format!("statement id {body_id} differs from statementId {id}")));
        }
        _ => {}
    }
    if let Some(o) = s.as_object_mut() {
        o.insert("id".into(), Value::String(id));
    }
    store(&app, auth, vec![check(s, "statement")?]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /xapi/statements`: one statement by `statementId`, or a page of those matching
/// `agent`, `verb`, `activity`, `registration`, `since`, `until` (newest first, or
/// `ascending`) as a StatementResult whose `more` links the next page; with
/// `X-Experience-API-Consistent-Through`.
#[utoipa::path(get, path = "/xapi/statements", tag = "xapi",
    params(("statementId" = Option<String>, Query, description = "One statement's UUID"),
        ("limit" = Option<usize>, Query, description = "How many per page (default 100, at most 1000)"),
        ("agent" = Option<String>, Query, description = "An Agent as JSON: that learner's statements"),
        ("verb" = Option<String>, Query, description = "A verb IRI"),
        ("activity" = Option<String>, Query, description = "An activity id"),
        ("registration" = Option<String>, Query, description = "A registration UUID"),
        ("since" = Option<String>, Query, description = "Stored after (ISO 8601)"),
        ("until" = Option<String>, Query, description = "Stored at or before (ISO 8601)"),
        ("ascending" = Option<bool>, Query, description = "Oldest first"),
        ("cursor" = Option<String>, Query, description = "Where the previous page ended (from `more`)"),
        ("X-Experience-API-Version" = String, Header, description = "1.0.x")),
    responses((status = 200, description = "A statement or a StatementResult"), (status = 404, body = crate::ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    auth: Auth,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Response> {
    auth.require(Scopes::READ)?;
    let with_stored = |body: String, at: i64| -> Value {
        let mut v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("stored".into(), Value::String(rfc3339(at)));
            o.insert("version".into(), Value::String(XAPI_VERSION.into()));
        }
        v
    };
    let body = match q.statement_id {
        Some(id) => match app.store.statement(auth.tenant, &id.to_lowercase()).await? {
            Some((body, at)) => with_stored(body, at),
            None => return Err(ApiError::not_found("statement", &id)),
        },
        None => {
            let limit = q.limit.unwrap_or(100).clamp(1, 1000);
            let rows = app.store.statements(auth.tenant, &q.filter()?, limit).await?;
            let more = match rows.last() {
                Some((_, at, id)) if rows.len() == limit => q.more(&format!("{at}.{id}")),
                _ => String::new(),
            };
            json!({"statements": rows.into_iter().map(|(b, at, _)| with_stored(b, at)).collect::<Vec<_>>(), "more": more})
        }
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&rfc3339(crate::now())) {
        headers.insert("x-experience-api-consistent-through", v);
    }
    Ok((headers, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iris_uuids_and_timestamps() {
        assert!(is_iri("http://adlnet.gov/expapi/verbs/answered") && is_iri("urn:item:12") && is_iri("mailto:a@b.c"));
        for bad in ["", "answered", "1http://x", "http://a b", ":x", "http:"] {
            assert!(!is_iri(bad), "{bad:?}");
        }
        assert!(is_uuid("fd41c918-b88b-4b20-a0a5-a4c32391aaa0"));
        assert!(!is_uuid("fd41c918b88b4b20a0a5a4c32391aaa0") && !is_uuid("nope"));
        assert_eq!(timestamp("2026-01-02T03:04:05Z"), Some(1_767_323_045));
        assert_eq!(timestamp("2026-01-02T04:04:05+01:00"), Some(1_767_323_045));
        assert_eq!(timestamp("yesterday"), None);
        assert_eq!(rfc3339(1_767_323_045), "2026-01-02T03:04:05Z");
    }
}
