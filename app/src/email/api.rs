use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

/// `POST /api/email_status` — the signed-in account's address: the verified one (where
/// mail goes) and one waiting for its link. Anonymous: 401.
#[server(prefix = "/api", endpoint = "email_status", output = crate::codec::Json)]
pub async fn email_status() -> Result<AccountEmail, AppError> {
    let (_, user_id) = crate::session::signed_in()?;
    super::server::status(&crate::state::db()?, user_id).await
}

/// The device and network of this request, and the time, for a mail's words.
#[cfg(feature = "ssr")]
fn origin(session: &sessions::SessionHandle) -> super::server::Origin {
    super::server::Origin {
        user_agent: session.meta().user_agent.clone(),
        network: session.meta().ip.clone(),
        now: session.store().now(),
    }
}

/// `POST /api/resend_verification` — mails the pending address a new link (the old one
/// stops working). At most 3 an hour per account (429 past that); anonymous: 401.
#[server(prefix = "/api", endpoint = "resend_verification", output = crate::codec::Json)]
pub async fn resend_verification() -> Result<(), AppError> {
    let (session, user_id) = crate::session::signed_in()?;
    let state = crate::state::app_state()?;
    let outcome = async {
        state
            .throttle
            .link_mail("verify", user_id, state.sessions.now())
            .await?
            .map_err(crate::auth::validate::FormError::TooMany)?;
        super::server::resend(&state.db, user_id, &origin(&session)).await?;
        state.outbox.wake();
        Ok(())
    }
    .await;
    crate::forms::finish(outcome, "/account?resent=1#email", "/account", &[])
}

/// `POST /api/change_email` — field `email`. Sensitive (sudo mode: 403 `sudo_required`
/// without a recent proof; a plain form goes to `/confirm`). The new address waits for
/// its link; the old verified one is told. An address in use by another account
/// answers the same (its owner is told instead). Not an address: 422. Shares the hourly
/// three link mails of `resend_verification` (429 past them).
#[server(prefix = "/api", endpoint = "change_email", output = crate::codec::Json)]
pub async fn change_email(email: String) -> Result<(), AppError> {
    let (session, user_id) = match crate::session::sensitive().await {
        Ok(pair) => pair,
        Err(e) => return crate::account::confirm_first(e),
    };
    let state = crate::state::app_state()?;
    let outcome = async {
        let parsed = crate::auth::validate::Email::parse(&email)?;
        // Each change mails a link: it counts against the hourly three of "send again".
        state
            .throttle
            .link_mail("verify", user_id, state.sessions.now())
            .await?
            .map_err(crate::auth::validate::FormError::TooMany)?;
        super::server::change(&state.db, user_id, &parsed, &origin(&session)).await?;
        state.outbox.wake();
        Ok(())
    }
    .await;
    crate::forms::finish(
        outcome,
        "/account?email=pending#email",
        "/account",
        &[("email", &email)],
    )
}

/// `POST /api/forgot_password` — field `account`: an address or a username. Mails a
/// reset link (30 minutes, once) if that names an account with a verified address. The
/// answer is the same, and as quick, whether or not it does: the search and the mail
/// happen after it. At most 20 forms an hour per network (429), and 3 mails an hour per
/// account (past that, nothing is sent; the answer is the same).
#[server(prefix = "/api", endpoint = "forgot_password", output = crate::codec::Json)]
pub async fn forgot_password(account: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let network = crate::auth::throttle::network_key(&crate::session::client_network());
    let now = state.sessions.now();
    let outcome = match state.throttle.forgot(&network, now).await {
        Ok(Ok(())) => {
            tokio::spawn(super::server::mail_reset_link(state.clone(), account, now));
            Ok(())
        }
        Ok(Err(wait)) => Err(crate::auth::validate::FormError::TooMany(wait)),
        Err(e) => Err(e.into()),
    };
    crate::forms::finish(outcome, "/forgot?sent=1", "/forgot", &[])
}

/// `POST /api/reset_status` — whose password the reset link held by this session
/// resets; `null` without a live one.
#[server(prefix = "/api", endpoint = "reset_status", output = crate::codec::Json)]
pub async fn reset_status() -> Result<Option<ResetInfo>, AppError> {
    let session = crate::session::session()?;
    let Some(sid) = session.id() else {
        return Ok(None);
    };
    let db = crate::state::db()?;
    let held = super::server::held_reset(&db, sid, session.store().now()).await?;
    Ok(held.map(|h| ResetInfo {
        username: h.username,
    }))
}

/// `POST /api/reset_password` — fields `password`, `password_confirm`. With a live reset
/// link held by this session (see `GET /reset/<token>`): sets the password (the policy of
/// registration), ends every session of the account (other tabs and devices are signed
/// out live), signs this browser in with a new token, mails "your password was changed"
/// and goes to `/account`. Without one: 422 `reset_link`.
#[server(prefix = "/api", endpoint = "reset_password", output = crate::codec::Json)]
pub async fn reset_password(password: String, password_confirm: String) -> Result<(), AppError> {
    let outcome = crate::auth::server::reset_password(password, password_confirm).await;
    crate::forms::finish(outcome, "/account?reset=1", "/reset", &[])
}
