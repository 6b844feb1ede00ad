use leptos::prelude::*;

use super::model::PasskeyInfo;
use crate::error::AppError;

/// `POST /api/passkeys` — the signed-in user's passkeys, oldest first (401 anonymous).
#[server(prefix = "/api", endpoint = "passkeys", output = crate::codec::Json)]
pub async fn passkeys() -> Result<Vec<PasskeyInfo>, AppError> {
    let (_, user) = crate::session::signed_in()?;
    super::server::list(&crate::state::db()?, user).await
}

/// `POST /api/passkey_registration_options` — begins adding a passkey: the options for
/// `navigator.credentials.create` as JSON text (`{"publicKey": {…}}`, base64url
/// fields), asking for a discoverable key with user verification. The challenge stays
/// on the server, bound to this session, for 5 minutes. Sensitive (403
/// `sudo_required` without a recent proof).
#[server(prefix = "/api", endpoint = "passkey_registration_options", output = crate::codec::Json)]
pub async fn passkey_registration_options() -> Result<String, AppError> {
    let (session, user) = crate::session::sensitive().await?;
    let state = crate::state::app_state()?;
    let name = crate::auth::server::display_name(user)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let sid = session.id().ok_or(AppError::Unauthorized)?;
    let options = super::server::registration_options(&state, sid, user, &name).await?;
    serde_json::to_string(&options).map_err(|e| AppError::internal("options not serialised", e))
}

/// `POST /api/add_passkey` — fields `name` (empty: the device's name, e.g. "Chrome on
/// Linux") and `credential` (the JSON of the `PublicKeyCredential` the browser made).
/// Stores the passkey; security log "Passkey added". Sensitive. A credential that does
/// not answer this session's ceremony: 401 `passkey_refused`.
#[server(prefix = "/api", endpoint = "add_passkey", output = crate::codec::Json)]
pub async fn add_passkey(name: String, credential: String) -> Result<PasskeyInfo, AppError> {
    let (session, user) = crate::session::sensitive().await?;
    let state = crate::state::app_state()?;
    let current = session.session().ok_or(AppError::Unauthorized)?;
    let device = crate::account::device::describe(&current.user_agent);
    super::server::register(&state, current.id, user, &name, &device, &credential).await
}

/// `POST /api/rename_passkey` — fields `id`, `name` (1 to 64 characters). 404 if the
/// account has no such passkey. Works as a plain form (back to `/account`).
#[server(prefix = "/api", endpoint = "rename_passkey", output = crate::codec::Json)]
pub async fn rename_passkey(id: i64, name: String) -> Result<(), AppError> {
    let (_, user) = crate::session::signed_in()?;
    if !super::server::rename(&crate::state::db()?, user, id, &name).await? {
        return Err(AppError::NotFound);
    }
    if crate::forms::is_plain_form_post() {
        leptos_axum::redirect("/account");
    }
    Ok(())
}

/// `POST /api/remove_passkey` — field `id`. Removes the passkey (security log "Passkey
/// removed"); 404 if the account has no such passkey. Sensitive: 403 `sudo_required`,
/// or for a plain form the confirm step and back.
#[server(prefix = "/api", endpoint = "remove_passkey", output = crate::codec::Json)]
pub async fn remove_passkey(id: i64) -> Result<(), AppError> {
    let (session, user) = match crate::session::sensitive().await {
        Ok(pair) => pair,
        Err(e) => return crate::account::confirm_first(e),
    };
    let state = crate::state::app_state()?;
    let sid = session.id().ok_or(AppError::Unauthorized)?;
    if !super::server::remove(&state, sid, user, id).await? {
        return Err(AppError::NotFound);
    }
    if crate::forms::is_plain_form_post() {
        leptos_axum::redirect("/account");
    }
    Ok(())
}

/// `POST /api/passkey_sign_in_options` — field `conditional` (`true` for the username
/// field's autofill). Begins a sign-in with a passkey, naming no account: the options
/// for `navigator.credentials.get` as JSON text. A visitor without a session gets a
/// guest one, which the challenge is bound to (counted per network like a guest cart's:
/// 429 beyond that).
#[server(prefix = "/api", endpoint = "passkey_sign_in_options", output = crate::codec::Json)]
pub async fn passkey_sign_in_options(conditional: bool) -> Result<String, AppError> {
    let state = crate::state::app_state()?;
    let session = crate::session::session()?;
    if session.id().is_none() {
        // A new guest session, counted like a guest cart's (a flood gets no rows).
        let network = crate::auth::throttle::network_key(&crate::session::client_network());
        if let Err(wait) = state
            .throttle
            .new_guest(&network, state.sessions.now())
            .await?
        {
            return Err(AppError::TooManyRequests {
                retry_after_secs: wait,
            });
        }
    }
    let sid = session.ensure().await?;
    let options = super::server::sign_in_options(&state, sid, conditional).await?;
    serde_json::to_string(&options).map_err(|e| AppError::internal("options not serialised", e))
}

