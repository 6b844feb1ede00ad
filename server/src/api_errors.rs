//! The HTTP status of a failed server function: decided here, and only here.
//!
//! Server functions return a typed [`AppError`] and set no status themselves. The
//! server-function runtime answers every error with 500, including errors raised before
//! our code runs (a missing or undecodable field). This layer reads the `AppError` in
//! such an answer and gives it its real status ([`AppError::status_code`]: 400, 401,
//! 422, 429 with `Retry-After`, ...), so bad input is never reported as a server fault.
//! (A plain HTML form post is answered with a redirect instead, which passes through.)

use std::collections::HashSet;
use std::sync::OnceLock;

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Header the server-function runtime puts on error answers.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
/// Error bodies are tiny; anything bigger is left alone.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Every registered server function path.
fn api_paths() -> &'static HashSet<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| {
        leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect()
    })
}

pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
    // An unknown name under /api is a plain 404 in our error format (the runtime would
    // answer 400 with a paragraph about its own registration).
    let path = req.uri().path();
    if path.starts_with("/api/") && path != app::live::EVENTS_PATH && !api_paths().contains(path) {
        let body = serde_json::to_vec(&AppError::NotFound).unwrap_or_default();
        let mut res = Response::new(Body::from(body));
        *res.status_mut() = StatusCode::NOT_FOUND;
        res.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return res;
    }
    let mut res = next.run(req).await;
    tidy_location(&mut res);
    // Only the runtime's default 500 is corrected; a status already chosen (a 4xx set by
    // the function, or the redirect of a plain form post) is left alone.
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "could not read a server function error body");
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match err {
            AppError::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
            AppError::Unavailable(_) => Some(app::error::RETRY_UNAVAILABLE_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            parts.headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// After a successful plain form post the runtime redirects to the referer with its error
/// parameters stripped, which can leave a bare `?` (`/cart?`). Drop it.
fn tidy_location(res: &mut Response) {
    let trimmed = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 1 && v.ends_with('?'))
        .and_then(|v| HeaderValue::from_str(v.trim_end_matches('?')).ok());
    if let Some(v) = trimmed {
        res.headers_mut().insert(LOCATION, v);
    }
}
