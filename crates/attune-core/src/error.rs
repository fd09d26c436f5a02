/// Errors of the vocabulary crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A dataset column does not have as many rows as the others.
    #[error("column {column} has {got} rows, expected {expected}")]
    ColumnLength {
        /// The column's name.
        column: &'static str,
        /// Its row count.
        got: usize,
        /// The row count of the dataset.
        expected: usize,
    },
    /// Predictions and labels of different lengths were given to a metric.
    #[error("{predictions} predictions for {labels} labels")]
    LengthMismatch {
        /// Number of predictions.
        predictions: usize,
        /// Number of labels.
        labels: usize,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
