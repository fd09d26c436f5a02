//! DKT, SAKT, DKVMN and AKT each trained briefly on vendored data and saved and loaded. The
//! burn reference checks are in `tests/reference` (feature `burn`).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use attune_core::{Dataset, NoProgress, metrics};
use attune_data::{DatasetFolder, Protocol};
use attune_nn::{Akt, AktConfig, Dkt, DktConfig, Dkvmn, DkvmnConfig, Sakt, SaktConfig};

fn synthetic() -> (Dataset, Dataset, Dataset) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/synthetic");
    let fold = Protocol::E1.folds(&DatasetFolder::open(&path).unwrap()).unwrap().remove(0);
    let es = fold.early_stopping.unwrap();
    let first = |d: &Dataset, n: usize| d.select_learners(&(0..n.min(d.n_learners())).collect::<Vec<_>>());
    (first(&es.train, 600), first(&es.valid, 200), first(&fold.test, 400))
}

/// Synthetic-5 (50 exercises, 5 latent concepts): a small DKT trained for a few epochs on 600
/// learners must predict held-out learners clearly better than chance.
#[test]
fn a_short_training_run_learns_synthetic_5() {
    let (train, valid, test) = synthetic();
    let cfg = DktConfig {
        embedding: 32,
        hidden: 32,
        max_epochs: 20,
        batch_size: 32,
        learning_rate: 5e-3,
        patience: 4,
        ..DktConfig::default()
    };
    let model = cfg.fit(&train, Some(&valid), &NoProgress).unwrap();
    let p: Vec<f64> = attune_core::predict_sequence(&model, &test).iter().map(|p| p.get()).collect();
    let auc = metrics::auc(&p, test.correct());
    assert!(auc > 0.70, "test AUC {auc}");

    // Save -> load -> identical predictions.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dkt.json");
    std::fs::write(&file, serde_json::to_vec(&model).unwrap()).unwrap();
    let loaded: Dkt = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(attune_core::predict_sequence(&loaded, &test), attune_core::predict_sequence(&model, &test));
}

/// The same for a small SAKT (0.82 when written).
#[test]
fn a_short_sakt_training_run_learns_synthetic_5() {
    let (train, valid, test) = synthetic();
    let cfg = SaktConfig {
        embedding: 32,
        heads: 4,
        max_epochs: 20,
        batch_size: 32,
        learning_rate: 5e-3,
        patience: 4,
        ..SaktConfig::default()
    };
    let model = cfg.fit(&train, Some(&valid), &NoProgress).unwrap();
    let p: Vec<f64> = model.predict_dataset(&test).iter().map(|p| p.get()).collect();
    let auc = metrics::auc(&p, test.correct());
    assert!(auc > 0.75, "test AUC {auc}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sakt.json");
    std::fs::write(&file, serde_json::to_vec(&model).unwrap()).unwrap();
    let loaded: Sakt = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(loaded.predict_dataset(&test), model.predict_dataset(&test));
}

/// The same for a small DKVMN (0.82 when written).
#[test]
fn a_short_dkvmn_training_run_learns_synthetic_5() {
    let (train, valid, test) = synthetic();
    let cfg = DkvmnConfig {
        embedding: 32,
        slots: 8,
        max_epochs: 20,
        batch_size: 32,
        learning_rate: 1e-2,
        patience: 4,
        ..DkvmnConfig::default()
    };
    let model = cfg.fit(&train, Some(&valid), &NoProgress).unwrap();
    let p: Vec<f64> = model.predict_dataset(&test).iter().map(|p| p.get()).collect();
    let auc = metrics::auc(&p, test.correct());
    assert!(auc > 0.75, "test AUC {auc}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dkvmn.json");
    std::fs::write(&file, serde_json::to_vec(&model).unwrap()).unwrap();
    let loaded: Dkvmn = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(loaded.predict_dataset(&test), model.predict_dataset(&test));
}

/// The same for a small AKT.
#[test]
fn a_short_akt_training_run_learns_synthetic_5() {
    let (train, valid, test) = synthetic();
    let cfg = AktConfig {
        embedding: 32,
        heads: 4,
        ff: 64,
        fc: (64, 32),
        max_epochs: 20,
        batch_size: 32,
        learning_rate: 3e-3,
        patience: 4,
        ..AktConfig::default()
    };
    let model = cfg.fit(&train, Some(&valid), &NoProgress).unwrap();
    let p: Vec<f64> = model.predict_dataset(&test).iter().map(|p| p.get()).collect();
    let auc = metrics::auc(&p, test.correct());
    assert!(auc > 0.75, "test AUC {auc}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("akt.json");
    std::fs::write(&file, serde_json::to_vec(&model).unwrap()).unwrap();
    let loaded: Akt = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(loaded.predict_dataset(&test), model.predict_dataset(&test));
}
