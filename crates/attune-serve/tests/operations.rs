//! Bulk import, learners, training jobs and analytics over real HTTP, on SQLite and
//! PostgreSQL: a file in a reader format becomes answers (a repeated upload counts nothing
//! twice, a bad file stores nothing); a job fits a model on the stored answers and serves it,
//! or is cancelled; the class analytics agree with the learners' own states; another tenant
//! sees none of it.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn get(s: &Server, key: &str, path: &str) -> (u16, Value) {
    call("GET", &format!("{}{path}", s.url), Some(key), None)
}

fn post(s: &Server, key: &str, path: &str, body: &Value) -> (u16, Value) {
    call("POST", &format!("{}{path}", s.url), Some(key), Some(&body.to_string()))
}

/// Uploads `bytes` to `/v1/import?{query}`.
fn import(s: &Server, key: &str, query: &str, bytes: &[u8]) -> (u16, Value) {
    let mut resp = agent()
        .post(&format!("{}/v1/import?{query}", s.url))
        .header("Authorization", &format!("Bearer {key}"))
        .content_type("application/octet-stream")
        .send(bytes)
        .unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null))
}

/// 40 learners on 4 skills in the DKVMN 3-line format (1-based skill ids), success growing
/// with practice.
fn dkvmn_file() -> String {
    let mut out = String::new();
    let mut x: u64 = 7;
    for _ in 0..40 {
        let n = 24;
        let (mut ids, mut answers) = (Vec::new(), Vec::new());
        for t in 0..n {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ids.push(((x >> 33) % 4 + 1).to_string());
            let p = 0.3 + 0.6 * t as f64 / n as f64;
            answers.push(if ((x >> 11) % 1000) as f64 / 1000.0 < p { "1" } else { "0" });
        }
        out.push_str(&format!("{n}\n{}\n{}\n", ids.join(","), answers.join(",")));
    }
    out
}

/// Polls the job until it ends (at most a minute).
fn wait(s: &Server, key: &str, id: &str) -> Value {
    let t0 = Instant::now();
    loop {
        let (status, job) = get(s, key, &format!("/v1/jobs/{id}"));
        assert_eq!(status, 200, "{job}");
        if ["succeeded", "failed", "cancelled"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "job still {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn imports_count_once_and_refuse_bad_files(s: &Server) {
    let (tenant, key) = s.rt.block_on(s.app.store().create_tenant(&unique("import"))).unwrap();
    let key = key.token();
    let file = dkvmn_file();
    let (status, r) = import(s, &key, "format=dkvmn&id_prefix=c", file.as_bytes());
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["answers"].as_u64(), r["stored"].as_u64(), r["learners"].as_u64()), (Some(960), Some(960), Some(40)));
    assert_eq!(r["items"], 4);
    let (_, again) = import(s, &key, "format=dkvmn&id_prefix=c", file.as_bytes());
    assert_eq!((again["stored"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(960)), "{again}");
    let count = || s.rt.block_on(s.app.store().log_head(tenant.id)).unwrap();
    let head = count();
    // A bad file names its line and stores nothing.
    let (status, e) = import(s, &key, "format=dkvmn&id_prefix=bad", b"3\n1,2,x\n0,1,1\n");
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("invalid_file")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains(":2"), "{e}");
    for (query, code) in
        [("format=xlsx", "unknown_format"), ("format=csv", "invalid_field"), ("colour=red", "invalid_field")]
    {
        let (status, e) = import(s, &key, query, b"user_id,item,correct\na,q,1\n");
        assert_eq!((status, e["error"]["code"].as_str()), (400, Some(code)), "{query}: {e}");
    }
    assert_eq!(count(), head);
    // A generic CSV with named columns, and a Q-matrix.
    let csv = "who,what,ok,when\nzed,frac-1,1,10\nzed,frac-2,0,20\nyan,frac-1,1,15\n";
    let (status, r) =
        import(s, &key, "format=csv&student=who&item=what&correct=ok&time=when&seconds=true", csv.as_bytes());
    assert_eq!((status, r["stored"].as_u64()), (200, Some(3)), "{r}");
    let (status, r) =
        import(s, &key, "format=q-matrix", b"item_id,skill_id\nfrac-1,fractions\nfrac-2,fractions\nfrac-2,ratios\n");
    assert_eq!((status, r["items"].as_u64()), (200, Some(2)), "{r}");
    let (_, items) = get(s, &key, "/v1/items");
    let frac2 = items.as_array().unwrap().iter().find(|i| i["item"] == "frac-2").unwrap();
    assert_eq!(frac2["skills"], json!(["fractions", "ratios"]));
    // A prerequisite table: the repository's Junyi exercise table (gzip).
    let junyi =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/junyi/junyi_Exercise_table.csv.gz")).unwrap();
    let (status, r) = import(s, &key, "format=junyi-prerequisites", &junyi);
    assert_eq!(status, 200, "{r}");
    let edges = s.rt.block_on(s.app.store().prerequisites(tenant.id)).unwrap();
    assert_eq!(r["stored"].as_u64(), Some(edges.len() as u64));
    assert!(edges.iter().any(|e| e.skill == "parabola_intuition_1" && e.requires == "recognizing_conic_sections"));
    // Learners: the imported ones with their counts, and one registered before answering.
    assert_eq!(post(s, &key, "/v1/learners", &json!([{"learner": "new-kid"}, {"learner": "zed"}])).1["stored"], 1);
    let (_, learners) = get(s, &key, "/v1/learners");
    let learners = learners.as_array().unwrap();
    assert_eq!(learners.len(), 43);
    let zed = learners.iter().find(|l| l["learner"] == "zed").unwrap();
    assert_eq!(
        (zed["answers"].as_i64(), zed["correct_rate"].as_f64(), zed["last_answer"].as_i64()),
        (Some(2), Some(0.5), Some(20))
    );
    let kid = learners.iter().find(|l| l["learner"] == "new-kid").unwrap();
    assert_eq!((kid["answers"].as_i64(), &kid["correct_rate"]), (Some(0), &Value::Null));
    assert_eq!(post(s, &key, "/v1/learners", &json!({"learner": ""})).0, 400);
}

