//! The evaluation protocols of DESIGN.md §5 that every published number comes from.

use std::fmt;
use std::str::FromStr;

use attune_core::Dataset;
use serde::{Deserialize, Serialize};

use crate::registry::{DatasetFolder, FolderKind};
use crate::{Error, Result};

/// An evaluation protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// DKVMN files: fit on `_train`, test on `_test`; `_train1`/`_valid1` for early stopping.
    E1,
    /// Gervet et al.: fit on `preprocessed_data_train`, test on `preprocessed_data_test`.
    E2,
    /// AKT 5-fold: fit on `train{k}`, test on `test{k}`, validate on `test{k % 5 + 1}` (AKT's
    /// `valid{k}`); mean and sd over the folds.
    E3,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::E1 => "e1",
            Self::E2 => "e2",
            Self::E3 => "e3",
        })
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "e1" => Ok(Self::E1),
            "e2" => Ok(Self::E2),
            "e3" => Ok(Self::E3),
            _ => Err(format!("unknown protocol {s:?} (e1, e2 or e3)")),
        }
    }
}

/// A training/validation split used to choose when to stop training.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    /// Learners to train on.
    pub train: Dataset,
    /// Held-out learners to watch.
    pub valid: Dataset,
}

/// One train/test fold of a protocol. All its datasets share one set of id maps.
#[derive(Clone, Debug)]
pub struct Fold {
    /// `test` for single-split protocols, `fold k` for E3.
    pub name: String,
    /// Everything the model may learn from.
    pub train: Dataset,
    /// The shipped validation split, where the protocol has one.
    pub early_stopping: Option<EarlyStopping>,
    /// The learners to predict.
    pub test: Dataset,
}

impl Protocol {
    /// Loads the folds of this protocol from a dataset folder.
    ///
    /// # Errors
    /// [`Error::UnknownDataset`] if the folder's layout does not fit the protocol, or any
    /// reader error.
    pub fn folds(self, folder: &DatasetFolder) -> Result<Vec<Fold>> {
        let mismatch = |want: &str| Error::UnknownDataset {
            path: folder.path.clone(),
            reason: format!("protocol {self} needs {want}, found {:?}", folder.kind),
        };
        match (self, &folder.kind) {
            (Self::E1, FolderKind::Dkvmn { prefix }) => {
                let (tr, te, tr1, va1) = (
                    format!("{prefix}_train.csv"),
                    format!("{prefix}_test.csv"),
                    format!("{prefix}_train1.csv"),
                    format!("{prefix}_valid1.csv"),
                );
                let with_valid = folder.file(&tr1).is_some() && folder.file(&va1).is_some();
                let names: Vec<&str> = if with_valid { vec![&tr, &te, &tr1, &va1] } else { vec![&tr, &te] };
                let mut sets = folder.read_shared(&names)?.into_iter();
                let (Some(train), Some(test)) = (sets.next(), sets.next()) else {
                    return Err(mismatch("train and test files"));
                };
                let early_stopping = match (sets.next(), sets.next()) {
                    (Some(train), Some(valid)) => Some(EarlyStopping { train, valid }),
                    _ => None,
                };
                Ok(vec![Fold { name: "test".into(), train, early_stopping, test }])
            }
            (Self::E2, FolderKind::Gervet) => {
                let mut sets =
                    folder.read_shared(&["preprocessed_data_train.csv", "preprocessed_data_test.csv"])?.into_iter();
                let (Some(train), Some(test)) = (sets.next(), sets.next()) else {
                    return Err(mismatch("train and test files"));
                };
                Ok(vec![Fold { name: "test".into(), train, early_stopping: None, test }])
            }
            // AKT's valid{k} is byte-identical to test{k % 5 + 1} (and not in train{k}), so the
            // mirror ships only the test chunks; the validation split is read from there.
            (Self::E3, FolderKind::Akt { prefix, .. }) => (1..=5)
                .map(|k| {
                    let names = [
                        format!("{prefix}_train{k}.csv"),
                        format!("{prefix}_test{k}.csv"),
                        format!("{prefix}_test{}.csv", k % 5 + 1),
                    ];
                    let mut sets = folder.read_shared(&[&names[0], &names[1], &names[2]])?.into_iter();
                    let (Some(train), Some(test), Some(valid)) = (sets.next(), sets.next(), sets.next()) else {
                        return Err(mismatch("train, test and validation files"));
                    };
                    let early_stopping = Some(EarlyStopping { train: train.clone(), valid });
                    Ok(Fold { name: format!("fold {k}"), train, early_stopping, test })
                })
                .collect(),
            (Self::E1, _) => Err(mismatch("a DKVMN folder (<name>_train.csv, <name>_test.csv)")),
            (Self::E2, _) => Err(mismatch("a Gervet folder (preprocessed_data_{train,test}.csv)")),
            (Self::E3, _) => Err(mismatch("an AKT folder (<name>_train1..5.csv, <name>_test1..5.csv)")),
        }
    }
}
