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
    /// A fitted model's parameters do not fit together (as after a file was edited).
    #[error("{field}: {reason}")]
    InvalidModel {
        /// The parameter, e.g. `params.e_key`.
        field: String,
        /// What is wrong, e.g. `2000 values, expected 2200`.
        reason: String,
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

/// An [`Error::InvalidConfig`] as a result.
pub(crate) fn bad<T>(param: &'static str, value: String, reason: &'static str) -> Result<T> {
    Err(Error::InvalidConfig { param, value, reason })
}

/// The checks every neural model's configuration shares.
pub(crate) fn check_training(
    dropout: f64,
    batch_size: usize,
    window: usize,
    learning_rate: f64,
    max_epochs: usize,
) -> Result<()> {
    if !(0.0..1.0).contains(&dropout) {
        return bad("dropout", dropout.to_string(), "in [0, 1)");
    }
    if batch_size == 0 || !(2..=4096).contains(&window) {
        return bad("batch_size/window", format!("{batch_size}/{window}"), "batch >= 1, window in 2..=4096");
    }
    if !(learning_rate > 0.0 && learning_rate.is_finite()) {
        return bad("learning_rate", learning_rate.to_string(), "a positive number");
    }
    if max_epochs == 0 {
        return bad("max_epochs", "0".into(), "at least 1");
    }
    Ok(())
}
