//! xAPI over real HTTP: one test per rule of the specification the service enforces, each
//! named after it.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use attune_models::ModelName;
use attune_store::Scopes;
use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

const ANSWERED: &str = "http://adlnet.gov/expapi/verbs/answered";

/// A server with a tenant whose BKT serves: the server and a bearer key.
fn lrs() -> (Server, String) {
    let s = sqlite();
    let (_, key) = tenant(&s, &fitted(ModelName::Bkt));
    (s, key.token())
}

fn statement(id: Option<&str>, learner: &str, item: &str, success: bool) -> Value {
    let mut s = json!({
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": learner}},
        "verb": {"id": ANSWERED, "display": {"en-US": "answered"}},
        "object": {"objectType": "Activity", "id": item},
        "result": {"success": success},
        "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"},
        "timestamp": "2026-12-02T10:00:00Z"
    });
    if let Some(id) = id {
        s["id"] = json!(id);
    }
    s
}

/// A request to the LRS with the bearer key and the version header.
fn xapi(s: &Server, key: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Vec<(String, String)>, Value) {
    let auth = format!("Bearer {key}");
    let body = body.map(Value::to_string);
    request(
        method,
        &format!("{}{path}", s.url),
        &[("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")],
        body.as_deref(),
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn refused(s: &Server, key: &str, body: &Value, names: &str) {
    let (status, _, err) = xapi(s, key, "POST", "/xapi/statements", Some(body));
    assert_eq!(status, 400, "{body}: {err}");
    assert_eq!(err["error"]["code"], "invalid_statement", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains(names), "{err} should name {names}");
}

#[test]
fn about_lists_the_version_without_a_key() {
    let (s, _) = lrs();
    let (status, headers, body) = request("GET", &format!("{}/xapi/about", s.url), &[], None);
    assert_eq!(status, 200);
    assert_eq!(body["version"], json!(["1.0.3"]));
    assert_eq!(header(&headers, "x-experience-api-version"), Some("1.0.3"));
}

#[test]
fn requests_without_the_version_header_are_refused() {
    let (s, key) = lrs();
    let auth = format!("Bearer {key}");
    let body = statement(None, "ana", "urn:item:1", true).to_string();
    let (status, headers, err) =
        request("POST", &format!("{}/xapi/statements", s.url), &[("Authorization", auth.as_str())], Some(&body));
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("X-Experience-API-Version"));
    assert_eq!(header(&headers, "x-experience-api-version"), Some("1.0.3"), "responses carry the version");
    let (status, _, _) = request(
        "POST",
        &format!("{}/xapi/statements", s.url),
        &[("Authorization", auth.as_str()), ("X-Experience-API-Version", "0.95")],
        Some(&body),
    );
    assert_eq!(status, 400);
}

#[test]
fn a_batch_is_answered_200_with_ids_generated_where_absent() {
    let (s, key) = lrs();
    let given = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0";
    let batch = json!([statement(Some(given), "ana", "urn:item:1", true), statement(None, "ana", "urn:item:2", false)]);
    let (status, headers, ids) = xapi(&s, &key, "POST", "/xapi/statements", Some(&batch));
    assert_eq!(status, 200, "{ids}");
    assert_eq!(header(&headers, "x-experience-api-version"), Some("1.0.3"));
    let ids = ids.as_array().unwrap();
    assert_eq!(ids[0], given);
    assert!(uuid::Uuid::try_parse(ids[1].as_str().unwrap()).is_ok(), "a generated id is a UUID");
}

#[test]
fn statement_ids_must_be_uuids() {
    let (s, key) = lrs();
    refused(&s, &key, &statement(Some("not-a-uuid"), "ana", "urn:item:1", true), "statement.id");
}

#[test]
fn the_actor_needs_exactly_one_identifier() {
    let (s, key) = lrs();
    let mut none = statement(None, "ana", "urn:item:1", true);
    none["actor"] = json!({"objectType": "Agent", "name": "Ana"});
    refused(&s, &key, &none, "exactly one");
    let mut two = statement(None, "ana", "urn:item:1", true);
    two["actor"]["mbox"] = json!("mailto:ana@example.org");
    refused(&s, &key, &two, "mbox, account");
}

#[test]
fn mbox_must_be_a_mailto_iri() {
    let (s, key) = lrs();
    let mut st = statement(None, "ana", "urn:item:1", true);
    st["actor"] = json!({"mbox": "ana@example.org"});
    refused(&s, &key, &st, "actor.mbox");
}

#[test]
fn an_account_needs_a_home_page_and_a_name() {
    let (s, key) = lrs();
    let mut st = statement(None, "ana", "urn:item:1", true);
    st["actor"] = json!({"account": {"name": "ana"}});
    refused(&s, &key, &st, "actor.account");
}

#[test]
fn verb_ids_must_be_iris() {
    let (s, key) = lrs();
    let mut st = statement(None, "ana", "urn:item:1", true);
    st["verb"]["id"] = json!("answered");
    refused(&s, &key, &st, "verb.id");
}

#[test]
fn activity_ids_must_be_iris() {
    let (s, key) = lrs();
    refused(&s, &key, &statement(None, "ana", "item one", true), "object.id");
}

#[test]
fn registrations_must_be_uuids() {
    let (s, key) = lrs();
    let mut st = statement(None, "ana", "urn:item:1", true);
    st["context"]["registration"] = json!("session-7");
    refused(&s, &key, &st, "context.registration");
}

#[test]
fn timestamps_must_be_iso_8601() {
    let (s, key) = lrs();
    let mut st = statement(None, "ana", "urn:item:1", true);
    st["timestamp"] = json!("yesterday");
    refused(&s, &key, &st, "timestamp");
}

#[test]
fn success_must_be_a_boolean() {
    let (s, key) = lrs();
    let mut st = statement(None, "ana", "urn:item:1", true);
    st["result"]["success"] = json!("yes");
    refused(&s, &key, &st, "result.success");
}

#[test]
fn duplicate_ids_in_one_batch_are_refused() {
    let (s, key) = lrs();
    let id = "0b1c2d3e-4f50-4617-8899-aabbccddeeff";
    let batch = json!([statement(Some(id), "ana", "urn:item:1", true), statement(Some(id), "ana", "urn:item:2", true)]);
    let (status, _, err) = xapi(&s, &key, "POST", "/xapi/statements", Some(&batch));
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("twice"));
    let (status, _, _) = xapi(&s, &key, "GET", &format!("/xapi/statements?statementId={id}"), None);
    assert_eq!(status, 404, "nothing of the refused batch is stored");
}

