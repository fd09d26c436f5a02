//! Adaptive tests and tutoring sessions over real HTTP, on SQLite and PostgreSQL: a test runs
//! to each stop rule with a trace the policy crate reproduces; a tutoring session gives
//! feedback with the weakest prerequisite and ends at its limit; xAPI statements with the
//! session's registration count in it; another tenant reaches none of it.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use attune_models::{Model, ModelName};
use attune_policy::cat::{Estimate, Estimator, ItemBank};
use common::*;
use serde_json::{Value, json};

/// A tenant with BKT serving and a 2PL bank registered beside it; an every-scope key.
fn school(s: &Server) -> (attune_store::TenantId, String, attune_models::FittedModel) {
    let (t, key) = tenant(s, &fitted(ModelName::Bkt));
    let irt = fitted(ModelName::Irt2pl);
    s.rt.block_on(s.app.store().add_model(t, "irt2pl", &irt.to_json(), &json!({}))).unwrap();
    (t, key.token(), irt)
}

fn post(s: &Server, key: &str, path: &str, body: &Value) -> (u16, Value) {
    call("POST", &format!("{}{path}", s.url), Some(key), Some(&body.to_string()))
}

fn get(s: &Server, key: &str, path: &str) -> (u16, Value) {
    call("GET", &format!("{}{path}", s.url), Some(key), None)
}

fn adaptive_tests_run_to_each_stop_rule(s: &Server) {
    let (_, key, irt) = school(s);
    let (status, t) = post(s, &key, "/v1/cat/sessions", &json!({"learner": "ana", "stop": {"max_items": 5}}));
    assert_eq!(status, 201, "{t}");
    assert_eq!(
        (t["status"].as_str(), t["answered"].as_u64(), t["ability"].as_f64()),
        (Some("active"), Some(0), Some(0.0))
    );
    assert_eq!(t["calibration"]["name"], "irt2pl");
    let id = t["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/cat/sessions/{id}/responses");
    // Only the pending item may be answered.
    let pending = t["next"][0].as_str().unwrap().to_owned();
    let other = if pending == "q0" { "q1" } else { "q0" };
    let (status, e) = post(s, &key, &path, &json!({"item": other, "correct": true}));
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("not_administered")), "{e}");
    let mut seen = vec![pending.clone()];
    let mut next = pending;
    let mut last = t;
    for k in 0..5 {
        let (status, r) = post(s, &key, &path, &json!({"item": next, "correct": k % 2 == 0}));
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["answered"], k + 1);
        last = r;
        if let Some(n) = last["next"][0].as_str() {
            assert!(!seen.contains(&n.to_owned()), "item {n} administered twice");
            seen.push(n.to_owned());
            next = n.to_owned();
        }
    }
    assert_eq!(
        (last["status"].as_str(), last["stop_reason"].as_str()),
        (Some("finished"), Some("max_items")),
        "{last}"
    );
    assert_eq!(last["next"], json!([]));
    let (status, e) = post(s, &key, &path, &json!({"item": next, "correct": true}));
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("session_finished")));
    // The trace holds the bank's parameters and reproduces the estimate.
    let (status, trace) = get(s, &key, &format!("/v1/cat/sessions/{id}"));
    assert_eq!(status, 200, "{trace}");
    let Model::Irt(model) = &irt.model else { panic!("not IRT") };
    let bank = ItemBank::from_irt(model).unwrap();
    let steps = trace["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    let mut answers = Vec::new();
    let mut est = Estimate::PRIOR;
    for (k, st) in steps.iter().enumerate() {
        let i = irt.ids.items.iter().position(|x| x == st["item"].as_str().unwrap()).unwrap();
        assert!((st["a"].as_f64().unwrap() - bank.items[i].a).abs() < 1e-12);
        assert!((st["b"].as_f64().unwrap() - bank.items[i].b).abs() < 1e-12);
        assert!((st["ability_before"].as_f64().unwrap() - est.theta).abs() < 1e-12, "step {k}");
        answers.push((i, st["correct"].as_bool().unwrap()));
        est = Estimator::Eap.estimate(&bank, &answers, est);
        assert!((st["ability"].as_f64().unwrap() - est.theta).abs() < 1e-12, "step {k}");
        assert!((st["se"].as_f64().unwrap() - est.se).abs() < 1e-12, "step {k}");
    }
    assert_eq!(trace["ability"], last["ability"]);
    assert_eq!((trace["selector"].as_str(), trace["estimator"].as_str()), (Some("mfi"), Some("eap")));
    // The responses are the learner's answers too.
    assert_eq!(get(s, &key, "/v1/learners/ana/state").1["answers"], 5);

    // Standard-error stop: one answer brings the posterior sd below 0.99.
    let (_, t) = post(s, &key, "/v1/cat/sessions", &json!({"stop": {"max_items": 8, "se": 0.99}, "estimator": "map"}));
    let (id, item) = (t["id"].as_str().unwrap(), t["next"][0].as_str().unwrap());
    let (_, r) = post(s, &key, &format!("/v1/cat/sessions/{id}/responses"), &json!({"item": item, "correct": true}));
    assert_eq!(r["stop_reason"], "se", "{r}");
    // A pool of two items is exhausted after two.
    let (_, t) =
        post(s, &key, "/v1/cat/sessions", &json!({"items": ["q1", "q2"], "selector": "kli", "randomesque": 2}));
    let id = t["id"].as_str().unwrap().to_owned();
    let mut r = t;
    for _ in 0..2 {
        let item = r["next"][0].as_str().unwrap().to_owned();
        assert!(item == "q1" || item == "q2", "{item} outside the pool");
        r = post(s, &key, &format!("/v1/cat/sessions/{id}/responses"), &json!({"item": item, "correct": false})).1;
    }
    assert_eq!(r["stop_reason"], "pool_exhausted", "{r}");
}

