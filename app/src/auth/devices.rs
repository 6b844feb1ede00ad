//! Browsers an account has signed in from (ssr only): a long-lived device cookie holds a
//! random token, the server keeps its SHA-256 per account (`known_devices`), and a
//! sign-in from a browser the account has not seen mails its owner.
//!
//! The cookie is no credential: it signs no one in and opens nothing; it only tells
//! "this browser signed in to this account before". Sign-out leaves it in place, so
//! signing in again here is not news (`Clear-Site-Data` is `"storage"`, not `"cookies"`).

use axum::http::request::Parts;
use axum::http::HeaderValue;
use db::{on, Db};
use leptos::prelude::use_context;
use sessions::{ClientMeta, SessionToken};

use crate::error::AppError;
use crate::mail::{Letter, MailKind, OutboxTx};
use crate::state::AppState;

/// How long a browser keeps its device cookie: 400 days, the most browsers allow.
pub const DEVICE_COOKIE_SECS: i64 = 400 * 24 * 60 * 60;

/// Whether a sign-in from an unknown browser is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A sign-in with a password or a passkey.
    Mail,
    /// Registration (the account's first browser) and a reset by mail (its own mail
    /// names the browser).
    Quiet,
}

/// The device cookie's name: `__Host-device` over https, else `device`.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-device"
    } else {
        "device"
    }
}

/// The device token the request presents, if it presents exactly one, well formed.
fn presented(name: &str) -> Option<SessionToken> {
    let parts = use_context::<Parts>()?;
    match sessions::cookie_values(&parts.headers, name).as_slice() {
        [value] => SessionToken::parse(value),
        _ => None,
    }
}

/// The `Set-Cookie` that gives this browser `token`.
fn set_cookie(name: &str, token: &SessionToken, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={}; Max-Age={DEVICE_COOKIE_SECS}; Path=/; HttpOnly; SameSite=Lax{secure}",
        token.expose()
    ))
    .ok()
}

/// After `user_id` signed in on this request: this browser is known to the account from
/// now on, and if it was not before (and `notice` says so) its owner is mailed, in the
/// transaction that records it. Runs in a task of its own: a client hanging up cannot
/// leave the browser recorded without its mail. A failure is logged; the sign-in stands.
pub async fn signed_in(state: &AppState, user_id: i64, notice: Notice) {
    let secure = state.sessions.config().secure;
    let name = cookie_name(secure);
    // The cookie goes out again at every sign-in, so a browser in use keeps it.
    let token = match presented(name)
        .map(Ok)
        .unwrap_or_else(SessionToken::generate)
    {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "no device token; sign-in not recorded");
            return;
        }
    };
    match (
        crate::page_response::PageResponse::current(),
        set_cookie(name, &token, secure),
    ) {
        (Some(slot), Some(cookie)) => slot.add_cookie(cookie),
        _ => return,
    }
    let meta = crate::session::session()
        .map(|s| s.meta().clone())
        .unwrap_or_else(|_| ClientMeta {
            user_agent: String::new(),
            ip: String::new(),
        });
    let (db, outbox, now) = (state.db.clone(), state.outbox.clone(), state.sessions.now());
    let hash = token.hash().0;
    let recorded = tokio::spawn(async move {
        let mailed = record(&db, user_id, &hash, notice, &meta, now).await?;
        if mailed {
            outbox.wake();
        }
        Ok::<_, AppError>(())
    })
    .await;
    match recorded {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            e.log_cause();
            tracing::error!(user = user_id, "sign-in device not recorded");
        }
        Err(e) => tracing::error!(user = user_id, error = %e, "sign-in device task failed"),
    }
}

/// Records device `hash` for `user_id` at `now`; returns whether a notice was queued.
async fn record(
    db: &Db,
    user_id: i64,
    hash: &[u8; 32],
    notice: Notice,
    meta: &ClientMeta,
    now: i64,
) -> Result<bool, AppError> {
    let mailed = on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        let new: Option<i64> = sqlx::query_scalar(
            "INSERT INTO known_devices (user_id, device_hash, first_seen_at, last_seen_at)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (user_id, device_hash) DO NOTHING
             RETURNING user_id",
        )
        .bind(user_id)
        .bind(&hash[..])
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let mut mailed = false;
        if new.is_none() {
            sqlx::query(
                "UPDATE known_devices SET last_seen_at = $3 WHERE user_id = $1 AND device_hash = $2",
            )
            .bind(user_id)
            .bind(&hash[..])
            .bind(now)
            .execute(&mut *tx)
            .await?;
        } else if notice == Notice::Mail {
            let owner: Option<(String, String)> = sqlx::query_as(
                "SELECT username, email FROM users WHERE id = $1 AND email IS NOT NULL",
            )
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((username, email)) = owner {
                let mut letter = Letter::new(MailKind::NewSignIn, &email, now);
                letter.user_id = Some(user_id);
                letter.username = username;
                letter.user_agent = meta.user_agent.clone();
                letter.network = meta.ip.clone();
                tx.queue(&letter).await?;
                mailed = true;
            }
        }
        tx.commit().await?;
        mailed
    });
    Ok(mailed)
}

/// Deletes devices not seen for longer than their cookie lives.
pub async fn prune(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    on!(db.writer(), p => {
        sqlx::query("DELETE FROM known_devices WHERE last_seen_at <= $1")
            .bind(now - DEVICE_COOKIE_SECS)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })
}
