//! The model layer from the command line: `models`, `fit`, `predict`, `tune`, `--config`.

use std::path::Path;

use attune_core::Vocab;
use attune_data::{DatasetFolder, Protocol};
use attune_models::{FittedModel, ModelName, ModelSpec, Training, fit};

use crate::{attune, data, read_json, text};

/// `p` of a predictions CSV, by row, with its learner and item columns.
fn predictions(path: &Path) -> Vec<(String, String, bool, f64)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(r.headers().unwrap(), vec!["learner", "item", "correct", "p"]);
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_owned(), rec[1].to_owned(), &rec[2] == "1", rec[3].parse().unwrap())
        })
        .collect()
}

fn auc(rows: &[(String, String, bool, f64)]) -> f64 {
    let p: Vec<f64> = rows.iter().map(|r| r.3).collect();
    let y: Vec<bool> = rows.iter().map(|r| r.2).collect();
    attune_core::metrics::auc(&p, &y)
}

#[test]
fn models_lists_the_registry_as_text_and_json() {
    let o = attune(&["models", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 13);
    for want in ["bkt", "irt1pl", "best-lr", "dkt", "dkvmn", "sakt", "akt"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let h = &v[0]["hyperparameters"][0];
    for key in ["name", "default", "min", "max"] {
        assert!(h.get(key).is_some(), "{h}");
    }
    let o = attune(&["models"]);
    assert!(o.status.success() && text(&o).contains("Corbett & Anderson"), "{}", text(&o));
}

/// A log with string ids (written here from Gervet et al.'s statics split): `fit` on its
/// training file, `predict` on its test file gives the AUC `eval` gives on the same split,
/// with the original ids, in file order.
#[test]
fn fit_then_predict_on_string_ids_reproduces_eval() {
    let dir = tempfile::tempdir().unwrap();
    let folder = DatasetFolder::open(&data("lpp_statics")).unwrap();
    let fold = Protocol::E2.folds(&folder).unwrap().remove(0);
    let write = |d: &attune_core::Dataset, name: &str| {
        let path = dir.path().join(name);
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record(["who", "question", "kcs", "ok", "t"]).unwrap();
        let v = d.vocab();
        // Learners interleaved, each one's answers in order: file order is not the grouped
        // order a dataset keeps, so predictions must be put back in file order.
        let mut rows: Vec<usize> = (0..d.len()).collect();
        let pos: Vec<usize> = d.learners().flat_map(|r| (0..r.len()).collect::<Vec<_>>()).collect();
        rows.sort_by_key(|&i| pos[i]);
        for i in rows {
            let o = d.interaction(i);
            let kcs: Vec<String> = o.skills.iter().map(|s| format!("kc {}", v.skills.name(s.0).unwrap())).collect();
            w.write_record([
                format!("learner-{}", v.students.name(o.student.0).unwrap()),
                format!("step/{}", v.items.name(o.item.0).unwrap()),
                kcs.join("~~"),
                u8::from(o.correct).to_string(),
                o.time.to_string(),
            ])
            .unwrap();
        }
        w.flush().unwrap();
        path
    };
    let (train, test) = (write(&fold.train, "train.csv"), write(&fold.test, "test.csv"));
    let columns = [
        "--format",
        "csv",
        "--student",
        "who",
        "--item",
        "question",
        "--skill",
        "kcs",
        "--skill-separator",
        "~~",
        "--correct",
        "ok",
        "--time",
        "t",
    ];
    for model in ["bkt", "best-lr", "irt1pl"] {
        let json = dir.path().join(format!("{model}-eval.json"));
        let d = data("lpp_statics");
        let o = attune(&[
            "eval",
            "--protocol",
            "e2",
            "--dataset",
            d.to_str().unwrap(),
            "--model",
            model,
            "--json",
            json.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let eval_auc = read_json(&json)["auc"].as_f64().unwrap();

        let file = dir.path().join(format!("{model}.json"));
        let mut args = vec![
            "fit",
            "--dataset",
            train.to_str().unwrap(),
            "--model",
            model,
            "--out",
            file.to_str().unwrap(),
            "--quiet",
        ];
        args.extend(columns);
        let o = attune(&args);
        assert!(o.status.success(), "{}", text(&o));
        let out = dir.path().join(format!("{model}-p.csv"));
        let mastery = dir.path().join(format!("{model}-m.csv"));
        let mut args = vec![
            "predict",
            "--model",
            file.to_str().unwrap(),
            "--log",
            test.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--mastery",
            mastery.to_str().unwrap(),
        ];
        args.extend(columns);
        let o = attune(&args);
        assert!(o.status.success(), "{}", text(&o));
        let rows = predictions(&out);
        assert_eq!(rows.len(), fold.test.len());
        let a = auc(&rows);
        assert!((a - eval_auc).abs() < 1e-4, "{model}: predict AUC {a}, eval AUC {eval_auc}");
        // Original ids, file order: the CSV's rows as written.
        let mut r = csv::Reader::from_path(&test).unwrap();
        for (rec, row) in r.records().zip(&rows) {
            let rec = rec.unwrap();
            assert_eq!((&rec[0], &rec[1]), (row.0.as_str(), row.1.as_str()));
        }
        let m = csv::Reader::from_path(&mastery).unwrap().headers().unwrap().clone();
        assert_eq!(&m[0], "learner");
        assert!(m.iter().skip(1).all(|h| h.starts_with("kc ")), "{m:?}");
    }
}

/// A CI-sized configuration of every model.
fn small(model: ModelName) -> ModelSpec {
    let o: &[&str] = match model {
        ModelName::Dkt => &["embedding=16", "hidden=16", "max_epochs=2"],
        ModelName::Dkvmn => &["embedding=16", "slots=4", "max_epochs=2"],
        ModelName::Sakt => &["embedding=16", "heads=2", "max_epochs=2", "window=20"],
        ModelName::Akt => &["embedding=16", "heads=2", "ff=16", "fc=[16,8]", "max_epochs=2", "window=20"],
        _ => &[],
    };
    ModelSpec::new(model, 5).with_overrides(o).unwrap()
}

/// Every model, fitted here, saved, then loaded by `attune predict` in a fresh process:
/// the same predictions, bit for bit, as the model in memory.
#[test]
fn every_model_predicts_the_same_in_a_fresh_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = data("synthetic");
    let folder = DatasetFolder::open(&path).unwrap();
    let fold = Protocol::E1.folds(&folder).unwrap().remove(0);
    let es = fold.early_stopping.unwrap();
    let cut = |d: &attune_core::Dataset, n: usize| d.select_learners(&(0..n).collect::<Vec<_>>());
    let (train, valid) = (cut(&es.train, 300), cut(&es.valid, 100));
    let log = path.join("naive_c5_q50_s4000_v0_test.csv.gz");
    let test = folder.read("naive_c5_q50_s4000_v0_test.csv", Vocab::default()).unwrap();
    for name in ModelName::ALL {
        let model =
            fit(&small(name), Training { train: &train, validation: Some((&train, &valid)) }, &attune_core::NoProgress)
                .unwrap();
        let file = dir.path().join(format!("{name}.json"));
        model.save(&file).unwrap();
        let remapped = model.ids.remap(&test);
        let mut want: Vec<(u32, f64)> =
            model.predict_dataset(&remapped).iter().zip(remapped.source_rows()).map(|(p, &r)| (r, p.get())).collect();
        want.sort_by_key(|w| w.0);
        let out = dir.path().join(format!("{name}.csv"));
        let o = attune(&[
            "predict",
            "--model",
            file.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let got = predictions(&out);
        assert_eq!(got.len(), want.len(), "{name}");
        let diff = got.iter().zip(&want).position(|(g, w)| g.3 != w.1);
        assert_eq!(diff, None, "{name}: row {diff:?} differs from the in-memory model");
        // And the file loads in this process too, to the same model.
        assert_eq!(FittedModel::load(&file).unwrap().predict_dataset(&remapped), model.predict_dataset(&remapped));
    }
}

#[test]
fn tune_searches_on_validation_and_its_best_config_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tune.json");
    let d = data("assist2009_updated");
    let o = attune(&[
        "tune",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "pfa",
        "--trials",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v = read_json(&out);
    assert_eq!(v["trials"].as_array().unwrap().len(), 3);
    assert_eq!(v["validation"], "shipped validation split");
    let best = v["best_valid_auc"].as_f64().unwrap();
    assert!(v["trials"].as_array().unwrap().iter().all(|t| t["valid_auc"].as_f64().unwrap() <= best));
    assert!(v["trials"][1]["values"]["l2"].is_number(), "trial 1 searched l2: {}", v["trials"][1]);
    // The file is a configuration `fit` and `eval` take.
    let model = dir.path().join("m.json");
    let o = attune(&[
        "fit",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "pfa",
        "--config",
        out.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let saved = read_json(&model);
    assert_eq!(saved["config"]["l2"], v["config"]["l2"]);
    let o = attune(&[
        "eval",
        "--protocol",
        "e1",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        "bkt",
        "--config",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).contains("configures pfa"), "{}", text(&o));
}

#[test]
fn bad_model_files_and_logs_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.json");
    std::fs::write(&file, br#"{"format_version": 1, "model": "dkt", "weights": {}}"#).unwrap();
    let log = data("synthetic").join("naive_c5_q50_s4000_v0_test.csv.gz");
    let out = dir.path().join("p.csv");
    let o = attune(&[
        "predict",
        "--model",
        file.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).contains("format version 1"), "{}", text(&o));
    std::fs::write(&file, b"{\"format_version\": 2, \"model\": \"bkt\", \"config\": {").unwrap();
    let o = attune(&[
        "predict",
        "--model",
        file.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).contains("m.json") && !text(&o).contains("panicked"), "{}", text(&o));
}
