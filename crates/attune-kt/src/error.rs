use std::path::PathBuf;

/// Errors of fitting, saving and loading classical student models.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyperparameter is out of range.
    #[error("invalid {param} = {value}: {reason}")]
    InvalidConfig {
        /// The parameter's name.
        param: &'static str,
        /// Its value, as text.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// The training set holds no interaction.
    #[error("cannot fit {model} on an empty training set")]
    EmptyTrainingSet {
        /// The model being fitted.
        model: &'static str,
    },
    /// No model has this name.
    #[error("unknown model {0:?} (known: {known})", known = crate::MODEL_NAMES.join(", "))]
    UnknownModel(String),
    /// The fit was cancelled through its progress hook.
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
    /// A model file is not valid JSON for its model.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A model file was written by an incompatible version.
    #[error("{}: model format version {found}, this build reads {supported}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn check_range(param: &'static str, value: f64, lo: f64, hi: f64, reason: &'static str) -> Result<()> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(Error::InvalidConfig { param, value: value.to_string(), reason })
    }
}