/// `POST /api/passkey_sign_in` — fields `credential` (the JSON of the browser's
/// `PublicKeyCredential`), optional `next` (a local path) and `conditional` (the answer
/// to the autofill's options rather than the button's). Signs in as the passkey's
/// account: the token rotates, a guest cart joins the account's, the security log says
/// "Signed in with a passkey". Answers where to go (`next`, or `/`). Refused (401
/// `passkey_refused`, no session signed in): an unknown or removed passkey, another
/// account's, a challenge used, expired or begun by another session, a failed signature
/// or user verification, a counter gone backwards. Refusals are throttled per network
/// like wrong passwords (429).
#[server(prefix = "/api", endpoint = "passkey_sign_in", output = crate::codec::Json)]
pub async fn passkey_sign_in(
    credential: String,
    next: Option<String>,
    #[server(default)] conditional: bool,
) -> Result<String, AppError> {
    use crate::auth::throttle;
    let next = crate::auth::validate::safe_next(next.as_deref());
    let state = crate::state::app_state()?;
    let network = throttle::network_key(&crate::session::client_network());
    let keys = [(network.as_str(), throttle::NETWORK_LIMIT)];
    let counted = |result: &'static str| {
        metrics::counter!("shop_sign_ins_total", "result" => result).increment(1);
    };
    if let Err(wait) = state.throttle.attempt(&keys, state.sessions.now()).await? {
        counted("throttled");
        return Err(AppError::TooManyRequests {
            retry_after_secs: wait,
        });
    }
    let sid = crate::session::session()?
        .id()
        .ok_or(AppError::PasskeyRefused)?;
    let user = match super::server::verify_sign_in(&state, sid, conditional, &credential).await {
        Ok(user) => user,
        Err(e) => {
            counted(if e == AppError::PasskeyRefused {
                "refused"
            } else {
                "failed"
            });
            return Err(e);
        }
    };
    state
        .throttle
        .succeeded(None, &network, throttle::NETWORK_LIMIT)
        .await?;
    super::server::sign_in(&state, user).await?;
    counted("ok");
    Ok(next)
}

/// `POST /api/passkey_confirm_options` — begins a proof of identity (sudo mode) with one
/// of the signed-in user's passkeys: options for `navigator.credentials.get` as JSON
/// text. 422 if the account has no passkey.
#[server(prefix = "/api", endpoint = "passkey_confirm_options", output = crate::codec::Json)]
pub async fn passkey_confirm_options() -> Result<String, AppError> {
    let (session, user) = crate::session::signed_in()?;
    let state = crate::state::app_state()?;
    let sid = session.id().ok_or(AppError::Unauthorized)?;
    let options = super::server::confirm_options(&state, sid, user).await?;
    serde_json::to_string(&options).map_err(|e| AppError::internal("options not serialised", e))
}

/// `POST /api/confirm_with_passkey` — fields `credential`, optional `next`. The passkey
/// counterpart of `/api/confirm_identity`: a verified passkey of the signed-in user
/// proves it is them (the token rotates). Answers where to go (`next`, or `/`). Refused:
/// 401 `passkey_refused`; failures are throttled per account like wrong passwords.
#[server(prefix = "/api", endpoint = "confirm_with_passkey", output = crate::codec::Json)]
pub async fn confirm_with_passkey(
    credential: String,
    next: Option<String>,
) -> Result<String, AppError> {
    use crate::auth::throttle;
    let next = crate::auth::validate::safe_next(next.as_deref());
    let (session, user) = crate::session::signed_in()?;
    let state = crate::state::app_state()?;
    let name = crate::auth::server::display_name(user)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let account = throttle::account_key(&name);
    let limit = [(account.as_str(), throttle::ACCOUNT_LIMIT)];
    if let Err(wait) = state.throttle.attempt(&limit, state.sessions.now()).await? {
        return Err(AppError::TooManyRequests {
            retry_after_secs: wait,
        });
    }
    let sid = session.id().ok_or(AppError::Unauthorized)?;
    super::server::verify_confirm(&state, sid, user, &credential).await?;
    state.throttle.clear(&account).await?;
    if !session.prove().await? {
        return Err(AppError::Unauthorized);
    }
    Ok(next)
}
