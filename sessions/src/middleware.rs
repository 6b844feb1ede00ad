//! The axum middleware: the one place that reads the session cookie and the one place
//! that writes it.

use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};

use crate::config::SessionConfig;
use crate::handle::{CookieChange, Presented, SessionHandle};
use crate::session::{coarse_ip, ClientMeta, Lookup};
use crate::store::SessionStore;
use crate::token::{fingerprint, SessionToken};

/// `Clear-Site-Data`, sent at logout: `"storage"` (the session cookie itself is removed
/// by its `Set-Cookie`; `"cookies"` would also make the browser forget its device
/// cookie, and every sign-in after a sign-out would be mailed as a new device).
pub static CLEAR_SITE_DATA: HeaderName = HeaderName::from_static("clear-site-data");

/// Why a presented cookie was not accepted (logged, never sent to the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejected {
    Malformed,
    Unknown,
    Expired,
    Duplicate,
}

/// Resolves the session cookie into a [`SessionHandle`] in the request extensions, runs
/// the request, then writes the one `Set-Cookie` the handle asks for.
///
/// Strict mode: a cookie that is malformed, unknown, expired or revoked is treated as no
/// session at all. It is never adopted as an id, no row is created for it, and the
/// response clears it. Except for the clearing, so is the token a rotation replaced
/// moments ago ([`Lookup::Replaced`]): the request was sent before the browser got the
/// new token, which a removal arriving after it would wipe out (the sign-in that gave it
/// would be undone). A request without a cookie gets none back unless a handler creates
/// a session.
pub async fn session_middleware(
    State(store): State<SessionStore>,
    mut req: Request,
    next: Next,
) -> Response {
    let name = store.config().cookie_name();
    let presented = cookie_values(req.headers(), name);
    let mut rejected = None;
    let mut replaced = None;
    let mut came_with = Presented::Nothing;
    let session = match presented.as_slice() {
        [] => None,
        [value] => match SessionToken::parse(value) {
            None => {
                rejected = Some((Rejected::Malformed, fingerprint(value.as_bytes())));
                None
            }
            Some(token) => match store.load(&token).await {
                Ok(Lookup::Live(s)) => match store.touch(&s).await {
                    Ok(Some(s)) => {
                        came_with = Presented::Live(token.hash());
                        Some(s)
                    }
                    // Deleted or expired between the two statements: treat as revoked.
                    Ok(None) => {
                        rejected = Some((Rejected::Unknown, fingerprint(value.as_bytes())));
                        None
                    }
                    Err(e) => {
                        tracing::error!(
                            error = &e as &dyn std::error::Error,
                            "could not refresh session; serving it unrefreshed"
                        );
                        came_with = Presented::Live(token.hash());
                        Some(s)
                    }
                },
                Ok(Lookup::Unknown) => {
                    rejected = Some((Rejected::Unknown, fingerprint(value.as_bytes())));
                    None
                }
                // Sent before this browser got the token's successor: anonymous, and
                // the cookie (by now the successor) is left alone.
                Ok(Lookup::Replaced) => {
                    replaced = Some(fingerprint(value.as_bytes()));
                    came_with = Presented::Replaced;
                    None
                }
                Ok(Lookup::Expired) => {
                    rejected = Some((Rejected::Expired, fingerprint(value.as_bytes())));
                    None
                }
                Err(e) => {
                    tracing::error!(
                        error = &e as &dyn std::error::Error,
                        "session lookup failed"
                    );
                    // The database is out of reach (or failing): try again shortly.
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(RETRY_AFTER, "5"), (CACHE_CONTROL, "no-store")],
                        "The shop is briefly unavailable. Please try again in a few seconds.",
                    )
                        .into_response();
                }
            },
        },
        many => {
            let joined = many.join(";");
            rejected = Some((Rejected::Duplicate, fingerprint(joined.as_bytes())));
            None
        }
    };
    if rejected.is_some() {
        metrics::counter!("shop_session_lookups_total", "result" => "refused").increment(1);
    }
    if let Some(fp) = &replaced {
        metrics::counter!("shop_session_lookups_total", "result" => "replaced").increment(1);
        tracing::info!(cookie = %fp, "session cookie replaced moments ago; treating request as anonymous, cookie left alone");
    }
    if let Some((reason, fp)) = &rejected {
        tracing::info!(?reason, cookie = %fp, "session cookie rejected; treating request as anonymous");
    }

    let handle = SessionHandle::new(store.clone(), client_meta(&req), session, came_with);
    req.extensions_mut().insert(handle.clone());
    let mut res = next.run(req).await;
    write_cookie(
        store.config(),
        &handle,
        rejected.is_some(),
        res.headers_mut(),
    );
    res
}

/// Every value of a cookie called `name` across all `Cookie` headers. A header that is
/// not valid text but mentions the name counts as one unusable value. (Also how the shop
/// reads its other cookie, the device cookie: one parser for the header.)
pub fn cookie_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    let mut values = Vec::new();
    for header in headers.get_all(COOKIE) {
        match header.to_str() {
            Ok(text) => {
                for c in Cookie::split_parse(text).flatten() {
                    if c.name() == name {
                        values.push(c.value().to_string());
                    }
                }
            }
            Err(_) => {
                let raw = header.as_bytes();
                if raw
                    .windows(name.len() + 1)
                    .any(|w| w.starts_with(name.as_bytes()) && w[name.len()] == b'=')
                {
                    values.push(String::from_utf8_lossy(raw).into_owned());
                }
            }
        }
    }
    values
}

fn client_meta(req: &Request) -> ClientMeta {
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ip = crate::client::ClientAddr::of(req.extensions())
        .map(coarse_ip)
        .unwrap_or_default();
    ClientMeta { user_agent, ip }
}

/// The session cookie with the attributes every variant shares.
fn base_cookie(config: &SessionConfig, value: String) -> Cookie<'static> {
    Cookie::build((config.cookie_name(), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(config.secure)
        .build()
}

/// The `Set-Cookie` value that gives the browser `token`.
pub(crate) fn set_cookie_value(
    config: &SessionConfig,
    token: &SessionToken,
    persistent: bool,
) -> String {
    let mut c = base_cookie(config, token.expose());
    if persistent {
        c.set_max_age(cookie::time::Duration::seconds(
            config.remember_absolute_timeout.as_secs() as i64,
        ));
    }
    c.to_string()
}

/// The `Set-Cookie` value that removes the cookie (same attributes, `Max-Age=0`).
pub(crate) fn clear_cookie_value(config: &SessionConfig) -> String {
    let mut c = base_cookie(config, String::new());
    c.make_removal();
    c.to_string()
}

fn write_cookie(
    config: &SessionConfig,
    handle: &SessionHandle,
    rejected: bool,
    headers: &mut HeaderMap,
) {
    let value = match handle.cookie_change() {
        CookieChange::Set { token, persistent } => {
            Some(set_cookie_value(config, &token, persistent))
        }
        CookieChange::Clear { clear_site_data } => {
            if clear_site_data {
                headers.insert(
                    CLEAR_SITE_DATA.clone(),
                    HeaderValue::from_static("\"storage\""),
                );
            }
            Some(clear_cookie_value(config))
        }
        CookieChange::None if rejected => Some(clear_cookie_value(config)),
        CookieChange::None => None,
    };
    if let Some(value) = value {
        match HeaderValue::from_str(&value) {
            Ok(v) => {
                headers.append(SET_COOKIE, v);
                // A response that hands out or removes a session must never be cached.
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Err(_) => tracing::error!("session cookie could not be encoded as a header"),
        }
    }
}
