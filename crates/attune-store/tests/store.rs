//! The store's suite, run against a SQLite file and, where `ATTUNE_TEST_POSTGRES` names a
//! database (CI installs and starts PostgreSQL and sets it), against PostgreSQL: the same
//! tests for both backends.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;

use attune_store::{Appended, Backend, Error, Item, JobStatus, NewAnswer, Prerequisite, Scopes, Store, TenantId};

/// A store on a fresh SQLite file (the directory lives as long as the test).
async fn sqlite() -> (Store, Option<tempfile::TempDir>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("attune.db").to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    (store, Some(dir))
}

/// A store on the PostgreSQL database of `ATTUNE_TEST_POSTGRES`, or `None` with the reason
/// printed. Tests share the database: each works in tenants of its own.
async fn postgres() -> Option<(Store, Option<tempfile::TempDir>)> {
    let Ok(url) = std::env::var("ATTUNE_TEST_POSTGRES") else {
        eprintln!("skipped on PostgreSQL: ATTUNE_TEST_POSTGRES is not set (CI sets it after installing PostgreSQL)");
        return None;
    };
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    Some((store, None))
}

/// A tenant name no other test run uses.
fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{name}-{t}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _dir) = super::sqlite().await;
                super::$name(&store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some((store, _)) = super::postgres().await {
                    super::$name(&store).await;
                }
            })*
        }
    };
}

on_both!(
    tenants_and_keys,
    web_sessions_follow_their_key,
    answers_are_idempotent_and_checked,
    concurrent_appends_are_all_acknowledged_once,
    tenants_do_not_see_each_other,
    catalog_round_trips,
    registry_switches_and_rolls_back,
    placeholders_bind_in_order,
    sessions_update_by_compare_and_set,
    jobs_report_progress_and_take_a_cancel,
);

fn answer(id: &str, learner: &str, item: &str, correct: bool) -> NewAnswer {
    NewAnswer {
        id: id.into(),
        learner: learner.into(),
        item: item.into(),
        correct,
        time: None,
        skills: vec!["fractions".into()],
        model: Some(("bkt".into(), 1)),
    }
}

async fn tenants_and_keys(store: &Store) {
    let name = unique("school");
    let (t, key) = store.create_tenant(&name).await.unwrap();
    assert_eq!(store.authenticate(&key.token()).await.unwrap(), Some((t.id, Scopes::ALL)));
    assert_eq!(store.authenticate_parts(&key.public_id, &key.secret).await.unwrap(), Some((t.id, Scopes::ALL)));
    let mut wrong = key.secret.clone();
    wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
    assert_eq!(store.authenticate_parts(&key.public_id, &wrong).await.unwrap(), None);
    for bad in ["", "no-dot", ".", &format!("{}.", key.public_id), &"x".repeat(500)] {
        assert_eq!(store.authenticate(bad).await.unwrap(), None, "{bad:?}");
    }
    assert!(matches!(store.create_tenant(&name).await, Err(Error::Exists { what: "tenant", .. })));
    assert!(matches!(store.create_tenant("").await, Err(Error::Invalid { field: "name", .. })));
    let reader = store.create_key(t.id, Scopes::READ).await.unwrap();
    assert_eq!(store.authenticate(&reader.token()).await.unwrap(), Some((t.id, Scopes::READ)));
    assert!(store.revoke_key(t.id, &reader.public_id).await.unwrap());
    assert_eq!(store.authenticate(&reader.token()).await.unwrap(), None);
    // Another tenant cannot revoke this tenant's key.
    let (other, _) = store.create_tenant(&unique("other")).await.unwrap();
    assert!(!store.revoke_key(other.id, &key.public_id).await.unwrap());
    assert!(store.authenticate(&key.token()).await.unwrap().is_some());
    assert!(matches!(store.create_key(TenantId(i64::MAX), Scopes::READ).await, Err(Error::NotFound { .. })));
    assert_eq!(store.tenant_by_name(&name).await.unwrap().map(|t| t.id), Some(t.id));
    assert!(store.tenants().await.unwrap().iter().any(|x| x.id == t.id));
    assert!(!format!("{key:?}").contains(&key.secret), "the secret leaks through Debug");
}