fn jobs_train_serve_and_cancel(s: &Server) {
    let (_, key) = s.rt.block_on(s.app.store().create_tenant(&unique("jobs"))).unwrap();
    let key = key.token();
    // Nothing to train on yet.
    let (status, e) = post(s, &key, "/v1/jobs", &json!({"model": "bkt"}));
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("no_answers")));
    assert_eq!(import(s, &key, "format=dkvmn&id_prefix=c", dkvmn_file().as_bytes()).0, 200);
    for (body, code) in [
        (json!({"model": "gpt"}), "unknown_model"),
        (json!({"model": "bkt", "config": {"nonsense": 1}}), "invalid_field"),
        (json!({"model": "bkt", "colour": 1}), "invalid_field"),
    ] {
        let (status, e) = post(s, &key, "/v1/jobs", &body);
        assert_eq!((status, e["error"]["code"].as_str()), (400, Some(code)), "{body}: {e}");
    }
    let writer = s.rt.block_on(async {
        let store = s.app.store();
        let (t, _) = store.authenticate(&key).await.unwrap().unwrap();
        store.create_key(t, attune_store::Scopes::parse("read,write").unwrap()).await.unwrap().token()
    });
    assert_eq!(post(s, &writer, "/v1/jobs", &json!({"model": "bkt", "serve": true})).0, 403);
    let (status, job) = post(s, &key, "/v1/jobs", &json!({"model": "bkt", "serve": true}));
    assert_eq!(status, 202, "{job}");
    let job = wait(s, &key, job["id"].as_str().unwrap());
    assert_eq!(job["status"], "succeeded", "{job}");
    let version = job["version"].as_i64().unwrap();
    assert!(job["message"].as_str().unwrap().contains("960 answers"), "{job}");
    let (_, models) = get(s, &key, "/v1/models");
    let serving: Vec<&Value> = models.as_array().unwrap().iter().filter(|m| m["serving"] == true).collect();
    assert_eq!((serving.len(), serving[0]["version"].as_i64()), (1, Some(version)));
    let (_, state) = get(s, &key, "/v1/learners/c%230/state");
    assert_eq!((state["answers"].as_i64(), state["model"]["version"].as_i64()), (Some(24), Some(version)), "{state}");
    // A long fit is cancelled from its progress hook.
    let (_, job) =
        post(s, &key, "/v1/jobs", &json!({"model": "dkt", "config": {"max_epochs": 100000, "patience": 100000}}));
    let id = job["id"].as_str().unwrap().to_owned();
    let t0 = Instant::now();
    while get(s, &key, &format!("/v1/jobs/{id}")).1["status"] != "running" {
        assert!(t0.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, c) = post(s, &key, &format!("/v1/jobs/{id}/cancel"), &json!({}));
    assert_eq!((status, c["cancel"].as_bool()), (202, Some(true)), "{c}");
    let job = wait(s, &key, &id);
    assert_eq!((job["status"].as_str(), &job["version"]), (Some("cancelled"), &Value::Null), "{job}");
    let (status, e) = post(s, &key, &format!("/v1/jobs/{id}/cancel"), &json!({}));
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("job_finished")));
    assert_eq!(models.as_array().unwrap().len(), get(s, &key, "/v1/models").1.as_array().unwrap().len());
    let (_, jobs) = get(s, &key, "/v1/jobs");
    assert_eq!(jobs.as_array().unwrap().len(), 2);
}

