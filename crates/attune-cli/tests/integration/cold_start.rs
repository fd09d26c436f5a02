//! `attune eval --protocol e4|e5`: the JSON contract, a single log file as the dataset, and
//! clear errors for names that are not built or do not fit together.

use crate::{attune, data, read_json, text};

#[test]
fn e4_writes_the_contract_keys_by_test_length() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("e4.json");
    let d = data("akt_statics");
    let o = attune(&[
        "eval",
        "--protocol",
        "e4",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "irt-active",
        "--draws",
        "1",
        "--fold",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = read_json(&json);
    for key in ["auc_at", "accuracy_at"] {
        let at = r[key].as_object().unwrap();
        assert_eq!(at.keys().map(String::as_str).collect::<Vec<_>>(), ["1", "10", "3", "5"], "{key}");
    }
    assert!(r["max_exposure"].as_f64().unwrap() > 0.0 && r["mean_overlap"].as_f64().is_some());
    assert_eq!(r["folds"].as_array().unwrap().len(), 1);
    assert_eq!(r["model"], "irt-active");
    assert!(dir.path().join("e4.config.json").exists());
    // Other test lengths, in any order (a length past a pool asks the whole pool: a unit test
    // of attune-meta's e4).
    let args = ["eval", "--protocol", "e4", "--dataset", d.to_str().unwrap(), "--draws", "1", "--fold", "2"];
    let o = attune(
        &[&args[..], &["--model", "irt-random", "--steps", "20,1,20", "--json", json.to_str().unwrap()]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let at = read_json(&json)["auc_at"].clone();
    assert_eq!(at.as_object().unwrap().keys().map(String::as_str).collect::<Vec<_>>(), ["1", "20"]);
    assert!(at["20"].as_f64().unwrap() > at["1"].as_f64().unwrap(), "{at}");
    let o = attune(&[&args[..], &["--model", "irt-random", "--steps", "0,3"]].concat());
    assert!(!o.status.success() && text(&o).contains("at least one item"), "{}", text(&o));
    // A strategy adds its choices and its intervals against each candidate.
    let o = attune(&[
        "eval",
        "--protocol",
        "e4",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "strategy",
        "--strategies",
        "irt1pl:none,irt1pl:siamese",
        "--draws",
        "1",
        "--fold",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("strategy − best single"), "{}", text(&o));
    let r = read_json(&json);
    assert_eq!(r["strategy"]["candidates"], serde_json::json!(["irt1pl:none", "irt1pl:siamese"]));
    assert!(r["versus"]["oracle"]["10"]["diff"].as_f64().is_some(), "{r}");
}

#[test]
fn e5_reads_one_csv_file_and_reports_the_baseline_intervals() {
    let dir = tempfile::tempdir().unwrap();
    // One pyBKT-style CSV with string ids, written from the vendored ASSIST2009 test learners.
    let csv = dir.path().join("log.csv");
    let mut text_out = String::from("user_id,skill_name,correct,order_id\n");
    let d = data("assist2009_updated");
    let fold = attune_data::Protocol::E1.folds(&attune_data::DatasetFolder::open(&d).unwrap()).unwrap().remove(0);
    let ds = &fold.test;
    for (k, rows) in ds.learners().enumerate() {
        for (t, i) in rows.enumerate() {
            let skill = ds.vocab().items.name(ds.items()[i].0).unwrap();
            text_out.push_str(&format!("learner-{k},skill {skill},{},{t}\n", u8::from(ds.correct()[i])));
        }
    }
    std::fs::write(&csv, text_out).unwrap();
    let json = dir.path().join("e5.json");
    let o = attune(&[
        "eval",
        "--protocol",
        "e5",
        "--dataset",
        csv.to_str().unwrap(),
        "--format",
        "pybkt",
        "--model",
        "finetune",
        "--fold",
        "1",
        "--resamples",
        "50",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r = read_json(&json);
    for key in ["auc_at", "accuracy_at", "window_auc", "window_accuracy", "vs_none", "baselines"] {
        assert!(r.get(key).is_some(), "missing {key}: {r}");
    }
    assert!(r["cohort"].is_null());
    let vs = &r["vs_none"]["1"];
    assert!(vs["lo"].as_f64().unwrap() <= vs["diff"].as_f64().unwrap());
    assert!(r.get("vs_finetune").is_none(), "finetune is not compared with itself");
}

#[test]
fn names_not_built_or_not_fitting_are_clear_errors() {
    let d = data("assist2009_updated");
    let d = d.to_str().unwrap();
    let o = attune(&["eval", "--protocol", "e4", "--dataset", d, "--model", "biirt-best"]);
    assert!(!o.status.success() && text(&o).contains("unknown E4 model"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e5", "--dataset", d, "--model", "maml", "--base", "pfa"]);
    assert!(!o.status.success() && text(&o).contains("irt1pl, dkt, bkt"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e5", "--dataset", d, "--model", "lstm-opt", "--base", "dkt"]);
    assert!(!o.status.success() && text(&o).contains("irt1pl"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e5", "--dataset", d, "--model", "nope"]);
    assert!(!o.status.success() && text(&o).contains("unknown meta-learner"), "{}", text(&o));
    let o = attune(&[
        "eval",
        "--protocol",
        "e4",
        "--dataset",
        d,
        "--model",
        "strategy",
        "--strategies",
        "irt1pl:none,bkt:none",
    ]);
    assert!(!o.status.success() && text(&o).contains("irt1pl:<adaptation>"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e4", "--dataset", d, "--model", "strategy", "--strategies", "irt1pl:none"]);
    assert!(!o.status.success() && text(&o).contains("at least two"), "{}", text(&o));
    let o = attune(&["eval", "--protocol", "e6", "--dataset", d, "--model", "bkt"]);
    assert!(!o.status.success() && text(&o).contains("e5"), "{}", text(&o));
}

#[test]
fn meta_train_writes_a_file_the_loader_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ft.json");
    let d = data("assist2009_updated");
    let o = attune(&[
        "meta-train",
        "--protocol",
        "e5",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "finetune",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("validation AUC"), "{}", text(&o));
    let m = attune_meta::MetaModel::load(&out).unwrap();
    assert_eq!((m.protocol.as_str(), m.model.as_str(), m.learners.len()), ("e5", "finetune", 4));
    // `attune predict` takes the meta-trained file: each learner adapted from their first
    // answers as they come, the rest traced on.
    let test = d.join("assist2009_updated_test.csv.gz");
    let (p, mastery) = (dir.path().join("p.csv"), dir.path().join("m.csv"));
    let args = ["predict", "--model", out.to_str().unwrap(), "--log", test.to_str().unwrap()];
    let o = attune(&[&args[..], &["--out", p.to_str().unwrap(), "--mastery", mastery.to_str().unwrap()]].concat());
    assert!(o.status.success() && text(&o).contains("finetune over irt1pl"), "{}", text(&o));
    let folder = attune_data::DatasetFolder::open(&d).unwrap();
    let n_test = folder.read("assist2009_updated_test.csv", attune_core::Vocab::default()).unwrap().len();
    let rows: Vec<(bool, f64)> = csv::Reader::from_path(&p)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            (&r[2] == "1", r[3].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), n_test);
    assert!(rows.iter().all(|r| r.1 > 0.0 && r.1 < 1.0));
    let (y, q): (Vec<bool>, Vec<f64>) = rows.into_iter().unzip();
    assert!(attune_core::metrics::auc(&q, &y) > 0.65, "{}", text(&o));
    assert_eq!(&csv::Reader::from_path(&mastery).unwrap().headers().unwrap()[0], "learner");
    let o = attune(&[
        "meta-train",
        "--protocol",
        "e4",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "maml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).contains("unknown E4 model"), "{}", text(&o));
}