#[test]
fn a_known_id_with_other_content_conflicts() {
    let (s, key) = lrs();
    let id = "11111111-2222-4333-8444-555555555555";
    let first = statement(Some(id), "ana", "urn:item:1", true);
    assert_eq!(xapi(&s, &key, "POST", "/xapi/statements", Some(&first)).0, 200);
    // The same statement again is accepted and changes nothing.
    assert_eq!(xapi(&s, &key, "POST", "/xapi/statements", Some(&first)).0, 200);
    let (status, _, err) =
        xapi(&s, &key, "POST", "/xapi/statements", Some(&statement(Some(id), "ana", "urn:item:1", false)));
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "statement_conflict");
    let (_, _, stored) = xapi(&s, &key, "GET", &format!("/xapi/statements?statementId={id}"), None);
    assert_eq!(stored["result"]["success"], true, "the stored statement is unchanged");
}

#[test]
fn put_stores_under_the_statement_id_parameter() {
    let (s, key) = lrs();
    let id = "22222222-3333-4444-8555-666666666666";
    let (status, _, _) = xapi(
        &s,
        &key,
        "PUT",
        &format!("/xapi/statements?statementId={id}"),
        Some(&statement(None, "bo", "urn:item:3", true)),
    );
    assert_eq!(status, 204);
    let (status, headers, got) = xapi(&s, &key, "GET", &format!("/xapi/statements?statementId={id}"), None);
    assert_eq!(status, 200);
    assert_eq!(got["id"], id);
    assert!(got["stored"].as_str().unwrap().ends_with('Z'));
    assert!(header(&headers, "x-experience-api-consistent-through").is_some_and(|t| t.ends_with('Z')));
    let other = statement(Some("33333333-3333-4444-8555-666666666666"), "bo", "urn:item:3", true);
    let (status, _, _) = xapi(&s, &key, "PUT", &format!("/xapi/statements?statementId={id}"), Some(&other));
    assert_eq!(status, 400, "a body id other than the parameter");
    let (status, _, _) = xapi(&s, &key, "PUT", "/xapi/statements", Some(&statement(None, "bo", "urn:item:3", true)));
    assert_eq!(status, 400, "PUT without statementId");
}

