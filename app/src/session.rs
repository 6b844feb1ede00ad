//! The bridge from Leptos to the session engine (ssr only): server functions and SSR
//! read the `SessionHandle` that the middleware put into the request.

use axum::http::request::Parts;
use leptos::prelude::use_context;
pub use sessions::SessionHandle;

use crate::error::{AppError, Cause};

/// The current request's session handle.
pub fn session() -> Result<SessionHandle, AppError> {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<SessionHandle>().cloned())
        .ok_or_else(|| {
            AppError::Internal(Cause::note(
                "no SessionHandle in the request: is the session middleware installed?",
            ))
        })
}

impl From<sessions::StoreError> for AppError {
    fn from(err: sessions::StoreError) -> Self {
        match &err {
            sessions::StoreError::Db(e) if db::is_unavailable(e) => {
                metrics::counter!("shop_db_unavailable_total").increment(1);
                AppError::Unavailable(Cause::new("database unavailable", err))
            }
            sessions::StoreError::Replaced => AppError::Conflict(
                "Your session changed while this was on its way (a sign-in in another tab, say). Please try again.".into(),
            ),
            _ => AppError::internal("session store error", err),
        }
    }
}

/// The coarse network of the current client (an IPv4 /24 or IPv6 /48), as used for
/// throttling; empty if unknown.
pub fn client_network() -> String {
    use_context::<Parts>()
        .and_then(|p| sessions::ClientAddr::of(&p.extensions).map(sessions::coarse_ip))
        .unwrap_or_default()
}

/// The current session and its user, for a sensitive action: only in sudo mode (a proof
/// of identity within the window, read from the database; the window starts again).
/// `Unauthorized` for an anonymous request, `SudoRequired` without a fresh proof.
pub async fn sensitive() -> Result<(SessionHandle, i64), AppError> {
    let (session, user) = signed_in()?;
    if !session.sudo().await? {
        return Err(AppError::SudoRequired);
    }
    Ok((session, user))
}

/// The current session and its user, or `Unauthorized` for an anonymous request.
pub fn signed_in() -> Result<(SessionHandle, i64), AppError> {
    let session = session()?;
    let user = session.user_id().ok_or(AppError::Unauthorized)?;
    Ok((session, user))
}
