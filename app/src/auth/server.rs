//! Account storage and the sign-in / registration flows (ssr only).

use db::{on, Db};

use super::devices::{self, Notice};
use super::password::{hash_password, needs_rehash, rehash, verify_password};
use super::statements::INSERT_USER;
use super::throttle;
use super::validate::{Email, FormError, Password, Username};
use crate::error::AppError;

/// A user row as needed to sign in. Holds the password hash, so it is deliberately not
/// `Serialize` and its `Debug` leaves the hash out.
pub struct UserCredentials {
    pub id: i64,
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Finds a user by name, ignoring case (an index on `lower(username)` on both backends).
pub async fn find_credentials(
    db: &Db,
    username: &Username,
) -> Result<Option<UserCredentials>, sqlx::Error> {
    let row: Option<(i64, String)> = on!(db.reader(), p => {
        sqlx::query_as("SELECT id, password_hash FROM users WHERE lower(username) = lower($1)")
            .bind(username.as_str())
            .fetch_optional(p)
            .await
    })?;
    Ok(row.map(|(id, password_hash)| UserCredentials { id, password_hash }))
}

/// Inserts a user ([`INSERT_USER`]). `None` if the name is taken.
pub async fn insert_user(
    db: &Db,
    username: &Username,
    password_hash: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    on!(db.writer(), p => {
        sqlx::query_scalar(INSERT_USER)
            .bind(username.as_str())
            .bind(password_hash)
            .bind(now)
            .fetch_optional(p)
        .await
    })
}

/// The stored password hash of a user.
pub async fn password_hash_of(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    on!(db.reader(), p => {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(p)
            .await
    })
}

/// The name of `user_id`, from the cache or the database.
pub async fn display_name(user_id: i64) -> Result<Option<String>, AppError> {
    let state = crate::state::app_state()?;
    Ok(state.names.get(&state.db, user_id).await?)
}

/// Creates a user with this password and this verified address unless the name exists
/// (used by the demo seed); an existing user without an address gets this one.
pub async fn ensure_user(
    db: &Db,
    username: &str,
    password: &str,
    email: &str,
    now: i64,
) -> Result<bool, AppError> {
    let username = Username::parse(username).map_err(|e| AppError::Invalid(e.message().into()))?;
    let email = Email::parse(email).map_err(|e| AppError::Invalid(e.message().into()))?;
    let created = match find_credentials(db, &username).await? {
        Some(_) => false,
        None => {
            let password = Password::parse(password.to_string())
                .map_err(|e| AppError::Invalid(e.message().into()))?;
            let hash = hash_password(password).await?;
            insert_user(db, &username, &hash, now).await?.is_some()
        }
    };
    on!(db.writer(), p => {
        sqlx::query(
            "UPDATE users SET email = $2, email_verified_at = $3
              WHERE lower(username) = lower($1) AND email IS NULL
                AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email = $2)",
        )
        .bind(username.as_str())
        .bind(email.as_str())
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
    })?;
    Ok(created)
}

/// Checks the credentials and, if they are right, signs the current session in (rotating
/// its token). Unknown user and wrong password take the same path through argon2 and
/// come back as the same `FormError::Credentials`.
pub async fn sign_in(username: &str, password: String, remember: bool) -> Result<(), FormError> {
    let outcome = check_and_sign_in(username, password, remember).await;
    let result = match &outcome {
        Ok(()) => "ok",
        Err(FormError::Credentials) => "refused",
        Err(FormError::TooMany(_)) => "throttled",
        Err(_) => "failed",
    };
    metrics::counter!("shop_sign_ins_total", "result" => result).increment(1);
    outcome
}