#[test]
fn get_lists_statements_with_consistent_through() {
    let (s, key) = lrs();
    for i in 0..3 {
        xapi(&s, &key, "POST", "/xapi/statements", Some(&statement(None, "cy", &format!("urn:item:{i}"), true)));
    }
    let (status, headers, result) = xapi(&s, &key, "GET", "/xapi/statements?limit=2", None);
    assert_eq!(status, 200);
    assert_eq!(result["statements"].as_array().unwrap().len(), 2);
    assert!(header(&headers, "x-experience-api-consistent-through").is_some());
    // The rest is one `more` away, and the last page has no `more`.
    let (_, _, rest) = xapi(&s, &key, "GET", result["more"].as_str().unwrap(), None);
    assert_eq!(rest["statements"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["more"], "");
}

#[test]
fn answered_statements_update_the_learner() {
    let (s, key) = lrs();
    let batch = json!([
        statement(None, "dee", "urn:attune:item:q1", true),
        statement(None, "dee", "urn:attune:item:q5", false)
    ]);
    let (status, _, ids) = xapi(&s, &key, "POST", "/xapi/statements", Some(&batch));
    assert_eq!(status, 200, "{ids}");
    let (status, state) = call("GET", &format!("{}/v1/learners/dee/state", s.url), Some(&key), None);
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["answers"], 2);
    assert!(state["mastery"]["s1"].is_number(), "{state}");
    // Posting the same statements again records nothing twice.
    xapi(
        &s,
        &key,
        "POST",
        "/xapi/statements",
        Some(&Value::Array(
            ids.as_array()
                .unwrap()
                .iter()
                .zip(batch.as_array().unwrap())
                .map(|(id, st)| {
                    let mut st = st.clone();
                    st["id"] = id.clone();
                    st
                })
                .collect(),
        )),
    );
    let (_, state) = call("GET", &format!("{}/v1/learners/dee/state", s.url), Some(&key), None);
    assert_eq!(state["answers"], 2);
}

#[test]
fn other_statements_are_stored_but_update_no_model() {
    let (s, key) = lrs();
    let mut st = statement(None, "eve", "urn:attune:item:q1", true);
    st["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/experienced");
    let (status, _, ids) = xapi(&s, &key, "POST", "/xapi/statements", Some(&st));
    assert_eq!(status, 200);
    let id = ids[0].as_str().unwrap();
    assert_eq!(xapi(&s, &key, "GET", &format!("/xapi/statements?statementId={id}"), None).0, 200);
    assert_eq!(call("GET", &format!("{}/v1/learners/eve/state", s.url), Some(&key), None).0, 404);
}

#[test]
fn basic_credentials_are_accepted() {
    let s = sqlite();
    let (t, _) = tenant(&s, &fitted(ModelName::Bkt));
    let key = s.rt.block_on(s.app.store().create_key(t, Scopes::ALL)).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", key.public_id, key.secret));
    let auth = format!("Basic {basic}");
    let body = statement(None, "fay", "urn:attune:item:q2", true).to_string();
    let headers = [("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")];
    let (status, _, ids) = request("POST", &format!("{}/xapi/statements", s.url), &headers, Some(&body));
    assert_eq!(status, 200, "{ids}");
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", key.public_id));
    let auth = format!("Basic {wrong}");
    let headers = [("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")];
    assert_eq!(request("POST", &format!("{}/xapi/statements", s.url), &headers, Some(&body)).0, 401);
}

