//! The `attune` binary, run as a user runs it.

#![allow(clippy::unwrap_used)]

mod cold_start;
mod durability;
mod models;
mod tenant;

use std::path::PathBuf;
use std::process::{Command, Output};

pub(crate) fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data").join(name)
}

pub(crate) fn attune(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attune")).args(args).env("RUST_BACKTRACE", "0").output().expect("runs")
}

pub(crate) fn read_json(path: impl AsRef<std::path::Path>) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn eval_writes_the_json_contract_and_the_config_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("res/bkt.json");
    let dataset = data("assist2009_updated");
    let o = attune(&[
        "eval",
        "--protocol",
        "e1",
        "--dataset",
        dataset.to_str().unwrap(),
        "--model",
        "bkt",
        "--json",
        json.to_str().unwrap(),
        "--seed",
        "7",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("bkt"), "table printed: {}", text(&o));
    let v = read_json(&json);
    for key in [
        "protocol",
        "dataset",
        "model",
        "auc",
        "accuracy",
        "rmse",
        "log_loss",
        "fit_seconds",
        "predict_seconds",
        "n_test",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["protocol"], "e1");
    assert_eq!(v["dataset"], "assist2009_updated");
    assert_eq!(v["n_test"], 101_419);
    assert_eq!(v["seed"], 7);
    let auc = v["auc"].as_f64().unwrap();
    assert!((0.70..0.73).contains(&auc), "auc {auc}");
    let cfg = read_json(dir.path().join("res/bkt.config.json"));
    assert_eq!(cfg["config"]["restarts"], 5);
    assert_eq!(cfg["config"]["seed"], 7);
}

