//! Errors of the meta-learning layer.

/// What can go wrong building episodes, meta-training or evaluating a cold-start protocol.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A split or cohort needs more learners than the data has.
    #[error("need at least {needed} learners, the data has {found}")]
    TooFewLearners {
        /// Learners needed.
        needed: usize,
        /// Learners present.
        found: usize,
    },
    /// A meta-learner's setting is out of range.
    #[error("{learner}: {param} = {value}: {reason}")]
    InvalidConfig {
        /// The meta-learner.
        learner: &'static str,
        /// The setting.
        param: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// A meta-learner does not take this base learner.
    #[error("{learner} cannot adapt base learner {base:?} (it takes: {supported})")]
    UnsupportedBase {
        /// The meta-learner.
        learner: &'static str,
        /// The base learner asked for.
        base: String,
        /// The base learners it takes.
        supported: &'static str,
    },
    /// No learner of this name is known (or built) for the protocol.
    #[error("{0}")]
    UnknownLearner(String),
    /// A meta-model file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A meta-model file is not JSON of the expected shape.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// Where and why parsing stopped.
        source: serde_json::Error,
    },
    /// A meta-model file holds a value that is out of range or does not fit its base.
    #[error("{}: {field}: {reason}", path.display())]
    InvalidFile {
        /// The file.
        path: std::path::PathBuf,
        /// The field, e.g. `learners[2].difficulty`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Fitting or loading a base learner failed.
    #[error(transparent)]
    Model(#[from] attune_models::Error),
    /// Meta-training was cancelled through its progress hook.
    #[error(transparent)]
    Cancelled(#[from] attune_core::Cancelled),
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
