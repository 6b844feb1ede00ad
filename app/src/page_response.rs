//! What a page or server function asks of its HTTP response (ssr only): its
//! Content-Security-Policy, for the not-found page its status, and cookies besides the
//! session's (the device cookie of a sign-in).
//!
//! The page writes into a slot that [`middleware`] puts into the request's extensions
//! (Leptos hands every render a copy of the request parts, and the copy shares the slot),
//! and the middleware applies it to whatever response comes back: one mechanism, owned by
//! the layer that sees the final response. (Not `leptos_axum::ResponseOptions`: under
//! load, a page now and then left the Leptos handler without the headers set there, and
//! a page without its policy never hydrates; docs/ARCHITECTURE.md §5.)

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::use_context;

#[derive(Default)]
struct Wanted {
    policy: Option<HeaderValue>,
    status: Option<StatusCode>,
    cookies: Vec<HeaderValue>,
}

/// The slot of one request. Cloning shares it.
#[derive(Clone, Default)]
pub struct PageResponse(Arc<Mutex<Wanted>>);

impl PageResponse {
    /// The slot of the request being rendered, if the server installed [`middleware`].
    pub fn current() -> Option<Self> {
        let found = use_context::<Parts>().and_then(|p| p.extensions.get::<Self>().cloned());
        if found.is_none() {
            tracing::error!("page rendered without the page-response middleware");
        }
        found
    }

    /// The page's Content-Security-Policy.
    pub fn set_policy(&self, policy: HeaderValue) {
        self.wanted().policy = Some(policy);
    }

    /// The page's status (the not-found page answers 404).
    pub fn set_status(&self, status: StatusCode) {
        self.wanted().status = Some(status);
    }

    /// A `Set-Cookie` to add to the response.
    pub fn add_cookie(&self, cookie: HeaderValue) {
        self.wanted().cookies.push(cookie);
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, Wanted> {
        // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies what the page asked for to its response.
    fn apply(&self, res: &mut Response) {
        let mut wanted = self.wanted();
        if let Some(policy) = wanted.policy.take() {
            res.headers_mut().insert(CONTENT_SECURITY_POLICY, policy);
        }
        if let Some(status) = wanted.status.take() {
            *res.status_mut() = status;
        }
        for cookie in wanted.cookies.drain(..) {
            res.headers_mut()
                .append(axum::http::header::SET_COOKIE, cookie);
        }
    }
}

/// Gives the request a [`PageResponse`] slot and applies it to the response. Installed
/// inside the layer that gives every other response the strict default policy.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let slot = PageResponse::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    slot.apply(&mut res);
    res
}
