//! The one error type every server function returns.
//!
//! Expected outcomes a user can act on are variants with a message meant for people;
//! everything else collapses into `Internal`, whose details stay in the server log.
//! Each variant maps to exactly one HTTP status (DESIGN.md §6).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input was understood but is not acceptable; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// The request could not be decoded (missing or malformed fields).
    #[error("{0}")]
    BadRequest(String),
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Unknown user or wrong password: one message for both (no user enumeration).
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("Not found.")]
    NotFound,
    #[error("Too many attempts. Please wait {retry_after_secs} seconds and try again.")]
    TooManyRequests { retry_after_secs: u64 },
    /// Something failed on our side. Deliberately carries no detail.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The call did not reach the server or its answer could not be read (client side).
    #[error("Could not reach the shop: {0}")]
    Network(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized | AppError::InvalidCredentials => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal => 500,
            AppError::Network(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The server could not decode what was sent: the caller's fault, not ours.
            ServerFnErrorErr::Args(msg) => AppError::BadRequest(format!("Invalid request: {msg}")),
            ServerFnErrorErr::MissingArg(name) => {
                AppError::BadRequest(format!("Missing field: {name}"))
            }
            ServerFnErrorErr::Request(msg)
            | ServerFnErrorErr::Deserialization(msg)
            | ServerFnErrorErr::Serialization(msg)
            | ServerFnErrorErr::Response(msg) => AppError::Network(msg),
            ServerFnErrorErr::UnsupportedRequestMethod(msg) => AppError::BadRequest(msg),
            ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_) => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            tracing::error!(error = %err, "database error");
            AppError::Internal
        }
    }
}

/// On the server, records the error's status on the current response so that plain HTTP
/// clients see 4xx/5xx instead of the server-function default. Call it on every error
/// a server function returns (the `respond` helper does this).
#[cfg(feature = "ssr")]
pub fn set_status(err: &AppError) {
    if let Some(opts) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        let status = axum::http::StatusCode::from_u16(err.status_code())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        opts.set_status(status);
        if let AppError::TooManyRequests { retry_after_secs } = err {
            if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                opts.insert_header(axum::http::header::RETRY_AFTER, v);
            }
        }
    }
}

/// Passes a server function's result through, setting the response status on error.
#[cfg(feature = "ssr")]
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
        set_status(err);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_failures_are_client_errors_not_500() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad".into()));
        assert_eq!(e.status_code(), 400);
        let e = AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("slug".into()));
        assert_eq!(e.status_code(), 400);
        assert_eq!(e.to_string(), "Missing field: slug");
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "sqlite: disk I/O error at /secret/path".into(),
        ));
        assert_eq!(e, AppError::Internal);
        assert!(!e.to_string().contains("secret"));
    }
}
