use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

/// `POST /api/list_sessions` — the signed-in user's live sessions, most recently used
/// first, with `current` marking the one asking.
#[server(prefix = "/api", endpoint = "list_sessions", output = crate::codec::Json)]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let (session, user) = crate::session::signed_in()?;
    let current = session.id();
    let list = session.store().user_sessions(user).await?;
    Ok(list
        .into_iter()
        .map(|s| SessionInfo {
            current: Some(s.id) == current,
            device: super::device::describe(&s.user_agent),
            ip: s.ip,
            created: crate::orders::server::format_time(s.created_at),
            last_seen: crate::orders::server::format_time(s.last_seen_at),
            remembered: s.persistent,
            handle: s.handle,
        })
        .collect())
}

/// How many rows of the security log are listed at most.
#[cfg(feature = "ssr")]
const SECURITY_LOG_ROWS: i64 = 200;

/// `POST /api/security_log` — the signed-in user's security log of the last 90 days,
/// newest first: sign-ins (with device and network), sign-outs, sessions ended from
/// another one, "signed out everywhere else", password changes, and refused sign-ins
/// counted per network and day. Only the user's own session may read it (401 otherwise).
#[server(prefix = "/api", endpoint = "security_log", output = crate::codec::Json)]
pub async fn security_log() -> Result<Vec<SecurityEntry>, AppError> {
    let (session, user) = crate::session::signed_in()?;
    let store = session.store();
    let since = store.now() - store.config().security_log_retention.as_secs() as i64;
    let rows = super::log::read(store.db(), user, since, SECURITY_LOG_ROWS).await?;
    Ok(rows.into_iter().map(describe_entry).collect())
}

/// A log row in words.
#[cfg(feature = "ssr")]
fn describe_entry(row: super::log::LogEntry) -> SecurityEntry {
    let device = if row.kind == LogKind::SignInRefused {
        String::new()
    } else {
        super::device::describe(&row.user_agent)
    };
    let network = if row.network.is_empty() {
        "an unknown network".to_string()
    } else {
        row.network.clone()
    };
    let text = match row.kind {
        LogKind::SignedIn => format!("Signed in on {device}"),
        LogKind::SignedInWithPasskey => format!("Signed in with a passkey on {device}"),
        LogKind::PasskeyAdded => format!("Passkey added on {device}"),
        LogKind::PasskeyRemoved => format!("Passkey removed on {device}"),
        LogKind::PasskeyRefused => {
            "A passkey was refused: its counter went backwards (a copied key?)".to_string()
        }
        LogKind::SignedOut => format!("Signed out on {device}"),
        LogKind::Revoked => format!("Signed out {device} from another session"),
        LogKind::RevokedOthers => format!("Signed out everywhere else, from {device}"),
        LogKind::PasswordChanged => format!("Password changed on {device}"),
        LogKind::SignInRefused if row.count == 1 => format!("1 refused sign-in from {network}"),
        LogKind::SignInRefused => format!("{} refused sign-ins from {network}", row.count),
    };
    SecurityEntry {
        kind: row.kind,
        text,
        device,
        network: row.network,
        when: crate::orders::server::format_time(row.last_at),
        at: row.last_at,
        count: row.count,
    }
}

/// `POST /api/revoke_session` — field `handle` (from `list_sessions`). Ends that session
/// of the signed-in user (ending the current one signs out) and answers whether it was
/// the current one. A handle that is not one of the user's live sessions: 404. Ending
/// another session is sensitive: without a proof of identity in the last `SUDO_SECS`,
/// 403 `sudo_required` (a plain form goes to `/confirm`).
#[server(prefix = "/api", endpoint = "revoke_session", output = crate::codec::Json)]
pub async fn revoke_session(handle: String) -> Result<bool, AppError> {
    let (session, _) = crate::session::signed_in()?;
    let current = session.session().map(|s| s.handle == handle) == Some(true);
    // Signing out here is not sensitive; ending another device's session is.
    if !current {
        if let Err(e) = crate::session::sensitive().await {
            return confirm_first(e);
        }
    }
    if !session.end_session(&handle).await? {
        return Err(AppError::NotFound);
    }
    if crate::forms::is_plain_form_post() {
        leptos_axum::redirect(if current { "/" } else { "/account" });
    }
    Ok(current)
}

/// `POST /api/revoke_other_sessions` — ends every session of the signed-in user except
/// this one; answers how many ended. Sensitive, as above.
#[server(prefix = "/api", endpoint = "revoke_other_sessions", output = crate::codec::Json)]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let (session, _) = match crate::session::sensitive().await {
        Ok(pair) => pair,
        Err(e) => return confirm_first(e),
    };
    let ended = session.end_other_sessions().await?;
    if crate::forms::is_plain_form_post() {
        leptos_axum::redirect("/account");
    }
    Ok(ended)
}

/// A sensitive action refused: a plain form goes to the confirm step and back to the
/// account page; a call from the page gets the error (403 `sudo_required`), which the
/// page turns into the same step.
#[cfg(feature = "ssr")]
pub(crate) fn confirm_first<T: Default>(e: AppError) -> Result<T, AppError> {
    if matches!(e, AppError::SudoRequired) && crate::forms::is_plain_form_post() {
        leptos_axum::redirect("/confirm?next=/account");
        return Ok(T::default());
    }
    Err(e)
}

/// `POST /api/change_password` — fields `current_password`, `new_password`,
/// `new_password_confirm`. Checks the current password (wrong: 422; repeated failures
/// are throttled like sign-ins, 429), applies the password policy, stores the new hash,
/// ends every other session of the user and rotates this session's token.
#[server(prefix = "/api", endpoint = "change_password", output = crate::codec::Json)]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirm: String,
) -> Result<(), AppError> {
    if crate::session::session()?.user_id().is_none() {
        return Err(AppError::Unauthorized);
    }
    let outcome =
        crate::auth::server::change_password(current_password, new_password, new_password_confirm)
            .await;
    crate::forms::finish(outcome, "/account?changed=1", "/account", &[])
}
