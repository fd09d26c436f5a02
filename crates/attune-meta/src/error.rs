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
    /// Fitting or loading a base learner failed.
    #[error(transparent)]
    Model(#[from] attune_models::Error),
    /// Meta-training was cancelled through its progress hook.
    #[error(transparent)]
    Cancelled(#[from] attune_core::Cancelled),
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