async fn web_sessions_follow_their_key(store: &Store) {
    let (t, key) = store.create_tenant(&unique("web")).await.unwrap();
    assert_eq!(store.open_web_session("nodot", 60).await.unwrap(), None);
    assert_eq!(store.open_web_session(&format!("{}.wrong", key.public_id), 60).await.unwrap(), None);
    let token = store.open_web_session(&key.token(), 3600).await.unwrap().unwrap();
    assert_eq!(token.len(), 64);
    let s = store.web_session(&token).await.unwrap().unwrap();
    assert_eq!((s.tenant, s.scopes, s.key.as_str()), (t.id, Scopes::ALL, key.public_id.as_str()));
    assert_eq!(s.tenant_name, t.name);
    assert!(s.expires_at > 0);
    assert_eq!(store.web_session(&"0".repeat(64)).await.unwrap(), None);
    assert_eq!(store.web_session("short").await.unwrap(), None);
    // Signing out ends it; a second sign-out finds nothing.
    assert!(store.close_web_session(&token).await.unwrap());
    assert!(!store.close_web_session(&token).await.unwrap());
    assert_eq!(store.web_session(&token).await.unwrap(), None);
    // An expired session does not act, and revoking the key ends its sessions.
    let expired = store.open_web_session(&key.token(), -1).await.unwrap().unwrap();
    assert_eq!(store.web_session(&expired).await.unwrap(), None);
    let reader = store.create_key(t.id, Scopes::READ).await.unwrap();
    let live = store.open_web_session(&reader.token(), 3600).await.unwrap().unwrap();
    assert_eq!(store.web_session(&live).await.unwrap().map(|s| s.scopes), Some(Scopes::READ));
    assert!(store.revoke_key(t.id, &reader.public_id).await.unwrap());
    assert_eq!(store.web_session(&live).await.unwrap(), None);
}

async fn answers_are_idempotent_and_checked(store: &Store) {
    let (t, _) = store.create_tenant(&unique("idem")).await.unwrap();
    let first =
        vec![answer("a1", "ana", "q1", true), answer("a2", "ana", "q2", false), answer("a1", "ana", "q1", true)];
    let got = store.append(t.id, first).await.unwrap();
    assert!(matches!(got[0], Appended::New(_)) && matches!(got[1], Appended::New(_)));
    assert_eq!(got[2], Appended::Duplicate(got[0].seq()), "a repeated id within one request");
    let retry = store.append(t.id, vec![answer("a2", "ana", "q2", false)]).await.unwrap();
    assert_eq!(retry, [Appended::Duplicate(got[1].seq())]);
    assert_eq!(store.count_answers(t.id, "ana").await.unwrap(), 2);
    // One bad answer refuses the request: nothing of it is stored.
    let mut bad = answer("a4", "ana", "q4", true);
    bad.item = String::new();
    let err = store.append(t.id, vec![answer("a3", "ana", "q3", true), bad]).await.unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "item", .. }), "{err}");
    assert_eq!(store.count_answers(t.id, "ana").await.unwrap(), 2);
    let stored = store.answers_of(t.id, "ana").await.unwrap();
    assert_eq!(stored.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["a1", "a2"]);
    assert_eq!(stored[0].skills, ["fractions"]);
    assert_eq!(stored[0].model, Some(("bkt".into(), 1)));
    assert!(stored[0].time > 1_600_000_000, "an absent time is the arrival time");
    assert_eq!(store.learners(t.id).await.unwrap(), ["ana"]);
    let page = store.answers_after(t.id, stored[0].seq, 10).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(store.append(t.id, Vec::new()).await.unwrap(), []);
}

