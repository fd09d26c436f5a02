use thiserror::Error;

/// What can go wrong in the store; bad input names the field and the value.
#[derive(Debug, Error)]
pub enum Error {
    /// The database URL or path is not one the store opens.
    #[error("database {url:?}: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The database refused or failed an operation.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value the store would not keep.
    #[error("{field} = {value:?}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// Its value (truncated to 100 characters).
        value: String,
        /// What a valid value looks like.
        reason: &'static str,
    },
    /// A name that must be unique is taken.
    #[error("{what} {name:?} exists already")]
    Exists {
        /// What kind of thing.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// Nothing of that id in this tenant.
    #[error("no {what} {id:?}")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A stored value the store cannot read back (an edited database).
    #[error("stored {field} {value:?} is unreadable: {reason}")]
    Corrupt {
        /// The column.
        field: &'static str,
        /// The stored value (truncated).
        value: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The writer task is gone (the store is shutting down).
    #[error("the store is closed")]
    Closed,
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A value for an error message: at most 100 characters.
pub(crate) fn shown(value: &str) -> String {
    value.chars().take(100).collect()
}