#[test]
fn another_tenants_statements_are_invisible() {
    let (s, key) = lrs();
    let (_, other) = tenant(&s, &fitted(ModelName::Bkt));
    let (_, _, ids) =
        xapi(&s, &key, "POST", "/xapi/statements", Some(&statement(None, "gus", "urn:attune:item:q1", true)));
    let id = ids[0].as_str().unwrap();
    let (status, _, _) = xapi(&s, &other.token(), "GET", &format!("/xapi/statements?statementId={id}"), None);
    assert_eq!(status, 404);
    let (_, _, list) = xapi(&s, &other.token(), "GET", "/xapi/statements", None);
    assert_eq!(list["statements"], json!([]));
}

#[test]
fn get_filters_by_agent_verb_activity_registration_and_time() {
    let (s, key) = lrs();
    let mut other = statement(None, "eve", "urn:attune:item:q2", true);
    other["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/experienced"});
    other["context"] = json!({"registration": "11111111-2222-4333-8444-555555555555"});
    let batch = json!([
        statement(None, "dee", "urn:attune:item:q1", true),
        statement(None, "dee", "urn:attune:item:q2", false),
        statement(None, "eve", "urn:attune:item:q1", true),
        other
    ]);
    assert_eq!(xapi(&s, &key, "POST", "/xapi/statements", Some(&batch)).0, 200);
    let count = |query: &str| -> usize {
        let (status, _, r) = xapi(&s, &key, "GET", &format!("/xapi/statements?{query}"), None);
        assert_eq!(status, 200, "{query}: {r}");
        r["statements"].as_array().unwrap().len()
    };
    let dee = "%7B%22account%22%3A%7B%22homePage%22%3A%22https%3A%2F%2Flms.example%22%2C%22name%22%3A%22dee%22%7D%7D";
    assert_eq!(count(&format!("agent={dee}")), 2);
    assert_eq!(count("verb=http%3A%2F%2Fadlnet.gov%2Fexpapi%2Fverbs%2Fexperienced"), 1);
    assert_eq!(count("activity=urn%3Aattune%3Aitem%3Aq1"), 2);
    assert_eq!(count(&format!("agent={dee}&activity=urn%3Aattune%3Aitem%3Aq1")), 1);
    assert_eq!(count("registration=11111111-2222-4333-8444-555555555555"), 1);
    assert_eq!(count("since=2000-01-01T00%3A00%3A00Z"), 4);
    assert_eq!(count("until=2000-01-01T00%3A00%3A00Z"), 0);
    for bad in ["agent=%7Bnot", "since=yesterday", "cursor=nonsense"] {
        let (status, _, r) = xapi(&s, &key, "GET", &format!("/xapi/statements?{bad}"), None);
        assert_eq!(status, 400, "{bad}: {r}");
    }
}

#[test]
fn get_pages_through_more() {
    let (s, key) = lrs();
    let batch: Vec<Value> =
        (0..7).map(|k| statement(None, "pia", &format!("urn:attune:item:q{}", k % 8), true)).collect();
    assert_eq!(xapi(&s, &key, "POST", "/xapi/statements", Some(&Value::Array(batch))).0, 200);
    for ascending in [false, true] {
        let mut path = format!("/xapi/statements?limit=3{}", if ascending { "&ascending=true" } else { "" });
        let mut seen = Vec::new();
        loop {
            let (status, _, r) = xapi(&s, &key, "GET", &path, None);
            assert_eq!(status, 200, "{r}");
            seen.extend(r["statements"].as_array().unwrap().iter().map(|st| st["id"].as_str().unwrap().to_owned()));
            match r["more"].as_str() {
                Some("") | None => break,
                Some(more) => path = more.to_owned(),
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (7, 7), "ascending {ascending}: {seen:?}");
    }
}
