//! The two links mail carries (ssr only): `GET /verify/<token>` and `GET /reset/<token>`.
//!
//! Neither leaves its token where it could leak: each answers with a redirect (`303`,
//! `Referrer-Policy: no-referrer`, `Cache-Control: no-store`) to a page without it, so the
//! token is in no page's address, history entry or `Referer`. A verification link is
//! spent at once; a reset link's token moves into the server-side session of the
//! browser that opened it, for the form at `/reset` to use.

use axum::extract::{Path, Request, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sessions::SessionHandle;

use super::server::{hold_reset, verify, Verified};
use crate::state::AppState;

/// Where a verification link lands.
pub const VERIFY_PATH: &str = "/verify/{token}";
/// Where a reset link lands.
pub const RESET_PATH: &str = "/reset/{token}";

/// A redirect to `to` that keeps the link's address to itself.
fn away(to: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, HeaderValue::from_static(to)),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// `GET /verify/<token>`: makes the link's address the account's, once, and shows the
/// outcome at `/verified`.
pub async fn open_verify(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let now = state.sessions.now();
    match verify(&state.db, &token, now).await {
        Ok(Verified::Done(_)) => {
            tracing::info!("address verified");
            away("/verified?result=done")
        }
        Ok(Verified::Taken) => away("/verified?result=taken"),
        Ok(Verified::Invalid) => away("/verified?result=invalid"),
        Err(e) => {
            e.log_cause();
            away("/verified?result=error")
        }
    }
}

/// `GET /reset/<token>`: moves a live reset token into this browser's session (a guest
/// one is begun if it has none) and goes to the form at `/reset`, which says whether a
/// link is held.
pub async fn open_reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let Some(handle) = req.extensions().get::<SessionHandle>().cloned() else {
        tracing::error!("reset link without the session middleware");
        return away("/reset");
    };
    let network = sessions::ClientAddr::of(req.extensions())
        .map(sessions::coarse_ip)
        .unwrap_or_default();
    drop(req);
    let now = state.sessions.now();
    let held = async {
        let sid = match handle.id() {
            Some(sid) => sid,
            None => {
                // A session only for a link that is live, and throttled as any guest's.
                if !super::server::reset_is_live(&state.db, &token, now).await? {
                    return Ok(false);
                }
                let key = crate::auth::throttle::network_key(&network);
                if let Err(wait) = state.throttle.new_guest(&key, now).await? {
                    return Err(crate::error::AppError::TooManyRequests {
                        retry_after_secs: wait,
                    });
                }
                handle.ensure().await?
            }
        };
        hold_reset(&state.db, &token, sid, now).await
    }
    .await;
    match held {
        Ok(true) => tracing::info!("reset link opened"),
        Ok(false) => tracing::info!("reset link unknown, used or expired"),
        Err(crate::error::AppError::TooManyRequests { retry_after_secs }) => {
            tracing::info!(
                retry_after_secs,
                "reset link not held: new guest sessions throttled"
            )
        }
        Err(e) => e.log_cause(),
    }
    away("/reset")
}
