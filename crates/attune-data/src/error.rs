use std::path::PathBuf;

/// Errors of the data layer: every variant names the file, and where it applies the line and
/// field, so a user can find the bad byte.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A generic CSV/TSV log was given without naming its columns.
    #[error("{}: the csv format needs the columns named (learner, item or skill, answer)", path.display())]
    MissingMapping {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not valid UTF-8.
    #[error("{}:{line}: not valid UTF-8 (byte {byte} of the line)", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 0-based offset of the first bad byte within the line.
        byte: usize,
    },
    /// A field does not hold what the format says it must.
    #[error("{}:{line}: field {field} = {value:?}: {expected}", path.display())]
    BadField {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The field (column name, or `answer 3` style position).
        field: String,
        /// The offending text (truncated to 40 characters).
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// Two lines of one record disagree on its length.
    #[error("{}:{line}: {field} has {got} values, expected {expected}", path.display())]
    LengthMismatch {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the shorter or longer line.
        line: usize,
        /// Which line of the record.
        field: &'static str,
        /// Values found.
        got: usize,
        /// Values expected.
        expected: usize,
    },
    /// The file ends in the middle of a record.
    #[error("{}:{line}: file ends inside a record (missing {missing})", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// 1-based number of the last line read.
        line: usize,
        /// What line of the record is missing.
        missing: &'static str,
    },
    /// The file holds no interaction.
    #[error("{}: no interactions", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A header lacks a column the mapping needs.
    #[error("{}: no column {column:?} in header (columns: {available})", path.display())]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// The header's columns, comma-separated.
        available: String,
    },
    /// A dataset folder is not laid out as any known dataset.
    #[error("{}: {reason}", path.display())]
    UnknownDataset {
        /// The folder.
        path: PathBuf,
        /// What is missing or unexpected.
        reason: String,
    },
    /// An error of the vocabulary crate.
    #[error(transparent)]
    Core(#[from] attune_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Truncates a field value for an error message.
pub(crate) fn shown(value: &str) -> String {
    value.chars().take(40).collect()
}
