//! The one error type every server function returns.
//!
//! Expected outcomes a user can act on are variants with a message meant for people;
//! everything else collapses into `Internal`, whose [`Cause`] stays on the server.
//! Each variant maps to exactly one HTTP status (docs/ARCHITECTURE.md §5).
//!
//! Errors are logged once, at the edge: when an error becomes its answer (its wire form,
//! [`ErrorBody`], for a server function's reply or a page's data) or a plain form's
//! redirect (`forms::finish`). Nothing logs on the way there: no `From` here writes the
//! log, so a `?` is only a `?`.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// On the wire an error is `{"error": "<code>", "message": "<for people>"}` (plus
/// `retry_after_secs` for 429), so scripts and people both get something to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum AppError {
    /// The input was understood but is not acceptable; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Form fields that are not acceptable, each with what to change (shown inline).
    #[error("Please correct the marked fields.")]
    InvalidFields(Vec<FieldError>),
    /// The request was fine but the shop's state no longer allows it (stock ran out).
    #[error("{0}")]
    Conflict(String),
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
    /// A sensitive action without a recent proof of identity (sudo mode): the page asks
    /// for one (`/confirm`) and comes back.
    #[error("Please confirm it is you to continue.")]
    SudoRequired,
    /// A passkey was not accepted (an unknown or removed passkey, a ceremony that expired
    /// or was used already, a failed signature or user verification): one message for
    /// every reason, which the server logs.
    #[error("That passkey was not accepted. Please try again, or use your password.")]
    PasskeyRefused,
    #[error("Not found.")]
    NotFound,
    #[error("Too many attempts. Please wait {retry_after_secs} seconds and try again.")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database is out of reach for now (down, restarting, out of connections, a
    /// full disk): try again in [`RETRY_UNAVAILABLE_SECS`]. Answered 503 with
    /// `Retry-After`; the cause is logged like an internal one.
    #[error("The shop is briefly unavailable. Please try again in a few seconds.")]
    Unavailable(Cause),
    /// Something failed on our side. Its cause is for the server's log only: the wire
    /// form carries no detail.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(Cause),
    /// The call did not reach the server or its answer could not be read (client side).
    #[error("Could not reach the shop: {0}")]
    Network(String),
}

/// What a client is told to wait before trying again after [`AppError::Unavailable`].
pub const RETRY_UNAVAILABLE_SECS: u64 = 5;

/// Why an [`AppError::Internal`] happened: what failed, and the error it failed with (its
/// source chain included). Not part of the wire form; two errors are equal whatever
/// their causes; logged at most once, however often the error is cloned and answered.
#[derive(Clone, Default)]
pub struct Cause(Option<std::sync::Arc<CauseInner>>);

struct CauseInner {
    what: &'static str,
    error: Option<Box<dyn std::error::Error + Send + Sync>>,
    logged: std::sync::atomic::AtomicBool,
}

impl Cause {
    /// No cause (an error decoded from the wire, or a placeholder).
    pub const fn none() -> Self {
        Cause(None)
    }

    /// `what` failed, with `error`.
    pub fn new(
        what: &'static str,
        error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Cause::inner(what, Some(error.into()))
    }

    /// `what` failed (no error value to keep: a missing piece of request state, say).
    pub fn note(what: &'static str) -> Self {
        Cause::inner(what, None)
    }

    fn inner(what: &'static str, error: Option<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Cause(Some(std::sync::Arc::new(CauseInner {
            what,
            error,
            logged: Default::default(),
        })))
    }

    /// Writes the cause to the server log, the first time only (ssr; nothing in the
    /// browser, where a cause never arrives).
    pub fn log(&self) {
        let Some(inner) = &self.0 else { return };
        let first = !inner
            .logged
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        #[cfg(feature = "ssr")]
        if first {
            match &inner.error {
                Some(e) => {
                    let e: &(dyn std::error::Error + 'static) = e.as_ref();
                    tracing::error!(error = e, "{}", inner.what);
                }
                None => tracing::error!("{}", inner.what),
            }
        }
        #[cfg(not(feature = "ssr"))]
        let _ = first;
    }
}