/// [`sign_in`] without its count.
async fn check_and_sign_in(
    username: &str,
    password: String,
    remember: bool,
) -> Result<(), FormError> {
    let state = crate::state::app_state()?;
    let now = state.sessions.now();
    let parsed = Username::parse(username).ok();
    // Names that cannot exist get no account key (nothing to protect, and the map stays
    // bounded by real-looking names); the network key still counts them.
    let account = parsed.as_ref().map(|u| throttle::account_key(u.as_str()));
    let network = throttle::network_key(&crate::session::client_network());
    let mut keys = vec![(network.as_str(), throttle::NETWORK_LIMIT)];
    if let Some(account) = &account {
        keys.push((account.as_str(), throttle::ACCOUNT_LIMIT));
    }
    if let Err(wait) = state.throttle.attempt(&keys, now).await? {
        tracing::info!(retry_after_secs = wait, "sign-in throttled");
        if let Some(u) = &parsed {
            if let Ok(Some(user)) = find_credentials(&state.db, u).await {
                log_refused(&state, user.id);
            }
        }
        return Err(FormError::TooMany(wait));
    }
    let user = match &parsed {
        Some(u) => find_credentials(&state.db, u).await?,
        None => None,
    };
    let (user_id, stored) = match user {
        Some(u) => (Some(u.id), Some(u.password_hash)),
        None => (None, None),
    };
    let outdated = stored.as_deref().is_some_and(needs_rehash);
    let kept = outdated.then(|| password.clone());
    let ok = verify_password(password, stored.clone()).await?;
    let (true, Some(id), Some(stored)) = (ok, user_id, stored) else {
        tracing::info!("failed sign-in"); // already counted by `attempt`
        if let Some(id) = user_id {
            log_refused(&state, id);
        }
        return Err(FormError::Credentials);
    };
    state
        .throttle
        .succeeded(account.as_deref(), &network, throttle::NETWORK_LIMIT)
        .await?;
    let verified = match kept {
        Some(password) => upgrade_hash(&state.db, id, &stored, password).await,
        None => stored,
    };
    let session = crate::session::session()?;
    let sid = session.login(id, remember).await?;
    // A password change that landed while this sign-in was being checked must win: if
    // the hash is no longer the one verified, the new session goes again. (If the change
    // lands after this check, it ends this session with all the others.)
    let now_stored = password_hash_of(&state.db, id).await?;
    if now_stored.as_deref() != Some(verified.as_str()) {
        tracing::info!(
            user = id,
            "password changed during sign-in: session dropped"
        );
        session.logout().await?;
        return Err(FormError::Credentials);
    }
    Ok(merge_after_sign_in(&state, sid, id, Notice::Mail).await?)
}

/// After a sign-in of session `sid` as `user_id`: the guest cart joins the user's, which
/// their other devices show too, and the browser is known to the account (a new one is
/// mailed about if `notice` says so).
pub async fn merge_after_sign_in(
    state: &crate::state::AppState,
    sid: sessions::SessionId,
    user_id: i64,
    notice: Notice,
) -> Result<(), AppError> {
    merge_guest_cart(state, sid, user_id).await?;
    devices::signed_in(state, user_id, notice).await;
    Ok(())
}

/// The guest cart of `sid` joins `user_id`'s, and their other devices hear of it.
async fn merge_guest_cart(
    state: &crate::state::AppState,
    sid: sessions::SessionId,
    user_id: i64,
) -> Result<(), AppError> {
    let merged = crate::cart::server::merge_guest_cart(&state.db, sid, user_id).await?;
    if merged > 0 {
        state
            .sessions
            .publish(sessions::Event::cart_changed(Some(user_id), Some(sid)));
    }
    Ok(())
}

/// Counts a refused sign-in in the account's security log, in a task of its own: the
/// answer must take as long whether or not the name exists (and whether or not that
/// write is slow), or its timing would tell which names do.
fn log_refused(state: &crate::state::AppState, user_id: i64) {
    let (db, store) = (state.db.clone(), state.sessions.clone());
    let network = crate::session::client_network();
    tokio::spawn(async move {
        let counted = crate::account::log::count_refused(&db, &store, user_id, &network).await;
        if let Err(e) = counted {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "refused sign-in not logged"
            );
        }
    });
}

/// Creates an account with its address (pending its link) and signs it in. An address
/// that is another account's already answers the same: its owner is mailed instead.
pub async fn register(
    username: &str,
    email: &str,
    password: String,
    password_confirm: String,
) -> Result<(), FormError> {
    let username = Username::parse(username)?;
    let email = Email::parse(email)?;
    if password != password_confirm {
        return Err(FormError::PasswordMismatch);
    }
    let password = Password::parse(password)?;
    let state = crate::state::app_state()?;
    let now = state.sessions.now();
    // Every well-formed attempt counts, taken names included: that also limits probing
    // which names exist.
    let network = throttle::network_key(&crate::session::client_network());
    state
        .throttle
        .register(&network, now)
        .await?
        .map_err(|wait| {
            tracing::info!(retry_after_secs = wait, "registration throttled");
            FormError::TooMany(wait)
        })?;
    let hash = hash_password(password).await?;
    let session = crate::session::session()?;
    let from = crate::email::server::Origin {
        user_agent: session.meta().user_agent.clone(),
        network: session.meta().ip.clone(),
        now,
    };
    let id = crate::email::server::create_account(&state.db, &username, &hash, &email, &from)
        .await?
        .ok_or(FormError::UsernameTaken)?;
    state.outbox.wake();
    tracing::info!(user = id, "account created");
    let sid = session.login(id, false).await?;
    Ok(merge_after_sign_in(&state, sid, id, Notice::Quiet).await?)
}

