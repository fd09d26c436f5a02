//! The dashboard in a real browser: headless Chromium driven through chromedriver
//! (fantoccini), against a server with the demo tenant (the bundled ASSIST2009 class).
//! Signs in through the form, opens every page, checks the heat map's cells and the skill
//! coverage against the API, follows a learner link, starts a training job and watches its
//! progress bar move, cancels it, trains another and switches the serving version to it,
//! and sees another tenant's learner refused. With `ATTUNE_SCREENSHOTS=<dir>` it saves a
//! screenshot of each page there (docs/screenshots holds the committed ones).
//!
//! Needs Debian's `chromium` and `chromium-driver` (CI installs them and sets
//! `ATTUNE_REQUIRE_BROWSER=1`, so that a missing browser fails instead of skipping).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// chromedriver on a free port, stopped when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(program: &str, paths: &[&str]) -> Option<String> {
    let from_env = std::env::var(format!("ATTUNE_{}", program.to_uppercase())).ok();
    from_env.into_iter().chain(paths.iter().map(|p| (*p).to_owned())).find(|p| std::path::Path::new(p).exists())
}

fn driver() -> Option<(Driver, String)> {
    let required = std::env::var("ATTUNE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(chromedriver), Some(chromium)) = (
        find("chromedriver", &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        find("chromium", &["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]),
    ) else {
        assert!(!required, "ATTUNE_REQUIRE_BROWSER=1 but chromium or chromedriver is missing");
        eprintln!("skipped: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((Driver(child, port), chromium))
}

async fn browser(driver: &Driver, chromium: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1366,900", "--hide-scrollbars"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .unwrap()
}

/// Waits until `script` returns true (polling), failing after `secs`.
async fn wait_for(c: &Client, script: &str, secs: u64, what: &str) {
    let started = Instant::now();
    loop {
        if c.execute(script, vec![]).await.unwrap() == Value::Bool(true) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(secs), "waited {secs} s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A full-page screenshot at `width` (the window grown to the page, up to 3,600 px).
async fn screenshot(c: &Client, name: &str, width: u32) {
    let Ok(dir) = std::env::var("ATTUNE_SCREENSHOTS") else { return };
    c.execute("document.activeElement && document.activeElement.blur()", vec![]).await.unwrap();
    c.set_window_size(width, 900).await.unwrap();
    let height = c.execute("return document.documentElement.scrollHeight", vec![]).await.unwrap();
    let height = height.as_u64().unwrap_or(900).clamp(600, 3600) as u32;
    c.set_window_size(width, height).await.unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    c.set_window_size(1366, 900).await.unwrap();
}

async fn h1(c: &Client) -> String {
    c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap()
}

#[test]
fn the_dashboard_in_chromium() {
    let Some((driver, chromium)) = driver() else { return };
    let s = start(None, true);
    let demo = s.demo.as_ref().unwrap();
    let key = demo.key.token();
    let api = |path: &str| call("GET", &format!("{}{path}", s.url), Some(&key), None).1;

    // Prerequisites for the items page, and a second tenant with a learner of its own.
    let skills: Vec<String> = api("/v1/analytics/mastery")["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["skill"].as_str().unwrap().to_owned())
        .take(6)
        .collect();
    let edges: Vec<Value> = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (3, 5)]
        .iter()
        .map(|&(a, b)| json!({"skill": skills[b], "requires": skills[a]}))
        .collect();
    let (status, _) =
        call("POST", &format!("{}/v1/prerequisites", s.url), Some(&key), Some(&Value::Array(edges).to_string()));
    assert_eq!(status, 200);
    let (_, other_key) = tenant(&s, &fitted(attune_models::ModelName::Bkt));
    let body = json!([answer("x1", "outsider", "q1", true), answer("x2", "outsider", "q2", false)]).to_string();
    assert_eq!(call("POST", &format!("{}/v1/answers", s.url), Some(&other_key.token()), Some(&body)).0, 200);

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let c = browser(&driver, &chromium).await;
        let page = |p: &str| format!("{}{p}", s.url);

        // Signing in through the form lands on the page asked for.
        c.goto(&page("/dashboard")).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/dashboard/sign-in");
        screenshot(&c, "sign-in", 1366).await;
        c.find(Locator::Css("#key")).await.unwrap().send_keys(&key).await.unwrap();
        c.find(Locator::Css(".sign-in button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_for(&c, "return location.pathname === '/dashboard' && !!document.querySelector('#heat-map svg')", 60, "the overview")
            .await;
        assert_eq!(h1(&c).await, "Class overview");
        let cookies = c.execute("return document.cookie", vec![]).await.unwrap();
        assert_eq!(cookies, json!(""), "the session cookie is HttpOnly");

        // Keyboard: the first Tab reaches the skip link.
        c.find(Locator::Css("body")).await.unwrap().send_keys("\u{E004}").await.unwrap();
        let focused = c.execute("return document.activeElement.textContent", vec![]).await.unwrap();
        assert_eq!(focused, json!("Skip to content"));

        // Every cell of the first columns equals the learner's state in the API.
        let columns = c
            .execute(
                "return [...document.querySelectorAll('#heat-map g[data-learner]')].slice(0, 8).map(g => ({
                    learner: g.dataset.learner,
                    cells: [...g.querySelectorAll('rect[data-mastery]')]
                        .map(r => [r.dataset.skill, parseFloat(r.dataset.mastery)])}))",
                vec![],
            )
            .await
            .unwrap();
        let columns = columns.as_array().unwrap();
        assert_eq!(columns.len(), 8);
        let mut checked = 0;
        for col in columns {
            let learner = col["learner"].as_str().unwrap();
            let state = api(&format!("/v1/learners/{}/state", learner.replace('#', "%23")));
            for cell in col["cells"].as_array().unwrap() {
                let (skill, shown) = (cell[0].as_str().unwrap(), cell[1].as_f64().unwrap());
                let want = state["mastery"][skill].as_f64().unwrap_or(f64::NAN);
                assert!((shown - want).abs() < 1e-4, "{learner} on {skill}: heat map {shown}, API {want}");
                checked += 1;
            }
        }
        assert!(checked >= 8, "only {checked} cells checked");
        // The coverage table's means are the API's class mastery.
        let shown = c
            .execute(
                "return Object.fromEntries([...document.querySelectorAll('#coverage-table tr[data-skill]')]
                    .map(r => [r.dataset.skill, parseFloat(r.querySelector('[data-field=mean]').textContent)]))",
                vec![],
            )
            .await
            .unwrap();
        let class = api("/v1/analytics/mastery");
        let per_skill = class["skills"].as_array().unwrap();
        assert_eq!(shown.as_object().unwrap().len(), per_skill.len());
        for k in per_skill {
            let id = k["skill"].as_str().unwrap();
            assert!((shown[id].as_f64().unwrap() - k["mean_mastery"].as_f64().unwrap()).abs() < 6e-4, "{id}");
        }
        screenshot(&c, "class", 1366).await;
        screenshot(&c, "class-tablet", 820).await;

        // A learner's name in the heat map opens their page (the most active learner's).
        c.find(Locator::Css("#sort")).await.unwrap().select_by_value("answers").await.unwrap();
        c.find(Locator::Css("form.pager button")).await.unwrap().click().await.unwrap();
        wait_for(&c, "return location.search.includes('sort=answers')", 30, "the reordered map").await;
        let first = c.find(Locator::Css("#heat-map g[data-learner]")).await.unwrap().attr("data-learner").await.unwrap().unwrap();
        c.find(Locator::Css("#heat-map a")).await.unwrap().click().await.unwrap();
        wait_for(&c, "return !!document.querySelector('#learner-id')", 30, "the learner page").await;
        assert_eq!(c.find(Locator::Css("#learner-id")).await.unwrap().text().await.unwrap(), first);
        let recent = c.find_all(Locator::Css("#recent-table tbody tr")).await.unwrap().len();
        assert!(recent > 0, "recent answers are listed");
        assert!(!c.find_all(Locator::Css("#recommendations li")).await.unwrap().is_empty());
        screenshot(&c, "learner", 1366).await;

        // Items and skills, through the navigation.
        c.find(Locator::LinkText("Items & skills")).await.unwrap().click().await.unwrap();
        wait_for(&c, "return !!document.querySelector('#items-table')", 60, "the items page").await;
        let row = c
            .execute(
                "const c = document.querySelector('#items-table tbody tr').cells; return [c[0].textContent, parseFloat(c[3].textContent)]",
                vec![],
            )
            .await
            .unwrap();
        let items = api("/v1/analytics/items");
        let item = items["items"].as_array().unwrap().iter().find(|i| i["item"] == row[0]).unwrap();
        assert!((item["difficulty"].as_f64().unwrap() - row[1].as_f64().unwrap()).abs() < 0.006);
        assert!(c.find(Locator::Css("svg.prereq-graph")).await.is_ok(), "the prerequisite graph is drawn");
        screenshot(&c, "items", 1366).await;

        // A training job: its progress bar moves, then it is cancelled.
        c.goto(&page("/dashboard/models")).await.unwrap();
        let versions_before = api("/v1/models").as_array().unwrap().len();
        c.find(Locator::Css("#model")).await.unwrap().select_by_value("dkt").await.unwrap();
        c.find(Locator::Css("#new-job button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_for(
            &c,
            "const r = document.querySelector('#jobs-table tbody tr'); return !!r && r.dataset.status === 'running'
                && r.querySelector('progress').value > 0",
            120,
            "the job's progress",
        )
        .await;
        let job = c.find(Locator::Css("#jobs-table tbody tr")).await.unwrap().attr("data-job").await.unwrap().unwrap();
        let seen = c.execute("return document.querySelector('#jobs-table progress').value", vec![]).await.unwrap();
        wait_for(
            &c,
            &format!("return document.querySelector('#jobs-table progress').value > {}", seen.as_f64().unwrap()),
            120,
            "the progress bar to move",
        )
        .await;
        screenshot(&c, "models-training", 1366).await;
        c.find(Locator::Css(&format!("form[action='/dashboard/jobs/{job}/cancel'] button"))).await.unwrap().click().await.unwrap();
        wait_for(
            &c,
            &format!("const r = document.querySelector(\"tr[data-job='{job}']\"); return !!r && r.dataset.status === 'cancelled'"),
            120,
            "the cancel",
        )
        .await;
        assert_eq!(api(&format!("/v1/jobs/{job}"))["status"], "cancelled");

        // Another job succeeds; switching to its version makes it serve.
        c.goto(&page("/dashboard/models")).await.unwrap();
        c.find(Locator::Css("#model")).await.unwrap().select_by_value("bkt").await.unwrap();
        c.find(Locator::Css("#new-job button[type=submit]")).await.unwrap().click().await.unwrap();
        let version = versions_before as i64 + 1;
        wait_for(
            &c,
            &format!("return !!document.querySelector(\"#registry-table tr[data-version='{version}'] button\")"),
            180,
            "the new version",
        )
        .await;
        c.find(Locator::Css(&format!("#registry-table tr[data-version='{version}'] button")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(
            &c,
            &format!("return !!document.querySelector(\"#registry-table tr[data-version='{version}'] .badge.serving\")"),
            60,
            "the switch",
        )
        .await;
        let serving: Vec<i64> = api("/v1/models")
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["serving"] == true)
            .map(|m| m["version"].as_i64().unwrap())
            .collect();
        assert_eq!(serving, vec![version]);
        screenshot(&c, "models", 1366).await;

        // Another tenant's learner is not found here.
        c.goto(&page("/dashboard/learners/outsider")).await.unwrap();
        assert_eq!(h1(&c).await, "Not Found");
        let text = c.find(Locator::Css(".error")).await.unwrap().text().await.unwrap();
        assert!(text.contains("outsider"), "{text}");

        // Signing out ends the session.
        c.goto(&page("/dashboard")).await.unwrap();
        c.find(Locator::Css("button.link")).await.unwrap().click().await.unwrap();
        wait_for(&c, "return location.pathname === '/dashboard/sign-in'", 30, "the sign-out").await;
        c.goto(&page("/dashboard/models")).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/dashboard/sign-in");
        c.close().await.unwrap();
    });
}
