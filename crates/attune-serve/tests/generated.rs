//! Generated bad requests to the session, job, learner and import routes: never a 5xx; a
//! refusal carries a stable code and stores nothing.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use attune_models::ModelName;
use attune_store::TenantId;
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Values that are wrong for most fields.
fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(-5)),
        Just(json!(0)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        Just(json!("")),
        Just(json!("q1")),
        Just(json!("x".repeat(250))),
        Just(json!([1, 2])),
        Just(json!([])),
        Just(json!({"max_items": -1})),
        Just(json!({"se": "low"})),
        Just(json!(true)),
    ]
}

/// Objects over the routes' field names (and one unknown) with junk values, or raw bytes.
fn body() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("learner"),
        Just("items"),
        Just("selector"),
        Just("estimator"),
        Just("randomesque"),
        Just("stop"),
        Just("calibration"),
        Just("seed"),
        Just("skills"),
        Just("target"),
        Just("mastery"),
        Just("max_items"),
        Just("model"),
        Just("config"),
        Just("serve"),
        Just("item"),
        Just("correct"),
        Just("id"),
        Just("time"),
        Just("colour"),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..120).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        proptest::collection::btree_map(key, junk(), 1..5).prop_map(|m| serde_json::to_string(&m).unwrap()),
    ]
}

struct Fixture {
    s: Server,
    key: String,
    tenant: TenantId,
    cat: String,
    tutoring: String,
}

fn fixture() -> Fixture {
    let s = sqlite();
    let (tenant, key) = tenant(&s, &fitted(ModelName::Bkt));
    let irt = fitted(ModelName::Irt2pl);
    s.rt.block_on(s.app.store().add_model(tenant, "irt2pl", &irt.to_json(), &json!({}))).unwrap();
    let key = key.token();
    let cat = call("POST", &format!("{}/v1/cat/sessions", s.url), Some(&key), Some("{}")).1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tutoring = call("POST", &format!("{}/v1/tutoring/sessions", s.url), Some(&key), Some(r#"{"learner": "tia"}"#))
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture { s, key, tenant, cat, tutoring }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn generated_requests_never_fail_the_server(route in 0usize..6, body in body()) {
        thread_local! {
            static F: Fixture = fixture();
        }
        F.with(|f| {
            let head = || f.s.rt.block_on(f.s.app.store().log_head(f.tenant)).unwrap();
            let before = head();
            let path = match route {
                0 => "/v1/cat/sessions".to_owned(),
                1 => format!("/v1/cat/sessions/{}/responses", f.cat),
                2 => "/v1/tutoring/sessions".to_owned(),
                3 => format!("/v1/tutoring/sessions/{}/answers", f.tutoring),
                4 => "/v1/jobs".to_owned(),
                _ => "/v1/learners".to_owned(),
            };
            let (status, r) = call("POST", &format!("{}{path}", f.s.url), Some(&f.key), Some(&body));
            prop_assert!(status < 500, "{status} for {path} {body}: {r}");
            if status >= 400 {
                prop_assert!(r["error"]["code"].is_string(), "{r}");
                prop_assert_eq!(head(), before, "a refused {} stored an answer", path);
            }
            Ok(())
        })?;
    }

    #[test]
    fn generated_imports_never_fail_the_server(
        format in prop_oneof![Just("dkvmn"), Just("akt"), Just("akt-pid"), Just("gervet"), Just("pybkt"), Just("q-matrix"), Just("junyi-prerequisites"), Just("eedi-subjects"), Just("csv&item=i"), Just("zip")],
        file in proptest::collection::vec(prop_oneof![Just(b'0'), Just(b'1'), Just(b','), Just(b'\n'), Just(b'\t'), Just(b'x'), any::<u8>()], 0..200),
    ) {
        thread_local! {
            static F: Fixture = fixture();
        }
        F.with(|f| {
            let before = f.s.rt.block_on(f.s.app.store().log_head(f.tenant)).unwrap();
            let mut resp = agent()
                .post(&format!("{}/v1/import?format={format}", f.s.url))
                .header("Authorization", &format!("Bearer {}", f.key))
                .send(&file[..])
                .unwrap();
            let status = resp.status().as_u16();
            let r: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null);
            prop_assert!(status < 500, "{status} for {format}: {r}");
            if status >= 400 {
                prop_assert!(r["error"]["code"].is_string(), "{r}");
                prop_assert_eq!(f.s.rt.block_on(f.s.app.store().log_head(f.tenant)).unwrap(), before);
            }
            Ok(())
        })?;
    }
}