fn adaptive_test_requests_are_checked(s: &Server) {
    let (_, key, _) = school(s);
    for (body, code) in [
        (json!({"items": ["q1", "nope"]}), "unknown_item"),
        (json!({"selector": "best"}), "invalid_field"),
        (json!({"estimator": "ols"}), "invalid_field"),
        (json!({"stop": {"max_items": 0}}), "invalid_field"),
        (json!({"stop": {"se": -1.0}}), "invalid_field"),
        (json!({"items": []}), "invalid_field"),
        (json!({"colour": "red"}), "invalid_field"),
        (json!({"calibration": 1}), "wrong_model"),
        (json!({"calibration": 99}), "not_found"),
    ] {
        let (status, e) = post(s, &key, "/v1/cat/sessions", &body);
        assert_eq!(e["error"]["code"].as_str(), Some(code), "{body}: {e}");
        assert!((400..500).contains(&status));
    }
    let (status, _) = get(s, &key, "/v1/cat/sessions/0c4a8fb4-70a4-4b09-9f0d-2a0c1a5a1b7e");
    assert_eq!(status, 404);
    // A tenant without an IRT model is told how to get one.
    let (_, bkt_only) = tenant(s, &fitted(ModelName::Bkt));
    let (status, e) = post(s, &bkt_only.token(), "/v1/cat/sessions", &json!({}));
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("no_model")));
    assert!(e["error"]["message"].as_str().unwrap().contains("/v1/jobs"));
}

fn tutoring_gives_feedback_and_ends_at_the_limit(s: &Server) {
    let (_, key, _) = school(s);
    let (status, _) = post(s, &key, "/v1/prerequisites", &json!({"skill": "s1", "requires": "s0"}));
    assert_eq!(status, 200);
    let (status, t) =
        post(s, &key, "/v1/tutoring/sessions", &json!({"learner": "tia", "skills": ["s1"], "max_items": 4}));
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["status"], "active");
    assert!(t["mastery"]["s1"].is_number(), "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    let first = t["next"]["item"].as_str().unwrap().to_owned();
    // Items of s1 and of its prerequisite s0 are practised: q0, q1, q4, q5.
    assert!(["q0", "q1", "q4", "q5"].contains(&first.as_str()), "{t}");
    assert!(!t["next"]["reason"].as_str().unwrap().is_empty());
    let path = format!("/v1/tutoring/sessions/{id}/answers");
    let (status, r) = post(s, &key, &path, &json!({"item": first, "correct": true}));
    assert_eq!(status, 200, "{r}");
    let f = &r["feedback"];
    assert_eq!(
        (f["step"].as_u64(), f["suggested"].as_bool(), f["correct"].as_bool()),
        (Some(1), Some(true), Some(true))
    );
    let skill = if ["q0", "q4"].contains(&first.as_str()) { "s0" } else { "s1" };
    assert!(f["mastery"][skill].as_f64().unwrap() > f["mastery_before"][skill].as_f64().unwrap(), "{f}");
    assert!(f["feedback"].as_str().unwrap().starts_with("Right."));
    // A wrong answer on s1 while s0 is weak names s0 as the weakest prerequisite.
    let (_, r) = post(s, &key, &path, &json!({"item": "q1", "correct": false}));
    let w = &r["feedback"]["weakest_prerequisite"];
    assert_eq!((w["skill"].as_str(), w["of"].as_str()), (Some("s0"), Some("s1")), "{r}");
    assert!(w["mastery"].as_f64().unwrap() < 0.95);
    assert_eq!(r["feedback"]["suggested"], false);
    for _ in 0..2 {
        let item = r["next"]["item"].as_str().unwrap_or("q5").to_owned();
        let (status, next) = post(s, &key, &path, &json!({"item": item, "correct": true}));
        assert_eq!(status, 200, "{next}");
        if next["status"] != "active" {
            break;
        }
    }
    let (_, trace) = get(s, &key, &format!("/v1/tutoring/sessions/{id}"));
    assert_eq!(trace["status"], "limit", "{trace}");
    assert_eq!(trace["steps"].as_array().unwrap().len(), 4);
    assert_eq!(trace["next"], Value::Null);
    let (status, e) = post(s, &key, &path, &json!({"item": "q1", "correct": true}));
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("session_finished")));
    assert_eq!(get(s, &key, "/v1/learners/tia/state").1["answers"], 4);
    // An xAPI statement with the session's registration is its next step.
    let (_, t) = post(s, &key, "/v1/tutoring/sessions", &json!({"learner": "xia"}));
    let id = t["id"].as_str().unwrap().to_owned();
    let st = json!({
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": "xia"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"objectType": "Activity", "id": "urn:attune:item:q2"},
        "result": {"success": true},
        "context": {"registration": id},
    });
    let auth = format!("Bearer {key}");
    let headers = [("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")];
    for _ in 0..2 {
        // Twice: a retried statement is one step.
        let body = json!([{"id": "6f1d3f36-5d5e-4d4e-9c43-3a8e2f1b1c01"}]);
        let mut st = st.clone();
        st["id"] = body[0]["id"].clone();
        let (status, _, ids) = request("POST", &format!("{}/xapi/statements", s.url), &headers, Some(&st.to_string()));
        assert_eq!(status, 200, "{ids}");
    }
    let (_, trace) = get(s, &key, &format!("/v1/tutoring/sessions/{id}"));
    let steps = trace["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{trace}");
    assert_eq!(steps[0]["item"], "q2");
    assert_eq!(get(s, &key, "/v1/learners/xia/state").1["answers"], 1);
}