impl PartialEq for Cause {
    /// Causes do not make errors differ: an answer is the same whatever caused it.
    fn eq(&self, _: &Cause) -> bool {
        true
    }
}

impl Eq for Cause {}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(inner) => match &inner.error {
                Some(e) => write!(f, "Cause({}: {e})", inner.what),
                None => write!(f, "Cause({})", inner.what),
            },
            None => f.write_str("Cause(-)"),
        }
    }
}

/// One refused form field: its name and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The JSON shape of an [`AppError`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// For `invalid` form input: each refused field with its message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl From<AppError> for ErrorBody {
    /// The wire form, and the edge where an internal error is logged (once).
    fn from(e: AppError) -> Self {
        e.log_cause();
        #[cfg(feature = "ssr")]
        if let AppError::Unavailable(_) = e {
            // A page's data (or an answer) met the outage: later pages check first.
            if let Some(outage) =
                leptos::prelude::use_context::<std::sync::Arc<crate::outage::Outage>>()
            {
                outage.suspect();
            }
        }
        let retry_after_secs = match e {
            AppError::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
            AppError::Unavailable(_) => Some(RETRY_UNAVAILABLE_SECS),
            _ => None,
        };
        let (error, message) = (e.code().to_string(), e.to_string());
        let fields = match e {
            AppError::InvalidFields(fields) => fields,
            _ => Vec::new(),
        };
        ErrorBody {
            error,
            message,
            retry_after_secs,
            fields,
        }
    }
}

impl From<ErrorBody> for AppError {
    fn from(b: ErrorBody) -> Self {
        match b.error.as_str() {
            "invalid" if !b.fields.is_empty() => AppError::InvalidFields(b.fields),
            "invalid" => AppError::Invalid(b.message),
            "conflict" => AppError::Conflict(b.message),
            "bad_request" => AppError::BadRequest(b.message),
            "unauthorized" => AppError::Unauthorized,
            "invalid_credentials" => AppError::InvalidCredentials,
            "forbidden" => AppError::Forbidden(b.message),
            "sudo_required" => AppError::SudoRequired,
            "passkey_refused" => AppError::PasskeyRefused,
            "not_found" => AppError::NotFound,
            "too_many_requests" => AppError::TooManyRequests {
                retry_after_secs: b.retry_after_secs.unwrap_or(60),
            },
            "network" => AppError::Network(b.message),
            "unavailable" => AppError::Unavailable(Cause::default()),
            _ => AppError::Internal(Cause::default()),
        }
    }
}

impl AppError {
    /// Logs the cause of an internal or unavailable error (once: see [`Cause::log`]).
    /// Called where the error becomes an answer.
    pub fn log_cause(&self) {
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = self {
            cause.log();
        }
    }

