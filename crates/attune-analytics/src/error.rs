use std::path::PathBuf;

/// Errors of building or writing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model could not be fitted.
    #[error(transparent)]
    Model(#[from] attune_models::Error),
    /// The learner types could not be found.
    #[error("learner types: {0}")]
    Meta(#[from] attune_meta::Error),
    /// A chart could not be drawn.
    #[error("drawing a chart: {0}")]
    Chart(String),
    /// A report file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A table could not be encoded.
    #[error("{}: {message}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The dataset holds no interaction.
    #[error("cannot report on an empty dataset")]
    Empty,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
