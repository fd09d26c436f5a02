//! Save → load → identical predictions; format versions are checked.

use attune_core::NoProgress;
use attune_data::Protocol;
use attune_kt::{Error, Fitted, MODEL_NAMES, ModelKind};

use crate::fold;

#[test]
fn saved_models_predict_identically_after_loading() {
    let f = fold(Protocol::E1, "synthetic");
    let dir = tempfile::tempdir().unwrap();
    for name in MODEL_NAMES {
        let model = ModelKind::from_name(name).unwrap().config(3).fit(&f.train, &NoProgress).unwrap();
        let path = dir.path().join(format!("{name}.json"));
        model.save(&path).unwrap();
        let loaded = Fitted::load(&path).unwrap();
        let (a, b) = (model.predict_dataset(&f.test), loaded.predict_dataset(&f.test));
        let first_diff = a.iter().zip(&b).position(|(x, y)| x != y);
        assert_eq!(first_diff, None, "{name}: predictions differ after loading");
    }
}

#[test]
fn other_format_versions_and_garbage_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    std::fs::write(&path, r#"{"format_version": 99, "model": {}}"#).unwrap();
    assert!(matches!(Fitted::load(&path), Err(Error::Version { found: 99, .. })));
    std::fs::write(&path, "not json").unwrap();
    assert!(matches!(Fitted::load(&path), Err(Error::Format { .. })));
    assert!(matches!(Fitted::load(&dir.path().join("missing.json")), Err(Error::Io { .. })));
}

#[test]
fn fits_are_reproducible_for_a_seed() {
    let f = fold(Protocol::E1, "synthetic");
    for kind in [ModelKind::Bkt, ModelKind::Mirt] {
        let a = kind.config(5).fit(&f.train, &NoProgress).unwrap().predict_dataset(&f.test);
        let b = kind.config(5).fit(&f.train, &NoProgress).unwrap().predict_dataset(&f.test);
        assert!(a == b, "{}: two fits with one seed differ", kind.name());
    }
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn models_are_send_and_sync() {
    assert_send_sync::<Fitted>();
    assert_send_sync::<attune_kt::Bkt>();
    assert_send_sync::<attune_kt::Irt>();
    assert_send_sync::<attune_kt::CountsModel>();
    assert_send_sync::<attune_kt::Elo>();
}

/// Generic code can fit any model through core's `Fit` and trace with the result.
fn fit_and_trace<F: attune_core::Fit>(config: &F, data: &attune_core::Dataset) -> Vec<attune_core::Probability> {
    let model = config.fit(data, &NoProgress).unwrap();
    attune_core::predict_sequence(&model, data)
}

#[test]
fn every_config_implements_the_core_fit_trait() {
    let f = fold(Protocol::E1, "synthetic");
    assert_eq!(fit_and_trace(&attune_kt::BktConfig::default(), &f.test).len(), f.test.len());
    assert_eq!(fit_and_trace(&attune_kt::IrtConfig::one_pl(), &f.test).len(), f.test.len());
    assert_eq!(fit_and_trace(&attune_kt::CountsConfig::pfa(), &f.test).len(), f.test.len());
    assert_eq!(fit_and_trace(&attune_kt::EloConfig::default(), &f.test).len(), f.test.len());
}