    /// An internal error: `what` failed, with `error` (kept for the log).
    pub fn internal(
        what: &'static str,
        error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        AppError::Internal(Cause::new(what, error))
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) | AppError::InvalidFields(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::SudoRequired => "sudo_required",
            AppError::PasskeyRefused => "passkey_refused",
            AppError::NotFound => "not_found",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
            AppError::Network(_) => "network",
        }
    }

    /// The text shown for an error that arrived in a link (the `__err` parameter of a
    /// plain form round trip) rather than from our own call to the server. Anyone can
    /// craft such a link, so its wording is never echoed: its kind picks one of our own
    /// messages.
    pub fn link_safe_message(&self) -> String {
        match self {
            AppError::Invalid(_) | AppError::BadRequest(_) => {
                "That could not be done: please check the quantity (and the stock) and try again."
            }
            AppError::InvalidFields(_) => "Please correct the marked fields.",
            AppError::Conflict(_) => {
                "The shop changed in the meantime (stock ran out?): please check your cart."
            }
            AppError::Unauthorized | AppError::InvalidCredentials => "Please sign in to continue.",
            AppError::Forbidden(_) => "That request was refused.",
            AppError::SudoRequired => "Please confirm it is you to continue.",
            AppError::PasskeyRefused => "That passkey was not accepted.",
            AppError::NotFound => "That product is not (or no longer) available.",
            AppError::TooManyRequests { .. } => {
                "Too many attempts. Please wait a little and try again."
            }
            AppError::Unavailable(_) => {
                "The shop is briefly unavailable. Please try again in a few seconds."
            }
            AppError::Internal(_) | AppError::Network(_) => {
                "Something went wrong on our side. Please try again."
            }
        }
        .to_string()
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Invalid(_) | AppError::InvalidFields(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized | AppError::InvalidCredentials | AppError::PasskeyRefused => 401,
            AppError::Forbidden(_) | AppError::SudoRequired => 403,
            AppError::NotFound => 404,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
            AppError::Network(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The server could not decode what was sent: the caller's fault, not ours.
            ServerFnErrorErr::Args(msg) => AppError::BadRequest(format!("Invalid request: {msg}")),
            ServerFnErrorErr::MissingArg(name) => {
                AppError::BadRequest(format!("Missing field: {name}"))
            }
            // On the server, a body that cannot be decoded (invalid UTF-8, say) was sent
            // by the caller; on the client, it is an answer that did not arrive intact.
            ServerFnErrorErr::Deserialization(msg) => {
                if cfg!(feature = "ssr") {
                    AppError::BadRequest("Invalid request: the form could not be read.".into())
                } else {
                    AppError::Network(msg)
                }
            }
            ServerFnErrorErr::Request(msg)
            | ServerFnErrorErr::Serialization(msg)
            | ServerFnErrorErr::Response(msg) => AppError::Network(msg),
            ServerFnErrorErr::UnsupportedRequestMethod(msg) => AppError::BadRequest(msg),
            ServerFnErrorErr::Registration(e)
            | ServerFnErrorErr::ServerError(e)
            | ServerFnErrorErr::MiddlewareError(e) => {
                AppError::internal("server function runtime error", e)
            }
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            if db::is_unavailable(&err) {
                metrics::counter!("shop_db_unavailable_total").increment(1);
                AppError::Unavailable(super::Cause::new("database unavailable", err))
            } else {
                AppError::internal("database error", err)
            }
        }
    }
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
    fn errors_travel_as_code_and_message() {
        let json = serde_json::to_string(&AppError::InvalidCredentials).unwrap();
        assert_eq!(
            json,
            r#"{"error":"invalid_credentials","message":"Wrong username or password."}"#
        );
        for e in [
            AppError::Invalid("Quantity must be 1 to 99.".into()),
            AppError::TooManyRequests {
                retry_after_secs: 42,
            },
            AppError::NotFound,
            AppError::SudoRequired,
            AppError::PasskeyRefused,
            AppError::Internal(Cause::default()),
            AppError::Conflict("Only 2 left.".into()),
            AppError::Unavailable(Cause::default()),
            AppError::InvalidFields(vec![FieldError {
                field: "city".into(),
                message: "Please enter a city.".into(),
            }]),
        ] {
            let back: AppError = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
            assert_eq!(back, e);
        }
    }

    #[test]
    fn errors_from_links_never_echo_their_text() {
        let crafted = AppError::Invalid("Your account is locked: call +1 555 0100".into());
        assert!(!crafted.link_safe_message().contains("555"));
        assert_eq!(
            AppError::NotFound.link_safe_message(),
            "That product is not (or no longer) available."
        );
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "sqlite: disk I/O error at /secret/path".into(),
        ));
        assert!(matches!(e, AppError::Internal(_)));
        assert!(!e.to_string().contains("secret"));
        let wire = serde_json::to_string(&e).unwrap();
        assert!(!wire.contains("secret"), "{wire}");
        assert!(
            format!("{e:?}").contains("secret"),
            "the cause is kept for the log"
        );
    }
}
