//! Durability of `attune serve`: a client streams answers while the server is killed with
//! SIGKILL and restarted, 20 times, on a SQLite file and (where `ATTUNE_TEST_POSTGRES` names
//! a database) on PostgreSQL. Every acknowledged answer must be stored afterwards, and every
//! learner's served state must equal the replay of their stored answers. And scale-out: two
//! servers over one PostgreSQL database take answers of the same learners at once, and both
//! then serve every learner's state as the replay of the log.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attune_core::{Interaction, ItemId, KnowledgeTracer, SkillId, StudentId};
use attune_models::FittedModel;
use attune_store::Store;
use serde_json::{Value, json};

const ROUNDS: usize = 20;

/// A free loopback port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `attune serve` on `database` and waits until it prints its key: the child, its
/// URL and the demo key.
fn serve(database: &str) -> (Child, String, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_attune"))
        .args(["serve", "--database", database, "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut key = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // The key is the last line: the one after "demo API key (shown once):".
        if line.starts_with("demo API key") {
            continue;
        }
        if line.len() > 60 && line.contains('.') && !line.contains(' ') {
            key = line;
            break;
        }
    }
    assert!(!key.is_empty(), "the server printed no key");
    (child, format!("http://127.0.0.1:{port}"), key)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

fn get_json(url: &str, key: &str) -> (u16, Value) {
    let mut r = agent().get(url).header("Authorization", &format!("Bearer {key}")).call().unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
}

/// Streams single answers of five learners until `stop`, collecting the acknowledged ids.
fn stream(url: String, key: String, prefix: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>) {
    stream_as(url, key, prefix, 0, stop, acked);
}

/// [`stream`] as client `client` of several on the same learners (`<prefix>-l0…4`).
fn stream_as(
    url: String,
    key: String,
    prefix: String,
    client: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let a = agent();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let id = format!("{prefix}-c{client}-{i}");
        let body = json!({"id": id, "learner": format!("{prefix}-l{}", i % 5), "item": format!("{}", 1 + i % 110),
            "correct": !i.is_multiple_of(3)});
        let sent =
            a.post(&format!("{url}/v1/answers")).header("Authorization", &format!("Bearer {key}")).send_json(&body);
        match sent {
            Ok(r) if r.status() == 200 => acked.lock().unwrap().push(id),
            // Refused or cut off by the kill: not acknowledged.
            _ => {}
        }
        i += 1;
    }
}

fn kill_and_restart(database: &str, run: &str) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut learners = BTreeSet::new();
    let mut last_key = String::new();
    for round in 0..ROUNDS {
        let (mut child, url, key) = serve(database);
        let stop = Arc::new(AtomicBool::new(false));
        let prefix = format!("{run}-r{round}");
        learners.extend((0..5).map(|l| format!("{prefix}-l{l}")));
        let client = {
            let (url, key, stop, acked) = (url.clone(), key.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || stream(url, key, prefix, stop, acked))
        };
        std::thread::sleep(Duration::from_millis(150 + 37 * (round as u64 % 7)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        client.join().unwrap();
        last_key = key;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > ROUNDS * 5, "too few answers acknowledged to test anything: {}", acked.len());
    let (mut child, url, _) = serve(database);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = rt.block_on(Store::open(database)).unwrap();
    let model = serving_model(&rt, &store);
    let mut stored = BTreeSet::new();
    let t0 = Instant::now();
    for learner in &learners {
        stored.extend(check_state(&rt, &store, &model, &url, &last_key, learner));
    }
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged answers lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    eprintln!(
        "{} answers acknowledged over {ROUNDS} kills, all stored; states checked in {:?}",
        acked.len(),
        t0.elapsed()
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The demo tenant's serving model.
fn serving_model(rt: &tokio::runtime::Runtime, store: &Store) -> FittedModel {
    let tenant = rt.block_on(store.tenant_by_name("demo")).unwrap().unwrap().id;
    let (_, file) = rt.block_on(store.serving_model(tenant)).unwrap().unwrap();
    FittedModel::from_json(std::path::Path::new("registry"), &file).unwrap()
}

/// Checks the learner's state served at `url` against the replay of their stored answers
/// (of the demo tenant); returns the stored answers' ids.
fn check_state(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    model: &FittedModel,
    url: &str,
    key: &str,
    learner: &str,
) -> Vec<String> {
    let tenant = rt.block_on(store.tenant_by_name("demo")).unwrap().unwrap().id;
    let answers = rt.block_on(store.answers_of(tenant, learner)).unwrap();
    if answers.is_empty() {
        return Vec::new();
    }
    let (status, state) = get_json(&format!("{url}/v1/learners/{learner}/state"), key);
    assert_eq!(status, 200, "{learner}: {state}");
    assert_eq!(state["answers"].as_u64(), Some(answers.len() as u64), "{learner} at {url}");
    let mut replay = model.initial_state();
    for a in &answers {
        let item = model.ids.item(&a.item).unwrap_or(ItemId(model.ids.n_items() as u32));
        let skills: Vec<SkillId> = model
            .ids
            .item_skills
            .get(item.index())
            .map(|v| v.iter().map(|&k| SkillId(k)).collect())
            .unwrap_or_default();
        let obs = Interaction { student: StudentId(0), item, skills: &skills, correct: a.correct, time: a.time };
        model.update(&mut replay, &obs);
    }
    for (k, p) in model.mastery_profile(&replay).into_iter().enumerate() {
        let (Some(p), Some(name)) = (p, model.ids.skills.get(k)) else { continue };
        let served = state["mastery"][name].as_f64().unwrap();
        assert!((served - p.get()).abs() < 1e-12, "{learner} {name} at {url}: served {served}, replayed {}", p.get());
    }
    answers.into_iter().map(|a| a.id).collect()
}

#[test]
fn two_servers_over_one_postgres_serve_one_tenant_consistently() {
    let Ok(db) = std::env::var("ATTUNE_TEST_POSTGRES") else {
        eprintln!("skipped on PostgreSQL: ATTUNE_TEST_POSTGRES is not set (CI sets it after installing PostgreSQL)");
        return;
    };
    // The first sets the demo tenant up; the second finds it.
    let (mut a, url_a, key) = serve(&db);
    let (mut b, url_b, _) = serve(&db);
    let run =
        format!("scale{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis());
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    // Both servers take answers of the same five learners at once.
    let clients: Vec<_> = [url_a.clone(), url_b.clone()]
        .into_iter()
        .enumerate()
        .map(|(i, url)| {
            let (key, stop, acked, run) = (key.clone(), stop.clone(), acked.clone(), run.clone());
            std::thread::spawn(move || stream_as(url, key, run, i, stop, acked))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "{} answers acknowledged", acked.len());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = rt.block_on(Store::open(&db)).unwrap();
    let model = serving_model(&rt, &store);
    let mut stored = BTreeSet::new();
    for l in 0..5 {
        let learner = format!("{run}-l{l}");
        for url in [&url_a, &url_b] {
            stored.extend(check_state(&rt, &store, &model, url, &key, &learner));
        }
    }
    assert!(acked.iter().all(|id| stored.contains(id)), "an acknowledged answer is missing");
    for c in [&mut a, &mut b] {
        c.kill().unwrap();
        c.wait().unwrap();
    }
}

#[test]
fn sqlite_loses_no_acknowledged_answer_across_kills() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("attune.db");
    kill_and_restart(db.to_str().unwrap(), "sqlite");
}

#[test]
fn postgres_loses_no_acknowledged_answer_across_kills() {
    let Ok(url) = std::env::var("ATTUNE_TEST_POSTGRES") else {
        eprintln!("skipped on PostgreSQL: ATTUNE_TEST_POSTGRES is not set (CI sets it after installing PostgreSQL)");
        return;
    };
    let run = format!("pg{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis());
    kill_and_restart(&url, &run);
}
