//! Finishing a form-backed server function for both kinds of caller (ssr only).
//!
//! - A plain HTML form post (no JavaScript yet; `Accept: text/html`) always gets a
//!   redirect: to the success page, or back to the form with `?error=<code>` and the
//!   values worth keeping (never a password).
//! - A call from the hydrated app gets a real status: 200 and a client-side redirect, or
//!   the error's 4xx/5xx with its message.

use axum::http::header::ACCEPT;
use axum::http::request::Parts;
use leptos::prelude::use_context;

use crate::auth::validate::FormError;
use crate::error::AppError;

/// Longest value echoed back into a form through the URL.
const MAX_KEPT_VALUE: usize = 200;

/// Whether the current request is a browser's plain form submission.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// A checkbox field: present with any of the usual "on" values.
pub fn is_checked(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some("on" | "true" | "1" | "yes"))
}

/// Any failure on the way through a form's work: an internal error keeps its cause, the
/// few other outcomes a helper can report keep their meaning.
impl From<AppError> for FormError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(cause) => FormError::Internal(cause),
            AppError::Unavailable(cause) => FormError::Unavailable(cause),
            AppError::InvalidCredentials => FormError::Credentials,
            AppError::TooManyRequests { retry_after_secs } => FormError::TooMany(retry_after_secs),
            other => FormError::Internal(crate::error::Cause::new(
                "unexpected error in a form",
                other.to_string(),
            )),
        }
    }
}

impl From<sqlx::Error> for FormError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(e).into()
    }
}

impl From<sessions::StoreError> for FormError {
    fn from(e: sessions::StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<FormError> for AppError {
    fn from(e: FormError) -> Self {
        match e {
            FormError::Credentials => AppError::InvalidCredentials,
            FormError::TooMany(retry_after_secs) => AppError::TooManyRequests { retry_after_secs },
            FormError::Internal(cause) => AppError::Internal(cause),
            FormError::Unavailable(cause) => AppError::Unavailable(cause),
            other => AppError::Invalid(other.message().to_string()),
        }
    }
}

/// Turns a form's outcome into the right answer for the caller (see module docs).
pub fn finish(
    outcome: Result<(), FormError>,
    success_to: &str,
    form_page: &str,
    keep: &[(&str, &str)],
) -> Result<(), AppError> {
    match outcome {
        Ok(()) => {
            leptos_axum::redirect(success_to);
            Ok(())
        }
        Err(e) if is_plain_form_post() => {
            // The edge for a plain form: the error becomes a redirect, not an answer body.
            if let FormError::Internal(cause) | FormError::Unavailable(cause) = &e {
                cause.log();
            }
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("error", e.code());
            for (key, value) in keep {
                if !value.is_empty() && value.len() <= MAX_KEPT_VALUE && *value != "/" {
                    query.append_pair(key, value);
                }
            }
            leptos_axum::redirect(&format!("{form_page}?{}", query.finish()));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