async fn concurrent_appends_are_all_acknowledged_once(store: &Store) {
    let (t, _) = store.create_tenant(&unique("load")).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..40 {
        let s = store.clone();
        tasks.spawn(async move {
            let mut seqs = Vec::new();
            for r in 0..5 {
                // Every request also repeats one answer of the request before it.
                let learner = format!("l{}", c % 7);
                let mut batch: Vec<_> =
                    (0..6).map(|i| answer(&format!("c{c}-r{r}-{i}"), &learner, "q", i % 2 == 0)).collect();
                if r > 0 {
                    batch.push(answer(&format!("c{c}-r{}-0", r - 1), &learner, "q", true));
                }
                let got = s.append(t.id, batch).await.unwrap();
                assert_eq!(got.iter().filter(|a| matches!(a, Appended::New(_))).count(), 6);
                seqs.extend(got.iter().filter_map(|a| if let Appended::New(s) = a { Some(*s) } else { None }));
            }
            seqs
        });
    }
    let all: Vec<i64> = tasks.join_all().await.into_iter().flatten().collect();
    assert_eq!(all.len(), 40 * 5 * 6);
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len(), "a place in the log given twice");
    let mut total = 0;
    for l in 0..7 {
        total += store.count_answers(t.id, &format!("l{l}")).await.unwrap();
    }
    assert_eq!(total, 1200);
}

async fn tenants_do_not_see_each_other(store: &Store) {
    let (a, _) = store.create_tenant(&unique("a")).await.unwrap();
    let (b, _) = store.create_tenant(&unique("b")).await.unwrap();
    store.append(a.id, vec![answer("x1", "ana", "q1", true)]).await.unwrap();
    // The same client id in another tenant is another answer.
    assert!(matches!(store.append(b.id, vec![answer("x1", "bo", "q1", false)]).await.unwrap()[0], Appended::New(_)));
    assert!(store.answers_of(b.id, "ana").await.unwrap().is_empty());
    assert_eq!(store.learners(b.id).await.unwrap(), ["bo"]);
    assert_eq!(store.answers_after(b.id, 0, 100).await.unwrap().len(), 1);
    store.put_items(a.id, &[Item { item: "q1".into(), skills: vec!["s".into()] }]).await.unwrap();
    assert!(store.items(b.id).await.unwrap().is_empty());
    let v = store.add_model(a.id, "bkt", b"{}", &serde_json::json!({})).await.unwrap();
    assert!(matches!(store.serve_model(b.id, v).await, Err(Error::NotFound { .. })));
    assert!(matches!(store.model_file(b.id, v).await, Err(Error::NotFound { .. })));
    assert!(store.models(b.id).await.unwrap().is_empty());
}

async fn catalog_round_trips(store: &Store) {
    let (t, _) = store.create_tenant(&unique("catalog")).await.unwrap();
    let items = vec![
        Item { item: "q1".into(), skills: vec!["add".into()] },
        Item { item: "q2".into(), skills: vec!["add".into(), "carry".into()] },
    ];
    store.put_items(t.id, &items).await.unwrap();
    store.put_items(t.id, &[Item { item: "q1".into(), skills: vec!["sub".into()] }]).await.unwrap();
    let got = store.items(t.id).await.unwrap();
    assert_eq!(got[0].skills, ["sub"], "a re-imported item's skills are replaced");
    assert_eq!(got[1], items[1]);
    store.name_skills(t.id, &[("add".into(), "Addition".into())]).await.unwrap();
    let skills = store.skills(t.id).await.unwrap();
    assert_eq!(skills[0], ("add".into(), Some("Addition".into())));
    assert_eq!(skills.len(), 3);
    let edge = Prerequisite { skill: "carry".into(), requires: "add".into() };
    store.add_prerequisites(t.id, &[edge.clone(), edge.clone()]).await.unwrap();
    assert_eq!(store.prerequisites(t.id).await.unwrap(), [edge]);
    let self_loop = Prerequisite { skill: "add".into(), requires: "add".into() };
    assert!(matches!(store.add_prerequisites(t.id, &[self_loop]).await, Err(Error::Invalid { .. })));
    let bad = Item { item: "q\n".into(), skills: vec![] };
    assert!(matches!(store.put_items(t.id, &[items[0].clone(), bad]).await, Err(Error::Invalid { .. })));
    assert_eq!(store.items(t.id).await.unwrap()[0].skills, ["sub"], "a refused import changes nothing");
}