#[test]
fn e3_reports_the_mean_and_sd_over_five_folds() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("elo.json");
    let dataset = data("akt_statics");
    let o = attune(&[
        "eval",
        "--protocol",
        "e3",
        "--dataset",
        dataset.to_str().unwrap(),
        "--model",
        "elo",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v = read_json(&json);
    assert_eq!(v["folds"].as_array().unwrap().len(), 5);
    let sd = v["auc_sd"].as_f64().unwrap();
    assert!(sd > 0.0 && sd < 0.05, "sd {sd}");

    // --fold runs a subset, with the same numbers as in the full run.
    let some = dir.path().join("elo-2-4.json");
    let (d, s) = (dataset.to_str().unwrap(), some.to_str().unwrap());
    let args = ["eval", "--protocol", "e3", "--dataset", d, "--model", "elo", "--fold", "2", "--fold", "4"];
    let o = attune(&[&args[..], &["--json", s]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let w = read_json(&some);
    let names: Vec<&str> = w["folds"].as_array().unwrap().iter().map(|f| f["fold"].as_str().unwrap()).collect();
    assert_eq!(names, ["fold 2", "fold 4"]);
    assert_eq!(w["folds"][1]["auc"], v["folds"][3]["auc"]);
    let o = attune(&["eval", "--protocol", "e3", "--dataset", d, "--model", "elo", "--fold", "6"]);
    assert!(!o.status.success() && text(&o).contains("folds 1 to 5"), "{}", text(&o));
}

#[test]
fn datasets_lists_what_is_vendored() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let o = attune(&["datasets", "--root", root.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for name in ["assist2009_updated", "STATICS", "synthetic", "lpp_statics", "akt_statics"] {
        assert!(out.contains(name), "{name} missing: {out}");
    }
    assert!(out.contains("325637"), "ASSIST2009 interactions: {out}");
    assert!(out.contains("junyi_Exercise_table.csv.gz"), "the prerequisite table: {out}");
}

#[test]
fn bad_input_fails_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x_train.csv"), "2\n3,4\n1,0\n").unwrap();
    std::fs::write(dir.path().join("x_test.csv"), "2\n3,4\n1,7\n").unwrap();
    let o = attune(&["eval", "--protocol", "e1", "--dataset", dir.path().to_str().unwrap(), "--model", "bkt"]);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("x_test.csv:3: field answer 2 = \"7\": 0 or 1"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn usage_errors_are_explained() {
    let dataset = data("assist2009_updated");
    let d = dataset.to_str().unwrap();
    let o = attune(&["eval", "--protocol", "e9", "--dataset", d, "--model", "bkt"]);
    assert!(!o.status.success() && text(&o).contains("unknown protocol"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e1", "--dataset", d, "--model", "lstm-9000"]);
    assert!(!o.status.success() && text(&o).contains("unknown model \"lstm-9000\""), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e1", "--dataset", d, "--model", "bkt", "--set", "l2=1"]);
    assert!(!o.status.success() && text(&o).contains("no such hyperparameter"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e2", "--dataset", d, "--model", "bkt"]);
    assert!(!o.status.success() && text(&o).contains("needs a Gervet folder"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e1", "--dataset", "/no/such/folder", "--model", "bkt"]);
    assert!(!o.status.success() && text(&o).contains("/no/such/folder"), "{}", text(&o));
}

#[test]
fn inspect_reads_any_csv_through_a_column_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("log.tsv");
    std::fs::write(
        &f,
        "learner\tq\tkcs\tok\tt\nann\tq1\tadd~~sub\t1\t20\nann\tq2\tadd\t0\t10\nbob\tq1\tadd~~sub\t1\t5\n",
    )
    .unwrap();
    let o = attune(&[
        "inspect",
        f.to_str().unwrap(),
        "--format",
        "csv",
        "--student",
        "learner",
        "--item",
        "q",
        "--skill",
        "kcs",
        "--skill-separator",
        "~~",
        "--correct",
        "ok",
        "--time",
        "t",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for line in
        ["learners        2", "interactions    3", "items           2", "skills          2", "multi-skill     2"]
    {
        assert!(out.contains(line), "{line:?} not in {out}");
    }
    let o = attune(&["inspect", f.to_str().unwrap(), "--format", "csv", "--student", "who", "--item", "q"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no column \"who\" in header (columns: learner, q, kcs, ok, t)"), "{}", text(&o));
}

#[test]
fn inspect_reports_non_utf8_bytes_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.csv");
    std::fs::write(&f, b"user_id,skill_name,correct\na,s,1\nb,\xff\xfe,0\n").unwrap();
    let o = attune(&["inspect", f.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("bad.csv:3: not valid UTF-8"), "{}", text(&o));
}

#[test]
fn report_writes_a_self_contained_page_with_tables() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = data("STATICS");
    let out = dir.path().join("report");
    let o = attune(&["report", "--dataset", dataset.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("STATICS: 333 learners, 189297 answers"), "{}", text(&o));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("At-risk learners"));
    for table in ["learners", "skills", "items", "learning_curves", "mastery", "at_risk", "trajectories"] {
        for ext in ["csv", "json"] {
            assert!(out.join("tables").join(format!("{table}.{ext}")).is_file(), "{table}.{ext}");
        }
    }
    let o =
        attune(&["report", "--dataset", dataset.to_str().unwrap(), "--out", out.to_str().unwrap(), "--model", "nope"]);
    assert!(!o.status.success() && text(&o).contains("unknown model"), "{}", text(&o));
}

#[test]
fn cat_writes_rmse_per_step_and_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let mut rmse20 = Vec::new();
    for selector in ["random", "mfi"] {
        let json = dir.path().join(format!("{selector}.json"));
        let o = attune(&[
            "cat",
            "--bank",
            "2pl",
            "--items",
            "300",
            "--examinees",
            "300",
            "--length",
            "20",
            "--selector",
            selector,
            "--seed",
            "3",
            "--json",
            json.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let v = read_json(&json);
        for key in ["selector", "rmse_at", "bias_at", "max_exposure", "mean_overlap"] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["rmse_at"].as_object().unwrap().len(), 20);
        rmse20.push(v["rmse_at"]["20"].as_f64().unwrap());
    }
    assert!(rmse20[1] < 0.75 * rmse20[0], "{rmse20:?}");
    let o = attune(&["cat", "--items", "10", "--length", "20"]);
    assert!(!o.status.success() && text(&o).contains("exceeds the bank"), "{}", text(&o));
}

#[test]
fn practice_hits_the_target_success_rate() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("p.json");
    let o =
        attune(&["practice", "--learners", "300", "--target", "0.7", "--seed", "2", "--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let v = read_json(&json);
    let observed = v["observed_success"].as_f64().unwrap();
    assert!((observed - 0.7).abs() <= 0.05, "{observed}");
    let o = attune(&["practice", "--target", "1.5"]);
    assert!(!o.status.success() && text(&o).contains("--target"), "{}", text(&o));
}

#[test]
fn simulate_writes_the_e6_contract() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("e6.json");
    let o = attune(&[
        "simulate",
        "--env",
        "kss",
        "--policy",
        "lookahead",
        "--episodes",
        "50",
        "--seed",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v = read_json(&json);
    for key in ["env", "policy", "episodes", "seed", "ep_mean", "ep_sd"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        (v["env"].as_str(), v["policy"].as_str(), v["episodes"].as_u64()),
        (Some("kss"), Some("lookahead"), Some(50))
    );
    let o = attune(&["simulate", "--env", "dkt", "--policy", "greedy"]);
    assert!(!o.status.success() && text(&o).contains("--dkt-model"), "{}", text(&o));
    let o = attune(&["simulate", "--env", "xyz", "--policy", "greedy"]);
    assert!(!o.status.success() && text(&o).contains("unknown environment"), "{}", text(&o));
}

#[test]
fn prerequisites_reports_the_dropped_edges_of_junyi() {
    let junyi = data("junyi/junyi_Exercise_table.csv.gz");
    let o = attune(&["prerequisites", "--junyi", junyi.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("978 edges kept, 10 dropped"), "{out}");
    assert!(out.contains("(SelfLoop)") && out.contains("(Cycle)"), "{out}");
    let o = attune(&["prerequisites", "--dataset", data("assist2009_updated").to_str().unwrap()]);
    assert!(o.status.success() && text(&o).contains("estimated"), "{}", text(&o));
}

#[test]
fn dkt_evaluates_under_the_same_contract() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("dkt.json");
    let dataset = data("synthetic");
    let o = attune(&[
        "eval",
        "--protocol",
        "e1",
        "--dataset",
        dataset.to_str().unwrap(),
        "--model",
        "dkt",
        "--set",
        "max_epochs=2",
        "--set",
        "hidden=16",
        "--set",
        "embedding=16",
        "--json",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v = read_json(&json);
    assert_eq!(v["model"], "dkt");
    assert!(v["auc"].as_f64().unwrap() > 0.6);
    let cfg = read_json(dir.path().join("dkt.config.json"));
    assert_eq!(cfg["config"]["hidden"], 16);
    let o = attune(&[
        "eval",
        "--protocol",
        "e1",
        "--dataset",
        dataset.to_str().unwrap(),
        "--model",
        "dkt",
        "--set",
        "hidden=0",
    ]);
    assert!(!o.status.success() && text(&o).contains("hidden = 0: outside the valid range"), "{}", text(&o));
}

#[test]
fn akt_evaluates_under_the_same_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (json, saved) = (dir.path().join("akt.json"), dir.path().join("akt-model.json"));
    let dataset = data("synthetic");
    let small = ["embedding=16", "heads=4", "ff=16", "fc=[16,8]", "max_epochs=2", "learning_rate=3e-3"];
    let mut args = vec!["eval", "--protocol", "e1", "--dataset", dataset.to_str().unwrap(), "--model", "akt"];
    for s in &small {
        args.extend(["--set", s]);
    }
    args.extend(["--json", json.to_str().unwrap(), "--save-model", saved.to_str().unwrap(), "--quiet"]);
    let o = attune(&args);
    assert!(o.status.success(), "{}", text(&o));
    let v = read_json(&json);
    assert_eq!(v["model"], "akt");
    assert!(v["auc"].as_f64().unwrap() > 0.6, "AUC {}", v["auc"]);
    let cfg = read_json(dir.path().join("akt.config.json"));
    assert_eq!(cfg["config"]["fc"], serde_json::json!([16, 8]));
    assert_eq!(read_json(&saved)["model"], "akt");
    let o = attune(&[
        "eval",
        "--protocol",
        "e1",
        "--dataset",
        dataset.to_str().unwrap(),
        "--model",
        "akt",
        "--set",
        "heads=3",
    ]);
    assert!(!o.status.success() && text(&o).contains("invalid embedding/heads"), "{}", text(&o));
}
