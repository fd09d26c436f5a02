//! What the service's HTTP suites share: a server on a loopback socket over a fresh SQLite
//! file or the PostgreSQL of `ATTUNE_TEST_POSTGRES`, tenants with a fitted model, requests.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use attune_core::{Dataset, DatasetBuilder, NoProgress};
use attune_models::{FittedModel, ModelName, ModelSpec, Training, fit};
use attune_serve::{App, Config};
use attune_store::{NewKey, TenantId};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

/// A running service and the runtime it runs on.
pub struct Server {
    pub url: String,
    pub app: Arc<App>,
    pub rt: tokio::runtime::Runtime,
    /// The demo tenant, where started with it.
    pub demo: Option<attune_serve::Demo>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn start(database: Option<String>, demo: bool) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (database, dir) = match database {
        Some(url) => (url, None),
        None => {
            let dir = tempfile::tempdir().unwrap();
            (dir.path().join("attune.db").to_str().unwrap().to_owned(), Some(dir))
        }
    };
    let config = Config { database, bind: "127.0.0.1:0".into(), demo, warm_up: false };
    let mut started = rt.block_on(attune_serve::start(&config)).unwrap();
    let (url, app) = (format!("http://{}", started.addr), started.app());
    let demo = started.demo.take();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(started.serve(async move {
        let _ = rx.await;
    }));
    Server { url, app, rt, demo, stop: Some(stop), _dir: dir }
}

pub fn sqlite() -> Server {
    start(None, false)
}

pub fn postgres() -> Option<Server> {
    match std::env::var("ATTUNE_TEST_POSTGRES") {
        Ok(url) => Some(start(Some(url), false)),
        Err(_) => {
            eprintln!(
                "skipped on PostgreSQL: ATTUNE_TEST_POSTGRES is not set (CI sets it after installing PostgreSQL)"
            );
            None
        }
    }
}

pub fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{name}-{t}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Eight items `q0…q7` on four skills `s0…s3` (item i on skill i mod 4), 60 learners whose
/// chance of a right answer grows with practice.
pub fn population() -> Dataset {
    let mut rng = StdRng::seed_from_u64(3);
    let mut b = DatasetBuilder::default();
    let skills: Vec<_> = (0..4).map(|s| b.skill(&format!("s{s}"))).collect();
    let items: Vec<_> = (0..8).map(|i| b.item(&format!("q{i}"))).collect();
    for l in 0..60 {
        let student = b.student(&format!("train{l}"));
        for t in 0..25 {
            let i = rng.random_range(0..8);
            let p = 0.3 + 0.6 * f64::from(t) / 25.0;
            b.push_row(student, items[i], &[skills[i % 4]], rng.random_bool(p), t.into());
        }
    }
    b.finish()
}

pub fn fitted(model: ModelName) -> FittedModel {
    let data = population();
    fit(&ModelSpec::new(model, 42), Training { train: &data, validation: None }, &NoProgress).unwrap()
}

/// A tenant with `model` serving: its id and an every-scope key.
pub fn tenant(s: &Server, model: &FittedModel) -> (TenantId, NewKey) {
    s.rt.block_on(async {
        let store = s.app.store();
        let (t, key) = store.create_tenant(&unique("school")).await.unwrap();
        let v = store.add_model(t.id, model.name().as_str(), &model.to_json(), &json!({})).await.unwrap();
        store.serve_model(t.id, v).await.unwrap();
        (t.id, key)
    })
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// A request: its status and JSON body (`Value::Null` where the body is not JSON).
pub fn call(method: &str, url: &str, key: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let a = agent();
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut resp = match (method, body) {
        ("GET", _) => {
            let mut r = a.get(url);
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.call().unwrap()
        }
        (m, body) => {
            let mut r = if m == "POST" { a.post(url) } else { a.put(url) };
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.content_type("application/json").send(body.unwrap_or("")).unwrap()
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A request with extra headers: the status, the response headers and the JSON body
/// (`Value::Null` where it is not JSON).
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, Value) {
    let a = agent();
    let mut resp = match method {
        "GET" => {
            let mut r = a.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call().unwrap()
        }
        m => {
            let mut r = match m {
                "POST" => a.post(url),
                "PUT" => a.put(url),
                _ => panic!("method {m}"),
            };
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.content_type("application/json").send(body.unwrap_or("")).unwrap()
        }
    };
    let status = resp.status().as_u16();
    let hs = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
    (status, hs, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn answer(id: &str, learner: &str, item: &str, correct: bool) -> Value {
    json!({"id": id, "learner": learner, "item": item, "correct": correct})
}

/// Runs each named test function (taking `&Server`) on SQLite and, where
/// `ATTUNE_TEST_POSTGRES` is set, on PostgreSQL: modules `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&super::sqlite());
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(s) = super::postgres() {
                    super::$name(&s);
                }
            })*
        }
    };
}
