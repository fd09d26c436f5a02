use std::path::PathBuf;

/// Errors of the model layer: choosing and configuring a model, fitting it, reading and
/// writing model files and learner states.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No model has this name.
    #[error("unknown model {name:?} (known: {known})", known = crate::ModelName::ALL.map(|m| m.as_str()).join(", "))]
    UnknownModel {
        /// The name asked for.
        name: String,
    },
    /// A `key=value` override or configuration names no hyperparameter of the model.
    #[error("{model}: no such hyperparameter {name:?} (known: {known})")]
    UnknownHyperparameter {
        /// The model.
        model: &'static str,
        /// The key.
        name: String,
        /// The model's hyperparameters.
        known: String,
    },
    /// A hyperparameter value is of the wrong type or out of its range.
    #[error("{model}: {name} = {value}: {reason}")]
    InvalidHyperparameter {
        /// The model.
        model: &'static str,
        /// The hyperparameter.
        name: String,
        /// The value given, as text.
        value: String,
        /// The valid range or type.
        reason: String,
    },
    /// An override is not `key=value`.
    #[error("override {0:?}: expected KEY=VALUE")]
    Override(String),
    /// A classical model's error (invalid configuration, empty data, cancelled).
    #[error(transparent)]
    Kt(#[from] attune_kt::Error),
    /// A neural model's error.
    #[error(transparent)]
    Nn(#[from] attune_nn::Error),
    /// The training data has no interaction.
    #[error("cannot fit {model} on an empty training set")]
    EmptyTrainingSet {
        /// The model.
        model: &'static str,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON of the expected shape (truncated, or a field of the wrong type).
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A model file was written in a format version this build does not read.
    #[error("{}: model file format version {found}, this build reads version {supported}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// A model file reads as JSON but a field's value is wrong (a shape, a range, an id).
    #[error("{}: field {field}: {reason}", path.display())]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// The field, e.g. `parameters.difficulty` or `ids.items`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A learner state does not belong to this model, or its values are out of range.
    #[error("learner state: {field}: {reason}")]
    InvalidState {
        /// The part of the state.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
