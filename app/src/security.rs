//! The Content-Security-Policy of HTML pages (ssr only).
//!
//! Every page gets a fresh nonce from leptos_axum; the only inline scripts are the ones
//! Leptos writes (hydration bootstrap, resolved resources, dev reload) and they all carry
//! it. Everything else must come from this origin: the wasm, its JS glue, the stylesheet
//! and the images. No inline styles, no plugins, no framing, forms post only here.

use axum::http::HeaderValue;

/// The policy for a page rendered with `nonce`. `dev_reload` allows the websocket of
/// `cargo leptos watch`.
pub fn page_policy(nonce: &str, dev_reload: bool) -> String {
    let connect = if dev_reload {
        "'self' ws: wss:"
    } else {
        "'self'"
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src {connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page policy on the current SSR response (call while rendering the shell).
/// It reaches the response through [`crate::page_response`], not `ResponseOptions`.
pub fn set_page_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        tracing::error!("no nonce while rendering a page: the page gets the strict default CSP");
        return;
    };
    let dev_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    let Some(slot) = crate::page_response::PageResponse::current() else {
        return;
    };
    match HeaderValue::from_str(&page_policy(&nonce, dev_reload)) {
        Ok(value) => slot.set_policy(value),
        Err(e) => tracing::error!(error = %e, "the page policy is not a header value"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_need_the_nonce_or_this_origin() {
        let p = super::page_policy("abc123", false);
        assert!(p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!p.contains("unsafe-inline") && !p.contains("ws:"));
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(super::page_policy("n", true).contains("connect-src 'self' ws: wss:"));
    }
}
