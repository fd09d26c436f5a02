//! Errors: the crate's own (starting the service) and the API's, which every route returns as
//! `{"error": {"code", "message"}}` with a stable `code` and a message naming the field.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

/// What can stop the service from starting.
#[derive(Debug, Error)]
pub enum Error {
    /// The address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] attune_store::Error),
    /// The demo data could not be loaded or fitted.
    #[error("demo tenant: {0}")]
    Demo(String),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// An API error: a status, a stable code and a message.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, naming the field or id.
    pub message: String,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and message.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `invalid_json`, `invalid_field`, `unauthorized`, `not_found`.
    pub code: String,
    /// Human-readable message naming the field.
    pub message: String,
}

impl ApiError {
    /// An error of `status` with `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 500 `internal`: a failure that is not the request's (a task that panicked, a value
    /// that would not serialize).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }

    /// 404: no `what` called `id` in this tenant.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no {what} {id:?}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<attune_store::Error> for ApiError {
    fn from(e: attune_store::Error) -> Self {
        use attune_store::Error as S;
        let message = e.to_string();
        match e {
            S::Invalid { .. } => Self::bad_request("invalid_field", message),
            S::Exists { .. } => Self::new(StatusCode::CONFLICT, "exists", message),
            S::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, "not_found", message),
            S::Corrupt { .. } => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt_store", message),
            S::Closed => Self::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", message),
            S::Database(_) | S::Migrate(_) | S::BadUrl { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", message)
            }
        }
    }
}

/// The result of a route.
pub(crate) type ApiResult<T> = std::result::Result<T, ApiError>;
