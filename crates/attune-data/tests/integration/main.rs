//! Integration tests of the readers and protocols on the vendored real data.

#![allow(clippy::unwrap_used)]

mod protocols;
mod vendored;

use std::path::PathBuf;

/// The repository's `data/` folder.
pub(crate) fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data")
}
