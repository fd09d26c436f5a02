//! The dashboard over real HTTP: sign-in and its cookie, sign-out, pages only for a signed-in
//! viewer and only with the viewer's tenant, the heat map's cells equal to the API's learner
//! states, form tokens, scopes, and the session cookie taking no part in API writes.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use attune_models::ModelName;
use attune_store::Scopes;
use common::*;
use serde_json::Value;

/// A request that does not follow redirects: status, headers, body.
fn page(method: &str, url: &str, cookie: Option<&str>, form: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    let a: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let cookie = cookie.map(|c| format!("attune_session={c}"));
    let mut resp = if method == "GET" {
        let mut r = a.get(url);
        if let Some(c) = &cookie {
            r = r.header("Cookie", c);
        }
        r.call().unwrap()
    } else {
        let mut r = a.post(url);
        if let Some(c) = &cookie {
            r = r.header("Cookie", c);
        }
        r.content_type("application/x-www-form-urlencoded").send(form.unwrap_or("")).unwrap()
    };
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    (status, headers, resp.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Signs in with `key`: the session token from the cookie.
fn sign_in(s: &Server, key: &str) -> String {
    let (status, headers, _) =
        page("POST", &format!("{}/dashboard/sign-in", s.url), None, Some(&format!("key={}", enc(key))));
    assert_eq!(status, 303);
    let cookie = header(&headers, "set-cookie").unwrap();
    cookie.split(';').next().unwrap().strip_prefix("attune_session=").unwrap().to_owned()
}

/// The form token of a page.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..at + 32].to_owned()
}

/// The posted answers of the repository's population, under `prefix`.
fn post_population(s: &Server, key: &str, prefix: &str, learners: usize) {
    let data = population();
    let v = data.vocab();
    let mut batch = Vec::new();
    for (k, rows) in data.learners().enumerate().take(learners) {
        for (j, i) in data.interactions(rows).enumerate() {
            let name = format!("{prefix}{k}");
            let item = v.items.name(i.item.0).unwrap();
            batch.push(answer(&format!("{name}-{j}"), &name, item, i.correct));
        }
    }
    let (status, _) = call("POST", &format!("{}/v1/answers", s.url), Some(key), Some(&Value::Array(batch).to_string()));
    assert_eq!(status, 200);
}

fn pages_need_a_session_and_show_one_tenant(s: &Server) {
    let model = fitted(ModelName::Bkt);
    let (t, key) = tenant(s, &model);
    let (_, other_key) = tenant(s, &model);
    post_population(s, &key.token(), "ann", 12);
    post_population(s, &other_key.token(), "bob", 3);
    let url = |p: &str| format!("{}{p}", s.url);

    // Without a session every page leads to the sign-in, remembering where it was going.
    let (status, headers, _) = page("GET", &url("/dashboard/items?skill=s1"), None, None);
    assert_eq!(status, 303);
    assert_eq!(header(&headers, "location"), Some("/dashboard/sign-in?next=%2Fdashboard%2Fitems%3Fskill%3Ds1"));
    assert_eq!(page("GET", &url("/dashboard"), Some(&"0".repeat(64)), None).0, 303, "an unknown session");
    let (status, _, html) = page("GET", &url("/dashboard/sign-in?next=%2Fdashboard%2Fitems"), None, None);
    assert_eq!(status, 200);
    assert!(html.contains("name=\"next\" value=\"/dashboard/items\""));

    // A wrong key is refused on the page; a right one sets an HttpOnly, SameSite cookie.
    let (status, headers, html) = page("POST", &url("/dashboard/sign-in"), None, Some("key=abc.def"));
    assert_eq!(status, 401);
    assert!(html.contains("unknown or revoked") && header(&headers, "set-cookie").is_none());
    let form = format!("key={}&next={}", enc(&key.token()), enc("/dashboard/models"));
    let (status, headers, _) = page("POST", &url("/dashboard/sign-in"), None, Some(&form));
    assert_eq!(status, 303);
    assert_eq!(header(&headers, "location"), Some("/dashboard/models"));
    let cookie = header(&headers, "set-cookie").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let form = format!("key={}&next={}", enc(&key.token()), enc("https://elsewhere.example/"));
    assert_eq!(header(&page("POST", &url("/dashboard/sign-in"), None, Some(&form)).1, "location"), Some("/dashboard"));
    let session = sign_in(s, &key.token());

    // The overview: this tenant's learners only, each heat-map cell the learner's state.
    let (status, _, html) = page("GET", &url("/dashboard?sort=name"), Some(&session), None);
    assert_eq!(status, 200);
    assert!(html.contains("data-learner=\"ann0\"") && !html.contains("bob0"));
    let column = &html[html.find("<g data-learner=\"ann3\">").unwrap()..];
    let column = &column[..column.find("</g>").unwrap()];
    let (_, state) = call("GET", &url("/v1/learners/ann3/state"), Some(&key.token()), None);
    let mut cells = 0;
    for cell in column.split("<rect ").skip(1) {
        let attr = |name: &str| {
            let at = cell.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            cell[at..at + cell[at..].find('"').unwrap()].to_owned()
        };
        if cell.contains("data-background") {
            continue;
        }
        let (skill, shown) = (attr("data-skill"), attr("data-mastery"));
        let api = state["mastery"][&skill].as_f64().unwrap();
        assert!((shown.parse::<f64>().unwrap() - api).abs() < 1e-4, "{skill}: heat map {shown}, API {api}");
        cells += 1;
    }
    assert!(cells >= 3, "ann3's practised skills are on the map");

    // A learner of this tenant opens; another tenant's learner is not found.
    let (status, _, html) = page("GET", &url("/dashboard/learners/ann1"), Some(&session), None);
    assert_eq!(status, 200);
    assert!(html.contains("Recent answers") && html.contains("What to practise next"));
    let (status, _, html) = page("GET", &url("/dashboard/learners/bob0"), Some(&session), None);
    assert_eq!(status, 404);
    assert!(html.contains("bob0") && !html.contains("Recent answers"));
    let (status, _, html) = page("GET", &url("/dashboard/items"), Some(&session), None);
    assert_eq!(status, 200);
    assert!(html.contains("needs a registered irt2pl"), "without an IRT version the page says how to get one");

    // The cookie reads the API but writes nothing there.
    assert_eq!(page("GET", &url("/v1/models"), Some(&session), None).0, 200);
    assert_eq!(page("POST", &url("/v1/models/1/serve"), Some(&session), None).0, 401);

    // Forms need the session's token.
    let (status, _, html) = page("GET", &url("/dashboard/models"), Some(&session), None);
    assert_eq!(status, 200);
    let token = csrf(&html);
    let v2 = s.rt.block_on(s.app.store().add_model(t, "bkt", &model.to_json(), &serde_json::json!({}))).unwrap();
    let serve = url(&format!("/dashboard/models/{v2}/serve"));
    assert_eq!(page("POST", &serve, Some(&session), Some("csrf=00000000000000000000000000000000")).0, 403);
    assert_eq!(page("POST", &serve, Some(&session), None).0, 422, "a form without its token");
    let serving = |k: &str| {
        let (_, models) = call("GET", &url("/v1/models"), Some(k), None);
        models.as_array().unwrap().iter().find(|m| m["serving"] == true).map(|m| m["version"].as_i64().unwrap())
    };
    assert_eq!(serving(&key.token()), Some(v2 - 1), "a refused form changed nothing");
    let (status, headers, _) = page("POST", &serve, Some(&session), Some(&format!("csrf={token}")));
    assert_eq!((status, header(&headers, "location")), (303, Some("/dashboard/models")));
    assert_eq!(serving(&key.token()), Some(v2));

    // A read-only key sees the pages but cannot switch versions.
    let reader = s.rt.block_on(s.app.store().create_key(t, Scopes::READ)).unwrap();
    let read_session = sign_in(s, &reader.token());
    let (_, _, html) = page("GET", &url("/dashboard/models"), Some(&read_session), None);
    assert!(!html.contains("/serve\"") && html.contains("admin key needed"));
    let back = url(&format!("/dashboard/models/{}/serve", v2 - 1));
    let (status, _, html) = page("POST", &back, Some(&read_session), Some(&format!("csrf={}", csrf(&html))));
    assert_eq!(status, 403);
    assert!(html.contains("insufficient_scope"));

    // Signing out clears the cookie and ends the session.
    let (status, headers, _) =
        page("POST", &url("/dashboard/sign-out"), Some(&session), Some(&format!("csrf={token}")));
    assert_eq!(status, 303);
    assert!(header(&headers, "set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(page("GET", &url("/dashboard"), Some(&session), None).0, 303);
}

on_both!(pages_need_a_session_and_show_one_tenant);
