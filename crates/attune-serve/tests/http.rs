//! The service over real HTTP on a loopback socket, against a real SQLite file and, where
//! `ATTUNE_TEST_POSTGRES` names a database, against PostgreSQL.

#![allow(clippy::unwrap_used, missing_docs)]

use attune_core::{Interaction, KnowledgeTracer, SkillId, StudentId};
use attune_models::{FittedModel, ModelName};
use attune_store::{Scopes, TenantId};
use proptest::prelude::*;
use serde_json::{Value, json};

mod common;

use common::*;

/// `POST /v1/answers` with a 5 MB body, written from another thread (the server stops
/// reading at its limit): the status and JSON body of the reply.
fn oversize(base: &str, key: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut writer = tcp.try_clone().unwrap();
    let head = format!(
        "POST /v1/answers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n"
    );
    let send = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&vec![b' '; 5_000_000]);
    });
    let mut reply = Vec::new();
    let _ = tcp.read_to_end(&mut reply);
    let _ = send.join();
    let reply = String::from_utf8_lossy(&reply);
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = reply.lines().find(|l| l.starts_with('{')).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

/// The mastery a replay of the learner's stored answers gives, by skill id.
fn replayed(s: &Server, tenant: TenantId, model: &FittedModel, learner: &str) -> Vec<(String, f64)> {
    let stored = s.rt.block_on(s.app.store().answers_of(tenant, learner)).unwrap();
    let mut state = model.initial_state();
    for a in &stored {
        let item = model.ids.item(&a.item).unwrap_or(attune_core::ItemId(model.ids.n_items() as u32));
        let skills: Vec<SkillId> = if a.skills.is_empty() {
            model.ids.item_skills.get(item.index()).map(|v| v.iter().map(|&k| SkillId(k)).collect()).unwrap_or_default()
        } else {
            a.skills.iter().map(|k| model.ids.skill(k).unwrap_or(SkillId(model.ids.n_skills() as u32))).collect()
        };
        let obs = Interaction { student: StudentId(0), item, skills: &skills, correct: a.correct, time: a.time };
        model.update(&mut state, &obs);
    }
    model
        .mastery_profile(&state)
        .into_iter()
        .enumerate()
        .filter_map(|(k, p)| Some((model.ids.skills[k].clone(), p?.get())))
        .collect()
}