/// Sets a new password through the reset link this session holds (see
/// `crate::email::links`): the policy of registration, every session of the account
/// ended, this browser signed in anew. The link works once: the change is conditional on
/// the hash the link was checked against, and the database deletes the account's reset
/// token with any change of its password.
pub async fn reset_password(password: String, password_confirm: String) -> Result<(), FormError> {
    let state = crate::state::app_state()?;
    let session = crate::session::session()?;
    let now = state.sessions.now();
    let held = match session.id() {
        Some(sid) => crate::email::server::held_reset(&state.db, sid, now).await?,
        None => None,
    };
    let held = held.ok_or(FormError::ResetLink)?;
    if password != password_confirm {
        return Err(FormError::PasswordMismatch);
    }
    let password = Password::parse(password)?;
    let hash = hash_password(password).await?;
    // The change, the sign-in and its bookkeeping run to their end even if the client
    // hangs up: ending every session but not signing this one in would be a half reset.
    let task_state = state.clone();
    let user_id = held.user_id;
    let reset = tokio::spawn(async move {
        let changed = session
            .reset_password(user_id, held.password_hash, hash)
            .await?;
        if !changed {
            return Ok(false);
        }
        if let Some(sid) = session.id() {
            merge_guest_cart(&task_state, sid, user_id).await?;
        }
        task_state.outbox.wake();
        Ok::<_, AppError>(true)
    })
    .await
    .map_err(|e| AppError::internal("reset task failed", e))??;
    if !reset {
        return Err(FormError::ResetLink);
    }
    devices::signed_in(&state, user_id, Notice::Quiet).await;
    Ok(())
}

/// Checks the signed-in user's password (throttled like a sign-in) and records the proof
/// on the session, rotating its token (sudo mode).
pub async fn confirm(password: String) -> Result<(), FormError> {
    let state = crate::state::app_state()?;
    let (session, user_id) = crate::session::signed_in()?;
    let name = display_name(user_id).await?.ok_or(AppError::Unauthorized)?;
    let account = throttle::account_key(&name);
    let limit = [(account.as_str(), throttle::ACCOUNT_LIMIT)];
    if let Err(wait) = state.throttle.attempt(&limit, state.sessions.now()).await? {
        return Err(FormError::TooMany(wait));
    }
    let stored = password_hash_of(&state.db, user_id).await?;
    if !verify_password(password, stored).await? {
        return Err(FormError::CurrentPassword); // already counted by `attempt`
    }
    state.throttle.clear(&account).await?;
    if !session.prove().await? {
        return Err(AppError::Unauthorized.into());
    }
    Ok(())
}

/// Re-hashes a password verified against an outdated hash with today's settings. Only if
/// the stored hash is still the old one (a concurrent password change wins). A failure is
/// logged and the sign-in goes on: the old hash still works. Returns the hash now expected
/// in the row.
async fn upgrade_hash(db: &Db, user_id: i64, old: &str, password: String) -> String {
    let result = async {
        let new = rehash(password).await?;
        let changed = on!(db.writer(), p => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(&new)
                .bind(user_id)
                .bind(old)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok::<_, AppError>((changed == 1).then_some(new))
    }
    .await;
    match result {
        Ok(Some(new)) => {
            tracing::info!(user = user_id, "password re-hashed with current settings");
            new
        }
        Ok(None) => old.to_string(),
        Err(e) => {
            tracing::warn!(
                user = user_id,
                error = ?e,
                "could not re-hash an outdated password hash"
            );
            old.to_string()
        }
    }
}

/// Changes the signed-in user's password: checks the current one (throttled like a
/// sign-in), applies the policy, stores the new hash, ends every other session of the
/// user and gives this one a new token.
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), FormError> {
    let state = crate::state::app_state()?;
    let (session, user_id) = crate::session::signed_in()?;
    if new != confirm {
        return Err(FormError::PasswordMismatch);
    }
    let new = Password::parse(new)?;
    if new.expose() == current {
        return Err(FormError::SamePassword);
    }
    let now = state.sessions.now();
    let name = display_name(user_id).await?.ok_or(AppError::Unauthorized)?;
    let account = throttle::account_key(&name);
    let limit = [(account.as_str(), throttle::ACCOUNT_LIMIT)];
    if let Err(wait) = state.throttle.attempt(&limit, now).await? {
        return Err(FormError::TooMany(wait));
    }
    let stored = password_hash_of(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !verify_password(current, Some(stored.clone())).await? {
        return Err(FormError::CurrentPassword); // already counted by `attempt`
    }
    state.throttle.clear(&account).await?;
    let hash = hash_password(new).await?;
    // One transaction: the new hash, every other session ended, this one rotated.
    if !session.change_password(stored, hash).await? {
        // Changed concurrently by another request: let the user try again.
        return Err(FormError::CurrentPassword);
    }
    tracing::info!(user = user_id, "password changed; the other sessions ended");
    Ok(())
}