fn analytics_agree_with_the_learner_states(s: &Server) {
    let (_, key) = s.rt.block_on(s.app.store().create_tenant(&unique("class"))).unwrap();
    let key = key.token();
    assert_eq!(get(s, &key, "/v1/analytics/mastery").1["error"]["code"], "no_model");
    assert_eq!(import(s, &key, "format=dkvmn&id_prefix=c", dkvmn_file().as_bytes()).0, 200);
    for model in ["bkt", "irt2pl"] {
        let (_, job) = post(s, &key, "/v1/jobs", &json!({"model": model, "serve": model == "bkt"}));
        assert_eq!(wait(s, &key, job["id"].as_str().unwrap())["status"], "succeeded");
    }
    let (status, class) = get(s, &key, "/v1/analytics/mastery");
    assert_eq!(status, 200, "{class}");
    assert_eq!((class["learners"].as_u64(), class["answers"].as_u64()), (Some(40), Some(960)));
    // Each skill's mean mastery is the mean over the learners' own states, before and after
    // more answers (the cache follows the log).
    let agree = |class: &Value| {
        let learners: Vec<String> = (0..40).map(|l| format!("c%23{l}")).collect();
        let states: Vec<Value> = learners.iter().map(|l| get(s, &key, &format!("/v1/learners/{l}/state")).1).collect();
        let skills = class["skills"].as_array().unwrap();
        assert_eq!(skills.len(), 4);
        for sk in skills {
            let id = sk["skill"].as_str().unwrap();
            let of: Vec<f64> = states.iter().filter_map(|st| st["mastery"][id].as_f64()).collect();
            assert_eq!(sk["learners"].as_u64(), Some(of.len() as u64), "{sk}");
            let mean = of.iter().sum::<f64>() / of.len() as f64;
            assert!((sk["mean_mastery"].as_f64().unwrap() - mean).abs() < 1e-9, "{sk} vs {mean}");
        }
    };
    agree(&class);
    let (_, items) = get(s, &key, "/v1/items");
    for (k, item) in items.as_array().unwrap().iter().enumerate() {
        let late = answer(&format!("late{k}"), &format!("c#{k}"), item["item"].as_str().unwrap(), k % 2 == 0);
        assert_eq!(post(s, &key, "/v1/answers", &late).0, 200);
    }
    let (_, after) = get(s, &key, "/v1/analytics/mastery");
    assert_eq!(after["answers"].as_u64(), Some(964));
    agree(&after);
    // At risk: with every threshold at its strictest, every learner is flagged for low mastery.
    let (status, risk) = get(s, &key, "/v1/analytics/at-risk?low_mastery=1&min_answers=1");
    assert_eq!(status, 200, "{risk}");
    assert_eq!(risk["at_risk"].as_array().unwrap().len(), 40);
    assert_eq!(risk["at_risk"][0]["why"]["reason"], "low_mastery");
    assert!(risk["rule"].as_str().unwrap().contains("1.00"));
    assert!(get(s, &key, "/v1/analytics/at-risk").1["at_risk"].is_array());
    assert_eq!(get(s, &key, "/v1/analytics/at-risk?low_mastery=2").1["error"]["code"], "invalid_field");
    // Items from the registered 2PL, skills from the serving BKT, curves pooled first.
    let (status, items) = get(s, &key, "/v1/analytics/items");
    assert_eq!((status, items["model"]["name"].as_str()), (200, Some("irt2pl")), "{items}");
    let items = items["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| i["difficulty"].is_number() && i["discrimination"].is_number()));
    let (_, skills) = get(s, &key, "/v1/analytics/skills");
    assert_eq!(skills["skills"].as_array().unwrap().len(), 4, "{skills}");
    assert!(skills["skills"][0]["learn"].as_f64().unwrap() > 0.0);
    let (_, curves) = get(s, &key, "/v1/analytics/curves?max_opportunity=5");
    let curves = curves.as_array().unwrap();
    assert_eq!(curves[0]["skill"], Value::Null);
    assert_eq!(curves[0]["points"].as_array().unwrap().len(), 5);
    let (_, one) = get(s, &key, "/v1/analytics/curves?skill=2");
    assert_eq!((one.as_array().unwrap().len(), one[0]["skill"].as_str()), (1, Some("2")), "{one}");
    assert_eq!(get(s, &key, "/v1/analytics/curves?skill=nope").0, 404);
    assert_eq!(get(s, &key, "/v1/analytics/curves?max_opportunity=0").0, 400);
    assert_eq!(get(s, &key, "/v1/analytics/items?version=1").1["error"]["code"], "wrong_model");
}

fn another_tenant_sees_none_of_it(s: &Server) {
    let (_, a) = s.rt.block_on(s.app.store().create_tenant(&unique("mine"))).unwrap();
    let (_, b) = s.rt.block_on(s.app.store().create_tenant(&unique("theirs"))).unwrap();
    let (a, b) = (a.token(), b.token());
    import(s, &a, "format=dkvmn&id_prefix=c", dkvmn_file().as_bytes());
    let (_, job) = post(s, &a, "/v1/jobs", &json!({"model": "bkt", "serve": true}));
    let id = job["id"].as_str().unwrap();
    wait(s, &a, id);
    assert_eq!(get(s, &b, &format!("/v1/jobs/{id}")).0, 404);
    assert_eq!(post(s, &b, &format!("/v1/jobs/{id}/cancel"), &json!({})).0, 404);
    assert_eq!(get(s, &b, "/v1/jobs").1, json!([]));
    assert_eq!(get(s, &b, "/v1/learners").1, json!([]));
    assert_eq!(get(s, &b, "/v1/analytics/mastery").1["error"]["code"], "no_model");
    assert_eq!(get(s, &b, "/v1/analytics/items").1["error"]["code"], "no_model");
    assert_eq!(get(s, &b, "/v1/analytics/curves").1[0]["points"], json!([]));
    assert_eq!(get(s, &b, "/v1/models").1, json!([]));
    // B's import lands in B only.
    import(s, &b, "format=dkvmn&id_prefix=b", b"2\n1,2\n1,0\n");
    assert_eq!(get(s, &a, "/v1/learners").1.as_array().unwrap().len(), 40);
    assert_eq!(get(s, &b, "/v1/learners").1.as_array().unwrap().len(), 1);
    assert_eq!(get(s, &a, "/v1/analytics/mastery").1["answers"], 960);
}

on_both!(
    imports_count_once_and_refuse_bad_files,
    jobs_train_serve_and_cancel,
    analytics_agree_with_the_learner_states,
    another_tenant_sees_none_of_it,
);
