//! The model layer end to end on vendored data: every model fitted, saved, loaded and used
//! through one type; model files and learner states checked when read; degenerate data.

#![allow(clippy::unwrap_used)]

mod degenerate;
mod files;
mod states;

use std::path::PathBuf;

use attune_core::{Dataset, NoProgress};
use attune_data::{DatasetFolder, Protocol};
use attune_models::{FittedModel, ModelName, ModelSpec, Training, fit};

/// The first `n` learners of a dataset.
pub(crate) fn first(d: &Dataset, n: usize) -> Dataset {
    d.select_learners(&(0..n.min(d.n_learners())).collect::<Vec<_>>())
}

/// Synthetic-5's E1 split, cut to CI size: `(train, validation, test)`.
pub(crate) fn synthetic() -> (Dataset, Dataset, Dataset) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/synthetic");
    let fold = Protocol::E1.folds(&DatasetFolder::open(&path).unwrap()).unwrap().remove(0);
    let es = fold.early_stopping.unwrap();
    (first(&es.train, 300), first(&es.valid, 100), first(&fold.test, 200))
}

/// A CI-sized configuration of `model`: small neural widths and two epochs.
pub(crate) fn small(model: ModelName, seed: u64) -> ModelSpec {
    let spec = ModelSpec::new(model, seed);
    let overrides: &[&str] = match model {
        ModelName::Dkt => &["embedding=16", "hidden=16", "max_epochs=2", "batch_size=32"],
        ModelName::Dkvmn => &["embedding=16", "slots=4", "max_epochs=2", "batch_size=32"],
        ModelName::Sakt => &["embedding=16", "heads=2", "max_epochs=2", "batch_size=32", "window=20"],
        ModelName::Akt => {
            &["embedding=16", "heads=2", "ff=16", "fc=[16,8]", "max_epochs=2", "batch_size=32", "window=20"]
        }
        ModelName::BktMultigs | ModelName::Bkt | ModelName::BktForgets => &["restarts=2"],
        _ => &[],
    };
    spec.with_overrides(overrides).unwrap()
}

/// `model` fitted on the synthetic split.
pub(crate) fn fitted(model: ModelName) -> (FittedModel, Dataset) {
    let (train, valid, test) = synthetic();
    let m = fit(&small(model, 3), Training { train: &train, validation: Some((&train, &valid)) }, &NoProgress).unwrap();
    (m, test)
}
