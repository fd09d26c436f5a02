//! Model files: every model round-trips, and every broken file gets an error naming the file
//! and the field, never a panic.

use attune_models::{Error, FittedModel, ModelName, registry};

use crate::fitted;

#[test]
fn every_model_predicts_identically_after_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    for name in ModelName::ALL {
        let (model, test) = fitted(name);
        let test = model.ids.remap(&test);
        let path = dir.path().join(format!("{name}.json"));
        model.save(&path).unwrap();
        let loaded = FittedModel::load(&path).unwrap();
        assert_eq!(loaded.name(), name);
        assert_eq!(loaded.ids, model.ids, "{name}: id maps");
        assert_eq!(loaded.training, model.training, "{name}: training record");
        let (a, b) = (model.predict_dataset(&test), loaded.predict_dataset(&test));
        assert!(a.iter().all(|p| p.is_valid() && p.get() > 0.0 && p.get() < 1.0), "{name}");
        let first_diff = a.iter().zip(&b).position(|(x, y)| x != y);
        assert_eq!(first_diff, None, "{name}: predictions differ after loading");
    }
}

#[test]
fn the_registry_lists_every_model_once_with_its_hyperparameters() {
    let r = registry();
    assert_eq!(r.len(), ModelName::ALL.len());
    let json = serde_json::to_value(&r).unwrap();
    for entry in json.as_array().unwrap() {
        for key in ["name", "family", "description", "paper", "hyperparameters"] {
            assert!(entry.get(key).is_some(), "{entry}: no {key}");
        }
        for h in entry["hyperparameters"].as_array().unwrap() {
            for key in ["name", "default", "min", "max"] {
                assert!(h.get(key).is_some(), "{h}: no {key}");
            }
        }
    }
    let dkvmn = r.iter().find(|m| m.name == ModelName::Dkvmn).unwrap();
    let slots = dkvmn.hyperparameters.iter().find(|h| h.name == "slots").unwrap();
    assert_eq!((slots.default.as_u64(), slots.min, slots.search.is_some()), (Some(20), Some(1.0), true));
}

/// An edit of a model file's JSON.
type Edit = fn(&mut serde_json::Value);

fn load_err(bytes: &[u8]) -> Error {
    FittedModel::from_json("m.json".as_ref(), bytes).unwrap_err()
}

/// An edit to one field of a saved file, and the field the error must name.
fn edited(model: &FittedModel, edit: impl Fn(&mut serde_json::Value)) -> Error {
    let mut v: serde_json::Value = serde_json::from_slice(&model.to_json()).unwrap();
    edit(&mut v);
    load_err(&serde_json::to_vec(&v).unwrap())
}

fn field_of(e: &Error) -> String {
    match e {
        Error::InvalidFile { field, path, .. } => {
            assert_eq!(path.to_str(), Some("m.json"));
            field.clone()
        }
        other => panic!("not an invalid-file error: {other}"),
    }
}

#[test]
fn broken_files_name_the_file_and_the_field() {
    let (model, _) = fitted(ModelName::Irt2pl);
    let bytes = model.to_json();
    // Truncated anywhere: a JSON error with the file's name, never a panic.
    for cut in [0, 1, 10, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let e = load_err(&bytes[..cut]);
        assert!(matches!(e, Error::Json { .. } | Error::InvalidFile { .. }), "cut {cut}: {e}");
        assert!(e.to_string().starts_with("m.json"), "{e}");
    }
    let e = edited(&model, |v| v["format_version"] = 1.into());
    assert!(matches!(e, Error::Version { found: 1, supported: 2, .. }), "{e}");
    let e = edited(&model, |v| {
        v.as_object_mut().unwrap().remove("format_version");
    });
    assert_eq!(field_of(&e), "format_version");
    let e = edited(&model, |v| v["model"] = "irt9pl".into());
    assert_eq!(field_of(&e), "model");
    let e = edited(&model, |v| v["config"]["ability_l2"] = (-1.0).into());
    assert_eq!(field_of(&e), "config");
    let e = edited(&model, |v| v["config"]["ability_l2"] = 2.5.into());
    assert_eq!(field_of(&e), "config", "config and parameters disagree");
    let e = edited(&model, |v| v["parameters"]["irt"]["difficulty"].as_array_mut().unwrap().truncate(3));
    assert!(field_of(&e).starts_with("parameters."), "{e}");
    let e = edited(&model, |v| v["parameters"]["irt"]["discrimination"][0] = "x".into());
    assert!(matches!(e, Error::Json { .. }), "{e}");
    let e = edited(&model, |v| v["ids"]["item_skills"][0] = serde_json::json!([4_000_000_000u64]));
    assert!(field_of(&e).starts_with("ids.item_skills"), "{e}");
    let e = edited(&model, |v| v["ids"]["items"][1] = v["ids"]["items"][0].clone());
    assert_eq!(field_of(&e), "ids.items");
    let e = edited(&model, |v| v["model"] = "bkt".into());
    assert_eq!(field_of(&e), "config", "{e}");
}

#[test]
fn edited_parameters_of_every_family_are_caught() {
    let cases: &[(ModelName, &str, Edit)] = &[
        (ModelName::Bkt, "parameters.skills", |p| p["bkt"]["skills"][0]["guess"] = 1.5.into()),
        (ModelName::Pfa, "parameters.weights", |p| p["counts"]["weights"].as_array_mut().unwrap().truncate(2)),
        (ModelName::Elo, "parameters.alpha", |p| p["elo"]["alpha"] = (-1.0).into()),
        (ModelName::Dkt, "parameters.w_hh", |p| p["dkt"]["w_hh"].as_array_mut().unwrap().truncate(5)),
        (ModelName::Dkvmn, "parameters.params", |p| {
            p["dkvmn"]["params"]["m_key"].as_array_mut().unwrap().pop().map(|_| ()).unwrap()
        }),
        (ModelName::Sakt, "parameters.params", |p| p["sakt"]["params"]["heads"] = 3.into()),
        (ModelName::Akt, "parameters.item_skill", |p| p["akt"]["item_skill"][0] = 999.into()),
    ];
    for (name, field, edit) in cases {
        let (model, _) = fitted(*name);
        let e = edited(&model, |v| edit(&mut v["parameters"]));
        assert!(field_of(&e).starts_with(field), "{name}: {e}");
    }
}

/// Values no fit produces, that would overflow a prediction to NaN (found by fuzzing the
/// loader): refused when the file is read.
#[test]
fn huge_parameters_are_refused() {
    let cases: &[(ModelName, Edit)] = &[
        (ModelName::Pfa, |p| {
            p["counts"]["weights"][3] = 1.7e308.into();
            p["counts"]["weights"][4] = (-1.7e308).into();
        }),
        (ModelName::BestLr, |p| p["counts"]["weights"][8] = 1.7e308.into()),
        (ModelName::Sakt, |p| p["sakt"]["params"]["w_p"][0] = 3e38.into()),
        (ModelName::Irt2pl, |p| p["irt"]["discrimination"][0] = 1e200.into()),
    ];
    for (name, edit) in cases {
        let (model, _) = fitted(*name);
        let e = edited(&model, |v| edit(&mut v["parameters"]));
        assert!(field_of(&e).starts_with("parameters."), "{name}: {e}");
    }
}