fn tutoring_requests_are_checked(s: &Server) {
    let (_, key, _) = school(s);
    for (body, code) in [
        (json!({"learner": "tia", "skills": ["nope"]}), "unknown_skill"),
        (json!({"learner": "tia", "skills": []}), "invalid_field"),
        (json!({"learner": "tia", "target": 1.5}), "invalid_field"),
        (json!({"learner": "tia", "max_items": 0}), "invalid_field"),
        (json!({"learner": ""}), "invalid_field"),
        (json!({"skills": ["s1"]}), "invalid_field"),
    ] {
        let (status, e) = post(s, &key, "/v1/tutoring/sessions", &body);
        assert_eq!((status, e["error"]["code"].as_str()), (400, Some(code)), "{body}: {e}");
    }
    let (status, _) = post(s, &key, "/v1/tutoring/sessions/no-such/answers", &json!({"item": "q1", "correct": true}));
    assert_eq!(status, 404);
}

fn sessions_belong_to_their_tenant(s: &Server) {
    let (_, a, _) = school(s);
    let (_, b, _) = school(s);
    let (_, cat) = post(s, &a, "/v1/cat/sessions", &json!({"learner": "ana"}));
    let (_, tut) = post(s, &a, "/v1/tutoring/sessions", &json!({"learner": "ana"}));
    let (cat_id, tut_id) = (cat["id"].as_str().unwrap(), tut["id"].as_str().unwrap());
    let item = cat["next"][0].as_str().unwrap();
    for (method, path, body) in [
        ("GET", format!("/v1/cat/sessions/{cat_id}"), None),
        ("POST", format!("/v1/cat/sessions/{cat_id}/responses"), Some(json!({"item": item, "correct": true}))),
        ("GET", format!("/v1/tutoring/sessions/{tut_id}"), None),
        ("POST", format!("/v1/tutoring/sessions/{tut_id}/answers"), Some(json!({"item": "q1", "correct": true}))),
    ] {
        let body = body.map(|b| b.to_string());
        let (status, e) = call(method, &format!("{}{path}", s.url), Some(&b), body.as_deref());
        assert_eq!((status, e["error"]["code"].as_str()), (404, Some("not_found")), "{method} {path}");
    }
    // Tenant A's sessions are untouched and A's learner has no answers in B.
    assert_eq!(get(s, &a, &format!("/v1/cat/sessions/{cat_id}")).1["answered"], 0);
    assert_eq!(get(s, &a, &format!("/v1/tutoring/sessions/{tut_id}")).1["answered"], 0);
    assert_eq!(get(s, &b, "/v1/learners/ana/state").0, 404);
}

on_both!(
    adaptive_tests_run_to_each_stop_rule,
    adaptive_test_requests_are_checked,
    tutoring_gives_feedback_and_ends_at_the_limit,
    tutoring_requests_are_checked,
    sessions_belong_to_their_tenant,
);
