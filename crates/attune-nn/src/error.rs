use std::path::PathBuf;

/// Errors of training, saving and loading neural student models.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyperparameter is out of range.
    #[error("invalid {param} = {value}: {reason}")]
    InvalidConfig {
        /// The parameter.
        param: &'static str,
        /// Its value.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// The training set has no learner with two answers on known skills.
    #[error("cannot train {model} on an empty training set")]
    EmptyTrainingSet {
        /// The model.
        model: &'static str,
    },
    /// Training was cancelled through its progress hook.
    #[error(transparent)]
    Cancelled(#[from] attune_core::Cancelled),
    /// A model file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not valid.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