async fn registry_switches_and_rolls_back(store: &Store) {
    let (t, _) = store.create_tenant(&unique("models")).await.unwrap();
    assert_eq!(store.serving_model(t.id).await.unwrap(), None);
    let v1 = store.add_model(t.id, "bkt", b"one", &serde_json::json!({"auc": 0.7})).await.unwrap();
    let v2 = store.add_model(t.id, "irt1pl", b"two", &serde_json::json!({"auc": 0.75})).await.unwrap();
    assert_eq!((v1, v2), (1, 2));
    store.serve_model(t.id, v2).await.unwrap();
    assert_eq!(store.serving_model(t.id).await.unwrap(), Some((2, b"two".to_vec())));
    store.serve_model(t.id, v1).await.unwrap();
    assert_eq!(store.serving_model(t.id).await.unwrap(), Some((1, b"one".to_vec())));
    let list = store.models(t.id).await.unwrap();
    assert_eq!(list.iter().map(|m| (m.version, m.serving)).collect::<Vec<_>>(), [(1, true), (2, false)]);
    assert_eq!(list[1].metrics["auc"], 0.75);
    assert!(matches!(store.serve_model(t.id, 3).await, Err(Error::NotFound { .. })));
    assert_eq!(store.serving_model(t.id).await.unwrap().map(|m| m.0), Some(1), "a failed switch keeps the old");
    assert!(matches!(store.add_model(t.id, "bkt", b"", &serde_json::json!({})).await, Err(Error::Invalid { .. })));
    assert_eq!(store.model_file(t.id, 2).await.unwrap(), b"two");
}

/// Placeholders bind by position on both backends, a repeated one included.
async fn placeholders_bind_in_order(store: &Store) {
    let (t, _) = store.create_tenant(&unique("order")).await.unwrap();
    let mut a = answer("p1", "zoe", "item-z", false);
    a.time = Some(1_234_567_890);
    a.skills = vec!["k1".into(), "k2".into()];
    a.model = None;
    store.append(t.id, vec![a]).await.unwrap();
    let got = &store.answers_of(t.id, "zoe").await.unwrap()[0];
    assert_eq!((got.id.as_str(), got.item.as_str(), got.correct, got.time), ("p1", "item-z", false, 1_234_567_890));
    assert_eq!(got.skills, ["k1", "k2"]);
    assert_eq!(got.model, None);
}

/// A session moves one step per update; an update naming a stale step changes nothing, and
/// another tenant does not see the session.
async fn sessions_update_by_compare_and_set(store: &Store) {
    let (t, _) = store.create_tenant(&unique("sessions")).await.unwrap();
    let (other, _) = store.create_tenant(&unique("sessions")).await.unwrap();
    let body = serde_json::json!({"steps": []});
    store.create_session(t.id, "s1", "cat", Some("ana"), &body).await.unwrap();
    assert!(matches!(store.create_session(t.id, "s1", "cat", None, &body).await, Err(Error::Exists { .. })));
    let s = store.session(t.id, "cat", "s1").await.unwrap().unwrap();
    assert_eq!((s.steps, s.finished, s.learner.as_deref()), (0, false, Some("ana")));
    let next = serde_json::json!({"steps": [1]});
    assert!(store.update_session(t.id, "s1", 0, &next, false).await.unwrap());
    assert!(!store.update_session(t.id, "s1", 0, &serde_json::json!({"lost": true}), true).await.unwrap());
    let s = store.session(t.id, "cat", "s1").await.unwrap().unwrap();
    assert_eq!((s.steps, s.finished, s.body), (1, false, next));
    assert!(store.session(t.id, "tutoring", "s1").await.unwrap().is_none());
    assert!(store.session(other.id, "cat", "s1").await.unwrap().is_none());
    assert!(!store.update_session(other.id, "s1", 1, &body, true).await.unwrap());
}

