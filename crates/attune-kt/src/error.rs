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
    /// A fitted model's parameters do not fit together (as after a file was edited).
    #[error("{field}: {reason}")]
    InvalidModel {
        /// The parameter, e.g. `difficulty`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The fit was cancelled through its progress hook.
    #[error(transparent)]
    Cancelled(#[from] attune_core::Cancelled),
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
