//! Integration tests of the classical models: recorded reference numbers on vendored real
//! data (degenerate inputs, persistence and cancellation are tested for every model through
//! the model layer, in `attune-models`).

#![allow(clippy::unwrap_used)]

mod reference;

use std::path::PathBuf;

use attune_data::{DatasetFolder, Fold, Protocol};

pub(crate) fn fold(protocol: Protocol, folder: &str) -> Fold {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data").join(folder);
    let folder = DatasetFolder::open(&path).expect("vendored dataset");
    protocol.folds(&folder).expect("folds").remove(0)
}
