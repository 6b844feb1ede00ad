//! Cross-site request refusal for state-changing requests (docs/ARCHITECTURE.md §4 rule 9).
//!
//! Browsers label every request with `Sec-Fetch-Site`; a state-changing request labelled
//! `cross-site` or `same-site` is refused. Older browsers without that header still send
//! `Origin` on POST, which must then name this site. Clients that send neither (curl,
//! scripts, tests) are not browsers riding on a victim's cookies and pass.

use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The message a refused request gets.
pub const REFUSAL: &str =
    "Cross-site request refused: this action can only be taken from the shop's own pages.";
/// The refusal in the API's error format.
pub const REFUSAL_JSON: &str = concat!(
    r#"{"error":"forbidden","message":"#,
    r#""Cross-site request refused: this action can only be taken from the shop's own pages."}"#
);

/// Refuses cross-site state-changing requests with 403; everything else passes.
pub async fn reject_cross_site(req: Request, next: Next) -> Response {
    if !is_safe(req.method()) {
        if let Some(reason) = cross_site_reason(req.headers()) {
            tracing::warn!(method = %req.method(), path = %req.uri().path(), reason, "refused cross-site request");
            return (
                StatusCode::FORBIDDEN,
                [(CONTENT_TYPE, "application/json")],
                REFUSAL_JSON,
            )
                .into_response();
        }
    }
    next.run(req).await
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Why this request looks cross-site, or `None` if it does not.
pub fn cross_site_reason(headers: &HeaderMap) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            b"same-site" => Some("Sec-Fetch-Site: same-site"),
            b"cross-site" => Some("Sec-Fetch-Site: cross-site"),
            _ => Some("Sec-Fetch-Site: unrecognised value"),
        };
    }
    let origin = headers.get(ORIGIN)?;
    let Ok(origin) = origin.to_str() else {
        return Some("Origin: not text");
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(a), Some(h)) if a.eq_ignore_ascii_case(h) => None,
        _ => Some("Origin does not match Host"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_the_api_error_format() {
        assert_eq!(
            REFUSAL_JSON,
            format!(r#"{{"error":"forbidden","message":"{REFUSAL}"}}"#)
        );
    }
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert_eq!(
            cross_site_reason(&headers(&[("sec-fetch-site", "same-origin")])),
            None
        );
        assert_eq!(
            cross_site_reason(&headers(&[("sec-fetch-site", "none")])),
            None
        );
        assert!(cross_site_reason(&headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site_reason(&headers(&[("sec-fetch-site", "same-site")])).is_some());
        // A matching Origin does not rescue a cross-site label.
        assert!(cross_site_reason(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://shop.test"),
            ("host", "shop.test"),
        ]))
        .is_some());
    }

    #[test]
    fn origin_is_the_fallback() {
        assert_eq!(
            cross_site_reason(&headers(&[
                ("origin", "http://shop.test:3000"),
                ("host", "shop.test:3000")
            ])),
            None
        );
        assert!(cross_site_reason(&headers(&[
            ("origin", "http://evil.test"),
            ("host", "shop.test")
        ]))
        .is_some());
        assert!(
            cross_site_reason(&headers(&[("origin", "null"), ("host", "shop.test")])).is_some()
        );
        assert!(cross_site_reason(&headers(&[
            ("origin", "http://shop.test.evil.test"),
            ("host", "shop.test")
        ]))
        .is_some());
        // Neither header: not a browser acting for a victim.
        assert_eq!(cross_site_reason(&headers(&[("host", "shop.test")])), None);
    }
}