/// A job runs through progress to an end; a cancel request reaches the runner through its
/// next progress write; stale unfinished jobs are failed.
async fn jobs_report_progress_and_take_a_cancel(store: &Store) {
    let (t, _) = store.create_tenant(&unique("jobs")).await.unwrap();
    let (other, _) = store.create_tenant(&unique("jobs")).await.unwrap();
    let spec = serde_json::json!({"model": "bkt"});
    store.create_job(t.id, "j1", "bkt", &spec, true).await.unwrap();
    assert_eq!(store.job(t.id, "j1").await.unwrap().unwrap().status, JobStatus::Queued);
    assert!(!store.job_progress(t.id, "j1", JobStatus::Running, "em", 3, 10).await.unwrap());
    let j = store.job(t.id, "j1").await.unwrap().unwrap();
    assert_eq!((j.status, j.stage.as_str(), j.done, j.total, j.spec), (JobStatus::Running, "em", 3, 10, spec.clone()));
    assert!(store.cancel_job(other.id, "j1").await.unwrap().is_none());
    assert!(
        !store.job_progress(t.id, "j1", JobStatus::Running, "em", 4, 10).await.unwrap(),
        "another tenant cancelled the job"
    );
    assert!(store.cancel_job(t.id, "j1").await.unwrap().unwrap().cancel);
    assert!(store.job_progress(t.id, "j1", JobStatus::Running, "em", 5, 10).await.unwrap());
    store.finish_job(t.id, "j1", JobStatus::Cancelled, Some("cancelled"), None).await.unwrap();
    // A finished job takes no progress and reads as cancelled.
    assert!(store.job_progress(t.id, "j1", JobStatus::Running, "em", 6, 10).await.unwrap());
    assert_eq!(store.job(t.id, "j1").await.unwrap().unwrap().done, 5);
    store.create_job(t.id, "j2", "irt1pl", &spec, false).await.unwrap();
    store.finish_job(t.id, "j2", JobStatus::Succeeded, None, Some(3)).await.unwrap();
    let jobs = store.jobs(t.id, 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(store.job(t.id, "j2").await.unwrap().unwrap().version, Some(3));
    assert!(store.jobs(other.id, 10).await.unwrap().is_empty());
    store.create_job(t.id, "j3", "bkt", &spec, false).await.unwrap();
    store.fail_stale_jobs(Some(t.id), -10).await.unwrap();
    assert_eq!(store.job(t.id, "j3").await.unwrap().unwrap().status, JobStatus::Failed);
    assert_eq!(store.job(t.id, "j2").await.unwrap().unwrap().status, JobStatus::Succeeded);
}

/// A store reopened on the same file has every acknowledged answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_answers_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attune.db");
    let path = path.to_str().unwrap();
    let store = Store::open(path).await.unwrap();
    let (t, key) = store.create_tenant("reopen").await.unwrap();
    store.append(t.id, (0..50).map(|i| answer(&format!("r{i}"), "ana", "q", i % 3 == 0)).collect()).await.unwrap();
    store.close().await;
    let store = Store::open(path).await.unwrap();
    assert_eq!(store.count_answers(t.id, "ana").await.unwrap(), 50);
    assert!(store.authenticate(&key.token()).await.unwrap().is_some());
}

/// An edited row is an error naming the column, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attune.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let (t, _) = store.create_tenant("edited").await.unwrap();
    store.append(t.id, vec![answer("e1", "ana", "q", true)]).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::query("UPDATE answers SET skills = 'not json'").execute(&pool).await.unwrap();
    let err = store.answers_of(t.id, "ana").await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { field: "answers.skills", .. }), "{err}");
}

/// The two migrations define the same tables with the same columns in the same order.
#[test]
fn both_backends_have_the_same_schema() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let schema = |backend: &str| -> Vec<(String, Vec<String>)> {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(backend)).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        let mut tables = Vec::new();
        for path in names {
            let sql = std::fs::read_to_string(path).unwrap();
            for block in sql.split("CREATE TABLE ").skip(1) {
                let (name, body) = block.split_once('(').unwrap();
                let body = &body[..body.find(");").unwrap()];
                let columns = body
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with("PRIMARY KEY") && !l.starts_with("UNIQUE"))
                    .map(|l| l.split_whitespace().next().unwrap().to_owned())
                    .collect();
                tables.push((name.trim().to_owned(), columns));
            }
        }
        tables
    };
    let (s, p) = (schema("sqlite"), schema("postgres"));
    assert!(s.len() >= 8, "{s:?}");
    assert_eq!(s, p);
}