fn answers_and_states_follow_the_log(s: &Server) {
    let model = fitted(ModelName::Bkt);
    let (t, key) = tenant(s, &model);
    let k = key.token();
    let url = |p: &str| format!("{}{p}", s.url);
    // One answer: its result carries the prediction before it and the mastery after it.
    let (st, body) = call("POST", &url("/v1/answers"), Some(&k), Some(&answer("a0", "ana", "q1", true).to_string()));
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["stored"].as_u64(), body["model"]["name"].as_str()), (Some(1), Some("bkt")));
    let p = body["results"][0]["predicted"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0);
    assert!(body["results"][0]["mastery"]["s1"].as_f64().is_some(), "{body}");
    // A batch over three learners, with a retry of the first answer inside it.
    let mut batch: Vec<Value> = (1..30)
        .map(|i| answer(&format!("a{i}"), ["ana", "ben", "cy"][i % 3], &format!("q{}", i % 8), i % 4 != 0))
        .collect();
    batch.push(answer("a0", "ana", "q1", true));
    let (st, body) = call("POST", &url("/v1/answers"), Some(&k), Some(&Value::Array(batch.clone()).to_string()));
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["stored"].as_u64(), body["duplicates"].as_u64()), (Some(29), Some(1)));
    assert_eq!(body["results"][29]["duplicate"], true);
    // The whole batch again: nothing counted twice.
    let (_, again) = call("POST", &url("/v1/answers"), Some(&k), Some(&Value::Array(batch).to_string()));
    assert_eq!((again["stored"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(30)));
    for learner in ["ana", "ben", "cy"] {
        let (st, state) = call("GET", &url(&format!("/v1/learners/{learner}/state")), Some(&k), None);
        assert_eq!(st, 200, "{state}");
        assert_eq!(state["answers"].as_i64(), Some(10), "{learner}");
        assert_eq!((state["model"]["name"].as_str(), state["model"]["version"].as_i64()), (Some("bkt"), Some(1)));
        for (skill, p) in replayed(s, t, &model, learner) {
            let got = state["mastery"][&skill].as_f64().unwrap();
            assert!((got - p).abs() < 1e-12, "{learner} {skill}: served {got}, replayed {p}");
        }
    }
    // The next item, with its reason.
    let (st, next) = call("GET", &url("/v1/learners/ana/next"), Some(&k), None);
    assert_eq!(st, 200, "{next}");
    assert!(next["item"].as_str().unwrap().starts_with('q'));
    assert!(next["reason"].as_str().unwrap().contains("closest to the target 0.70"), "{next}");
    let (_, easier) = call("GET", &url("/v1/learners/ana/next?target=0.9"), Some(&k), None);
    assert_eq!(easier["target"], 0.9);
    // A prerequisite ana is not ready for keeps its skill's items out.
    let (st, _) = call("POST", &url("/v1/prerequisites"), Some(&k), Some(r#"{"skill": "s0", "requires": "s9"}"#));
    assert_eq!(st, 200);
    // Recorded with the model version beside each answer.
    let stored = s.rt.block_on(s.app.store().answers_of(t, "ben")).unwrap();
    assert!(stored.iter().all(|a| a.model == Some(("bkt".into(), 1))));
}

fn a_model_switch_replays_the_states(s: &Server) {
    let (bkt, irt) = (fitted(ModelName::Bkt), fitted(ModelName::Irt1pl));
    let (t, key) = tenant(s, &bkt);
    let k = key.token();
    let url = format!("{}/v1/answers", s.url);
    let batch: Vec<Value> =
        (0..12).map(|i| answer(&format!("m{i}"), "dee", &format!("q{}", i % 8), i % 3 != 0)).collect();
    assert_eq!(call("POST", &url, Some(&k), Some(&Value::Array(batch).to_string())).0, 200);
    // Registered through the store, switched to over HTTP (an admin key).
    let v2 = s.rt.block_on(s.app.store().add_model(t, "irt1pl", &irt.to_json(), &json!({}))).unwrap();
    let reader = s.rt.block_on(s.app.store().create_key(t, Scopes::READ)).unwrap().token();
    let serve = format!("{}/v1/models/{v2}/serve", s.url);
    assert_eq!(call("POST", &serve, Some(&reader), Some("")).0, 403, "switching needs the admin scope");
    let (st, switched) = call("POST", &serve, Some(&k), Some(""));
    assert_eq!(st, 200, "{switched}");
    assert_eq!(switched["version"].as_i64(), Some(v2));
    let (_, models) = call("GET", &format!("{}/v1/models", s.url), Some(&reader), None);
    let serving: Vec<bool> = models.as_array().unwrap().iter().map(|m| m["serving"].as_bool().unwrap()).collect();
    assert_eq!(serving, [false, true]);
    assert_eq!(call("POST", &format!("{}/v1/models/99/serve", s.url), Some(&k), Some("")).0, 404);
    let (_, state) = call("GET", &format!("{}/v1/learners/dee/state", s.url), Some(&k), None);
    assert_eq!((state["model"]["name"].as_str(), state["model"]["version"].as_i64()), (Some("irt1pl"), Some(v2)));
    assert_eq!(state["answers"], 12);
    for (skill, p) in replayed(s, t, &irt, "dee") {
        assert!((state["mastery"][&skill].as_f64().unwrap() - p).abs() < 1e-12, "{skill}");
    }
    // New answers are scored and recorded under the new version.
    let (_, r) = call("POST", &url, Some(&k), Some(&answer("m99", "dee", "q2", true).to_string()));
    assert_eq!(r["model"]["version"].as_i64(), Some(v2));
    let last = s.rt.block_on(s.app.store().answers_of(t, "dee")).unwrap().pop().unwrap();
    assert_eq!(last.model, Some(("irt1pl".into(), v2)));
    // Rolled back: the states follow version 1 again, the new answer included.
    assert_eq!(call("POST", &format!("{}/v1/models/1/serve", s.url), Some(&k), Some("")).0, 200);
    let (_, state) = call("GET", &format!("{}/v1/learners/dee/state", s.url), Some(&k), None);
    assert_eq!((state["model"]["name"].as_str(), state["answers"].as_i64()), (Some("bkt"), Some(13)));
    for (skill, p) in replayed(s, t, &bkt, "dee") {
        assert!((state["mastery"][&skill].as_f64().unwrap() - p).abs() < 1e-12, "{skill} after the rollback");
    }
}

fn bad_requests_get_stable_codes_and_lose_nothing(s: &Server) {
    let model = fitted(ModelName::Bkt);
    let (t, key) = tenant(s, &model);
    let (other, other_key) = tenant(s, &model);
    let reader = s.rt.block_on(s.app.store().create_key(t, Scopes::READ)).unwrap().token();
    let (k, ok) = (key.token(), other_key.token());
    let url = |p: &str| format!("{}{p}", s.url);
    assert_eq!(call("POST", &url("/v1/answers"), Some(&k), Some(&answer("ok", "ana", "q1", true).to_string())).0, 200);
    let too_many = Value::Array((0..10_001).map(|i| answer(&format!("t{i}"), "ana", "q1", true)).collect()).to_string();
    let long_id = answer(&"x".repeat(300), "ana", "q1", true).to_string();
    let one_bad =
        json!([answer("g1", "ana", "q1", true), {"id": "g2", "learner": "ana", "item": "q1", "correct": "yes"}]);
    // (method, URL, key, body, status, code, what the message names)
    type Case<'a> = (&'a str, String, Option<&'a str>, Option<String>, u16, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            url("/v1/answers"),
            None,
            Some(answer("n1", "ana", "q1", true).to_string()),
            401,
            "unauthorized",
            "Authorization",
        ),
        ("POST", url("/v1/answers"), Some("nope.nope"), Some("{}".into()), 401, "unauthorized", "key"),
        (
            "POST",
            url("/v1/answers"),
            Some(&reader),
            Some(answer("n2", "ana", "q1", true).to_string()),
            403,
            "insufficient_scope",
            "write",
        ),
        ("POST", url("/v1/answers"), Some(&k), Some("{not json".into()), 400, "invalid_json", "JSON"),
        ("POST", url("/v1/answers"), Some(&k), Some("42".into()), 400, "invalid_json", "array"),
        (
            "POST",
            url("/v1/answers"),
            Some(&k),
            Some(r#"{"id": "n3", "item": "q1", "correct": true}"#.into()),
            400,
            "invalid_field",
            "learner",
        ),
        ("POST", url("/v1/answers"), Some(&k), Some(one_bad.to_string()), 400, "invalid_field", "answers[1].correct"),
        ("POST", url("/v1/answers"), Some(&k), Some(long_id), 400, "invalid_field", "id"),
        ("POST", url("/v1/answers"), Some(&k), Some("[]".into()), 400, "invalid_field", "answers"),
        ("POST", url("/v1/answers"), Some(&k), Some(too_many), 400, "invalid_field", "10000"),
        ("GET", url("/v1/learners/nobody/state"), Some(&k), None, 404, "not_found", "nobody"),
        ("GET", url("/v1/learners/ana/next?target=1.5"), Some(&k), None, 400, "invalid_field", "target"),
        ("GET", url("/v1/learners/ana/next?target=abc"), Some(&k), None, 400, "invalid_field", "target"),
        ("GET", url("/v1/nowhere"), Some(&k), None, 404, "no_route", "/v1/nowhere"),
        ("PUT", url("/v1/answers"), Some(&k), Some("{}".into()), 405, "method_not_allowed", "/v1/answers"),
        // Another tenant's learner does not exist for this key.
        ("GET", url("/v1/learners/ana/state"), Some(&ok), None, 404, "not_found", "ana"),
        ("GET", url("/v1/learners/ana/next"), Some(&ok), None, 404, "not_found", "ana"),
    ];
    for (method, u, key, body, status, code, names) in cases {
        let (got, err) = call(method, &u, key, body.as_deref());
        assert_eq!(got, status, "{method} {u}: {err}");
        assert_eq!(err["error"]["code"], code, "{method} {u}: {err}");
        assert!(err["error"]["message"].as_str().unwrap().contains(names), "{method} {u}: {err} should name {names}");
    }
    // A body announced beyond the limit is refused before it is read.
    let (status, err) = oversize(&s.url, &k);
    assert_eq!((status, err["error"]["code"].as_str()), (413, Some("body_too_large")), "{err}");
    let count = |t| s.rt.block_on(s.app.store().count_answers(t, "ana")).unwrap();
    assert_eq!(count(t), 1, "a refused request stored something");
    assert_eq!(count(other), 0);
    // The same answer id in the other tenant is that tenant's own answer.
    let (_, r) = call("POST", &url("/v1/answers"), Some(&ok), Some(&answer("ok", "ana", "q1", true).to_string()));
    assert_eq!(r["stored"], 1);
    assert_eq!((count(t), count(other)), (1, 1));
    // A read key reads.
    assert_eq!(call("GET", &url("/v1/learners/ana/state"), Some(&reader), None).0, 200);
}

fn tenants_see_only_their_catalog(s: &Server) {
    let model = fitted(ModelName::Bkt);
    let ((_, a), (_, b)) = (tenant(s, &model), tenant(s, &model));
    let url = format!("{}/v1/items", s.url);
    let items = r#"[{"item": "frac-1", "skills": ["fractions"]}, {"item": "frac-2", "skills": ["fractions"]}]"#;
    assert_eq!(call("POST", &url, Some(&a.token()), Some(items)).0, 200);
    let (_, mine) = call("GET", &url, Some(&a.token()), None);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let (_, theirs) = call("GET", &url, Some(&b.token()), None);
    assert_eq!(theirs, json!([]));
}

on_both!(
    answers_and_states_follow_the_log,
    a_model_switch_replays_the_states,
    bad_requests_get_stable_codes_and_lose_nothing,
    tenants_see_only_their_catalog,
);

#[test]
fn operations_routes_and_the_openapi_document() {
    let s = sqlite();
    let (st, _) = call("GET", &format!("{}/healthz", s.url), None, None);
    assert_eq!(st, 200);
    assert_eq!(call("GET", &format!("{}/readyz", s.url), None, None).0, 200);
    let (st, doc) = call("GET", &format!("{}/openapi.json", s.url), None, None);
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // Every route the router serves is documented.
    for path in [
        "/v1/answers",
        "/v1/learners",
        "/v1/learners/{learner}/state",
        "/v1/learners/{learner}/next",
        "/v1/items",
        "/v1/prerequisites",
        "/v1/import",
        "/v1/models",
        "/v1/models/{version}/serve",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/cancel",
        "/v1/cat/sessions",
        "/v1/cat/sessions/{id}",
        "/v1/cat/sessions/{id}/responses",
        "/v1/tutoring/sessions",
        "/v1/tutoring/sessions/{id}",
        "/v1/tutoring/sessions/{id}/answers",
        "/v1/analytics/mastery",
        "/v1/analytics/at-risk",
        "/v1/analytics/items",
        "/v1/analytics/skills",
        "/v1/analytics/curves",
        "/xapi/statements",
        "/xapi/about",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the document");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["AnswerIn"]["required"].as_array().unwrap().contains(&json!("learner")));
    let mut resp = agent().get(&format!("{}/metrics", s.url)).call().unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    assert!(text.contains("attune_http_requests_total{route=\"/healthz\""), "{text}");
}

/// The main job: the demo tenant is set up from the bundled data, its key works, and a
/// second start on the same database finds it set up (and prints a fresh key).
#[test]
fn the_demo_tenant_serves_at_once_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("attune.db").to_str().unwrap().to_owned();
    let demo = |s: &Server| s.rt.block_on(s.app.store().tenant_by_name("demo")).unwrap().unwrap();
    let first = start(Some(db.clone()), true);
    let tenant = demo(&first);
    let key = first.rt.block_on(first.app.store().create_key(tenant.id, Scopes::READ)).unwrap().token();
    let learner = first.rt.block_on(first.app.store().learners(tenant.id)).unwrap().remove(0);
    let path = format!("/v1/learners/{}/state", learner.replace('#', "%23"));
    let (st, state) = call("GET", &format!("{}{path}", first.url), Some(&key), None);
    assert_eq!(st, 200, "{state}");
    assert!(state["answers"].as_i64().unwrap() > 10);
    assert_eq!(state["mastery"].as_object().unwrap().len(), 110, "ASSIST2009's 110 skills");
    let total = first.rt.block_on(first.app.store().answers_after(tenant.id, 0, 1_000_000)).unwrap().len();
    assert_eq!(total, 325_637);
    drop(first);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let again = start(Some(db), true);
    assert_eq!(demo(&again).id, tenant.id);
    let (st, state2) = call("GET", &format!("{}{path}", again.url), Some(&key), None);
    assert_eq!(st, 200);
    assert_eq!(state2, state, "a restart replays the same state");
    let after = again.rt.block_on(again.app.store().answers_after(tenant.id, 0, 1_000_000)).unwrap().len();
    assert_eq!(after, total, "a restart imported the demo data again");
}

fn bad_body() -> impl Strategy<Value = String> {
    let field = prop_oneof![Just("id"), Just("learner"), Just("item"), Just("correct"), Just("time"), Just("skills")];
    let junk = prop_oneof![
        Just(json!(null)),
        Just(json!(-5)),
        Just(json!(1.5)),
        Just(json!("")),
        Just(json!([1, 2])),
        Just(json!({"a": 1})),
        Just(json!("x".repeat(250))),
        Just(json!(["", "ok"])),
    ];
    prop_oneof![
        // Raw bytes that are rarely JSON.
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        // A valid answer with one field broken (or removed).
        (field, junk, any::<bool>()).prop_map(|(f, v, remove)| {
            let mut a = answer("p1", "pat", "q1", true);
            if remove && f != "time" && f != "skills" {
                a.as_object_mut().unwrap().remove(f);
            } else {
                a[f] = v;
            }
            // `time: null` and `skills: []`-like values are valid: make them invalid for sure.
            if a.get("time") == Some(&Value::Null) {
                a["time"] = json!(-1);
            }
            a.to_string()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Generated bad requests are refused with a 4xx and a stable code, never a 5xx, and
    /// store nothing.
    #[test]
    fn generated_bad_requests_are_refused_without_storing(body in bad_body()) {
        thread_local! {
            static SERVER: (Server, String, TenantId) = {
                let s = sqlite();
                let (t, k) = tenant(&s, &fitted(ModelName::Bkt));
                (s, k.token(), t)
            };
        }
        SERVER.with(|(s, k, t)| {
            let (status, err) = call("POST", &format!("{}/v1/answers", s.url), Some(k), Some(&body));
            prop_assert!((400..500).contains(&status), "{status} for {body}: {err}");
            prop_assert!(err["error"]["code"].is_string(), "{err}");
            prop_assert_eq!(s.rt.block_on(s.app.store().count_answers(*t, "pat")).unwrap(), 0);
            Ok(())
        })?;
    }
}
