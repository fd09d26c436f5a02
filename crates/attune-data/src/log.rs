//! One learning-log file in any format the readers know, named by a string, the way the CLI's
//! `--format` and the service's import route name it.

use std::path::Path;

use attune_core::{Dataset, Vocab};
use serde::{Deserialize, Serialize};

use crate::{ColumnMapping, Error, IdBase, Layout, QMatrix, Result, read_sequences, read_table};

/// The format of one log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// DKVMN 3-line, 1-based ids: `n` / ids / answers.
    Dkvmn,
    /// DKT 3-line, 0-based ids, trailing commas allowed.
    Dkt,
    /// AKT 3-line: `uid_index,original_uid` / skill ids / answers.
    Akt,
    /// AKT 4-line: `uid_index,original_uid` / problem ids / skill ids / answers.
    AktPid,
    /// Gervet et al. TSV: `user_id item_id timestamp correct skill_id`.
    Gervet,
    /// pyBKT / ASSISTments CSV: `user_id, [problem_id,] skill_name, correct, [order_id]`.
    Pybkt,
    /// Any CSV/TSV through a [`ColumnMapping`].
    Csv,
}

impl LogFormat {
    /// Every format, by its name.
    pub const ALL: [(&'static str, Self); 7] = [
        ("dkvmn", Self::Dkvmn),
        ("dkt", Self::Dkt),
        ("akt", Self::Akt),
        ("akt-pid", Self::AktPid),
        ("gervet", Self::Gervet),
        ("pybkt", Self::Pybkt),
        ("csv", Self::Csv),
    ];
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|&(_, f)| f).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown format {s:?} ({})", names.join(", "))
        })
    }
}

/// Reads `path` (plain or gzip) as `format`; `mapping` names the columns of a `csv` file
/// and `q` gives the items' skills to the table formats.
///
/// # Errors
/// [`Error::MissingMapping`] for `csv` without a mapping, else the reader's errors naming
/// the file, line and field.
pub fn read_log(
    path: &Path,
    format: LogFormat,
    mapping: Option<&ColumnMapping>,
    q: Option<&QMatrix>,
    vocab: Vocab,
) -> Result<Dataset> {
    match format {
        LogFormat::Dkvmn => read_sequences(path, Layout::Dkvmn, IdBase::One, vocab),
        LogFormat::Dkt => read_sequences(path, Layout::Dkvmn, IdBase::Zero, vocab),
        LogFormat::Akt => read_sequences(path, Layout::AktSkills, IdBase::One, vocab),
        LogFormat::AktPid => read_sequences(path, Layout::AktProblems, IdBase::One, vocab),
        LogFormat::Gervet => read_table(path, &ColumnMapping::gervet(), q, vocab),
        LogFormat::Pybkt => read_table(path, &ColumnMapping::pybkt(), q, vocab),
        LogFormat::Csv => match mapping {
            Some(m) => read_table(path, m, q, vocab),
            None => Err(Error::MissingMapping { path: path.to_owned() }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known() {
        for (name, f) in LogFormat::ALL {
            assert_eq!(name.parse::<LogFormat>(), Ok(f));
        }
        let err = "xlsx".parse::<LogFormat>().unwrap_err();
        assert!(err.contains("akt-pid") && err.contains("xlsx"), "{err}");
    }

    #[test]
    fn csv_without_a_mapping_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(&path, "user_id,item,correct\na,q,1\n").unwrap();
        let err = read_log(&path, LogFormat::Csv, None, None, Vocab::default()).unwrap_err();
        assert!(matches!(err, Error::MissingMapping { .. }), "{err}");
        let ds = read_log(&path, LogFormat::Pybkt, None, None, Vocab::default());
        assert!(ds.is_err(), "pybkt needs its own columns");
    }
}
