//! Sign-in requirement and cache policy for private pages, decided before anything renders.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sessions::SessionHandle;

/// Redirects anonymous requests for sign-in-only pages to `/login?next=<path>` (302),
/// and marks private answers `Cache-Control: no-store`: private pages, every server
/// function answer, and any HTML page rendered for a signed-in user (it shows their name).
/// The pages of mailed links send no `Referer` anywhere (`Referrer-Policy: no-referrer`).
pub async fn private_pages(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let signed_in = req
        .extensions()
        .get::<SessionHandle>()
        .and_then(|h| h.user_id())
        .is_some();
    if !signed_in
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && app::path_in(&path, app::SIGN_IN_REQUIRED)
    {
        let target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let location = format!("/login?next={}", app::url::encode_query_value(target));
        return match HeaderValue::from_str(&location) {
            Ok(v) => (
                StatusCode::FOUND,
                [
                    (LOCATION, v),
                    (CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
            )
                .into_response(),
            Err(_) => StatusCode::BAD_REQUEST.into_response(),
        };
    }
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if app::path_in(&path, app::PRIVATE_PAGES)
        || path.starts_with("/api/")
        || (signed_in && is_html)
    {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if app::path_in(&path, app::TOKEN_PAGES) {
        res.headers_mut().insert(
            axum::http::header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    res
}
