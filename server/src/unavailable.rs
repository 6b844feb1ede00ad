//! The answer when the shop cannot serve a request now, and the two layers that give it:
//! a request that takes too long, and a page asked for while the database is down.
//!
//! Server functions that meet a database out of reach answer 503 themselves
//! (`AppError::Unavailable`, status and `Retry-After` set by `api_errors`), and so does
//! the session middleware when it cannot look a session up.

use std::time::Duration;

use app::error::{AppError, RETRY_UNAVAILABLE_SECS};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// How long a page waits for the database to answer during a suspected outage.
const PING: Duration = Duration::from_secs(1);

/// 503 with `Retry-After`: our error JSON under `/api`, a short page elsewhere.
pub fn response(path: &str) -> Response {
    let (kind, body) = if path.starts_with("/api/") {
        let body = serde_json::to_vec(&AppError::Unavailable(Default::default()));
        ("application/json", body.unwrap_or_default())
    } else {
        ("text/html; charset=utf-8", PAGE.as_bytes().to_vec())
    };
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_UNAVAILABLE_SECS));
    res
}

const PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Back in a moment · Oxide &amp; Oak</title></head>\
<body><h1>Back in a moment</h1>\
<p>The shop is briefly unavailable. Please try again in a few seconds.</p>\
<p><a href=\"/\">Try again</a></p></body></html>\n";

/// Ends a request whose answer has not started within `limit` with [`response`]. The
/// event stream is not affected (its answer starts at once); neither is a streamed page
/// once its first bytes are out. The request's own work is dropped at its next `.await`;
/// changes of shared state run in tasks of their own and finish regardless.
pub async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%path, ?limit, "request took too long; answered 503");
            response(&path)
        }
    }
}

/// Pages while the database is out of reach. Once an answer was 503 (a server function
/// or the session lookup met the outage), each page first asks the database (for at most
/// a second) and, if it does not answer, gets the 503 page at once instead of waiting
/// out the pool's timeout. The first answer after it is back clears the suspicion.
pub async fn outage_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let page = req.method() == Method::GET && !path.starts_with("/api/");
    if page && state.outage.suspected() {
        if state.db.ping(PING).await.is_err() {
            return response(&path);
        }
        state.outage.clear();
    }
    let res = next.run(req).await;
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        state.outage.suspect();
    }
    res
}
