//! A request id on every request: `X-Request-Id`, kept from a trusted proxy (so one id
//! follows a request through the load balancer and the shop), otherwise made here (16
//! random bytes, hex). It is in the request's log span, so every log line of the
//! request carries it, and it is sent back on the response.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use sessions::TrustedProxies;
use tower_http::request_id::{MakeRequestId, RequestId};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes a new id.
#[derive(Clone, Copy, Default)]
pub struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = sessions::token::random_hex::<16>().ok()?;
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Whether `value` is an id worth keeping: 1 to 64 of `A-Za-z0-9-_.`.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Drops an `X-Request-Id` that did not come from a trusted proxy (or is not an id), so
/// the next layer makes one.
pub async fn only_from_trusted(
    State(trusted): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let keep =
        trusted.sent(req.extensions()) && req.headers().get(&X_REQUEST_ID).is_some_and(acceptable);
    if !keep {
        req.headers_mut().remove(&X_REQUEST_ID);
    }
    next.run(req).await
}

/// The log span of a request: its id, method and path (never the query, which may hold
/// what a visitor typed).
pub fn span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let path = shown_path(req.uri().path());
    tracing::info_span!("request", id = %id, method = %req.method(), path = %path)
}

/// The path as the log shows it: a mailed link's token is left out (`/reset/…`).
fn shown_path(path: &str) -> &str {
    for prefix in ["/reset/", "/verify/"] {
        if path.starts_with(prefix) && path.len() > prefix.len() {
            return if prefix == "/reset/" {
                "/reset/…"
            } else {
                "/verify/…"
            };
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailed_tokens_stay_out_of_the_log() {
        assert_eq!(shown_path("/reset/abc"), "/reset/…");
        assert_eq!(shown_path("/verify/abc"), "/verify/…");
        assert_eq!(shown_path("/reset"), "/reset");
        assert_eq!(shown_path("/account"), "/account");
    }

    #[test]
    fn only_plain_ids_are_kept() {
        assert!(acceptable(&HeaderValue::from_static("b7e1-42.x_9")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("a b")));
        assert!(!acceptable(
            &HeaderValue::from_str(&"a".repeat(65)).unwrap()
        ));
        let made = RandomId
            .make_request_id(&axum::http::Request::new(()))
            .unwrap();
        assert_eq!(made.header_value().len(), 32);
    }
}
