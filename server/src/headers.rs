//! Security headers on every response.
//!
//! Pages set their own Content-Security-Policy with a per-response nonce
//! (`app::security`); every other response (JSON, files, errors) gets the strictest one,
//! which also keeps an SVG or a JSON answer opened directly from running anything.

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of every response that is not a page.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// Two years, as the HSTS preload list asks.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds the headers. `https`: the shop is served over https (cookies are `Secure`), so
/// browsers are told to never use plain http for it again.
pub fn add(router: Router, https: bool) -> Router {
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // A page that had a token in its link sets `no-referrer` itself (server/src/guard.rs).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ));
    if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        router
    }
}
