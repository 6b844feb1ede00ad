//! Passkeys on the server (ssr only): the relying party, the ceremonies under way, the
//! stored credentials, and the flows the server functions run.
//!
//! A ceremony's state (its challenge) is a row of `passkey_ceremonies`, bound to the
//! session that began it, one per session and purpose, taken (deleted) by the answer
//! that finishes it, so it is used once, and dead after [`CEREMONY_SECS`]. It never
//! travels to the browser. Every refusal answers [`AppError::PasskeyRefused`]; the reason
//! goes to the log.

use db::{on, Db};
use serde::{de::DeserializeOwned, Serialize};
use sessions::{Event, EventKind, SessionId, SignInBy};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Credential, CredentialID, DiscoverableAuthentication, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Uuid, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::model::PasskeyInfo;
pub use super::relying_party::{Passkeys, RelyingParty, CEREMONY_SECS};
use crate::error::AppError;
use crate::state::AppState;

/// Passkeys one account may have.
pub const MAX_PER_ACCOUNT: usize = 20;

/// Longest name of a passkey, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Register,
    SignIn,
    /// A sign-in offered in the username field's autofill (conditional mediation): it
    /// waits while the page is open, beside any sign-in the button starts.
    Autofill,
    Confirm,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
            Purpose::Autofill => "autofill",
            Purpose::Confirm => "confirm",
        }
    }
}

/// A refusal: the reason is logged, the answer says only "not accepted".
fn refused(why: &str) -> AppError {
    tracing::info!(reason = why, "passkey refused");
    AppError::PasskeyRefused
}

fn internal_json(e: serde_json::Error) -> AppError {
    AppError::internal("passkey state (de)serialisation failed", e)
}

/// Stores the state of a new ceremony of `session`, replacing an older one of the same
/// purpose (whose answer is then refused).
async fn begin(
    db: &Db,
    session: SessionId,
    purpose: Purpose,
    state: &impl Serialize,
    now: i64,
) -> Result<(), AppError> {
    let state = serde_json::to_string(state).map_err(internal_json)?;
    on!(db.writer(), p => {
        sqlx::query(
            "INSERT INTO passkey_ceremonies (session_id, purpose, state, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (session_id, purpose)
             DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at",
        )
        .bind(session)
        .bind(purpose.name())
        .bind(state)
        .bind(now + CEREMONY_SECS)
        .execute(p)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// Takes the state of `session`'s ceremony for `purpose`: deleted in the same statement
/// (a second answer finds nothing), `None` if there is none or it has expired.
async fn take<T: DeserializeOwned>(
    db: &Db,
    session: SessionId,
    purpose: Purpose,
    now: i64,
) -> Result<Option<T>, AppError> {
    let row: Option<(String, i64)> = on!(db.writer(), p => {
        sqlx::query_as(
            "DELETE FROM passkey_ceremonies WHERE session_id = $1 AND purpose = $2
             RETURNING state, expires_at",
        )
        .bind(session)
        .bind(purpose.name())
        .fetch_optional(p)
        .await
    })?;
    match row {
        Some((state, expires_at)) if expires_at > now => {
            Ok(Some(serde_json::from_str(&state).map_err(internal_json)?))
        }
        Some(_) => {
            tracing::info!(purpose = purpose.name(), "passkey ceremony expired");
            Ok(None)
        }
        None => Ok(None),
    }
}

/// A stored passkey.
struct Stored {
    id: i64,
    user_id: i64,
    passkey: Passkey,
}

type Row = (i64, i64, String, String, bool, i64, Option<i64>);

const COLUMNS: &str = "id, user_id, name, credential, synced, created_at, last_used_at";

fn stored(row: Row) -> Result<Stored, AppError> {
    let passkey = serde_json::from_str(&row.3).map_err(internal_json)?;
    Ok(Stored {
        id: row.0,
        user_id: row.1,
        passkey,
    })
}

fn info(row: &Row) -> PasskeyInfo {
    PasskeyInfo {
        id: row.0,
        name: row.2.clone(),
        added: crate::orders::server::format_time(row.5),
        last_used: row.6.map(crate::orders::server::format_time),
        synced: row.4,
    }
}

async fn rows_of_user(db: &Db, user_id: i64) -> Result<Vec<Row>, AppError> {
    Ok(on!(db.reader(), p => {
        sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(p)
        .await
    })?)
}

async fn by_credential(db: &Db, credential: &[u8]) -> Result<Option<Stored>, AppError> {
    let row: Option<Row> = on!(db.reader(), p => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"))
            .bind(credential)
            .fetch_optional(p)
            .await
    })?;
    row.map(stored).transpose()
}

/// The user handle `user_id`'s authenticators keep: made at the first passkey (random,
/// so it says nothing about the account), the same ever after.
async fn user_handle(db: &Db, user_id: i64) -> Result<Uuid, AppError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal("no randomness", e))?;
    let fresh = Uuid::from_bytes(bytes);
    let handle: Option<(String,)> = on!(db.writer(), p => {
        sqlx::query_as(
            "UPDATE users SET webauthn_handle = COALESCE(webauthn_handle, $1)
              WHERE id = $2 RETURNING webauthn_handle",
        )
        .bind(fresh.to_string())
        .bind(user_id)
        .fetch_optional(p)
        .await
    })?;
    let (handle,) = handle.ok_or(AppError::Unauthorized)?;
    Uuid::parse_str(&handle)
        .map_err(|e| AppError::internal("stored WebAuthn user handle is not a UUID", e))
}

/// The account whose authenticators hold `handle`.
async fn user_of_handle(db: &Db, handle: Uuid) -> Result<Option<i64>, AppError> {
    let row: Option<(i64,)> = on!(db.reader(), p => {
        sqlx::query_as("SELECT id FROM users WHERE webauthn_handle = $1")
            .bind(handle.to_string())
            .fetch_optional(p)
            .await
    })?;
    Ok(row.map(|(id,)| id))
}

/// Writes a security log row for `kind` (device and network of `session`), in `tx`.
macro_rules! log_row {
    ($tx:expr, $kind:expr, $session:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO security_events (user_id, kind, at, last_at, user_agent, network)
             SELECT user_id, $1, $2, $2, user_agent, ip FROM sessions
              WHERE id = $3 AND user_id IS NOT NULL",
        )
        .bind($kind.name())
        .bind($now)
        .bind($session)
        .execute(&mut *$tx)
        .await
    };
}

/// The signed-in user's passkeys, oldest first.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<PasskeyInfo>, AppError> {
    Ok(rows_of_user(db, user_id).await?.iter().map(info).collect())
}

/// A passkey's name as given, or the device's when none is: one line, at most
/// [`NAME_MAX_CHARS`].
fn parse_name(name: &str, device: &str) -> Result<String, AppError> {
    let name = name.trim();
    let name = if name.is_empty() { device } else { name };
    if name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "A passkey's name must be one line of text.".into(),
        ));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::Invalid(format!(
            "A passkey's name can be at most {NAME_MAX_CHARS} characters."
        )));
    }
    Ok(name.to_string())
}

/// Begins adding a passkey to `user_id`'s account on `session`: the options for
/// `navigator.credentials.create`, asking for a discoverable key and user verification.
pub async fn registration_options(
    state: &AppState,
    session: SessionId,
    user_id: i64,
    username: &str,
) -> Result<CreationChallengeResponse, AppError> {
    let existing = rows_of_user(&state.db, user_id).await?;
    if existing.len() >= MAX_PER_ACCOUNT {
        return Err(AppError::Invalid(format!(
            "An account can have {MAX_PER_ACCOUNT} passkeys: remove one first."
        )));
    }
    let exclude: Vec<CredentialID> = existing
        .into_iter()
        .map(stored)
        .map(|s| s.map(|s| s.passkey.cred_id().clone()))
        .collect::<Result<_, _>>()?;
    let handle = user_handle(&state.db, user_id).await?;
    let (mut options, registration) = state
        .passkeys
        .webauthn
        .start_passkey_registration(handle, username, username, Some(exclude))
        .map_err(|e| AppError::internal("passkey registration could not start", e))?;
    // webauthn-rs asks for `residentKey: discouraged`; a sign-in without a username needs
    // the key to be discoverable. (It checks nothing of this at the end, so asking for
    // more is safe.)
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    begin(
        &state.db,
        session,
        Purpose::Register,
        &registration,
        state.sessions.now(),
    )
    .await?;
    Ok(options)
}

/// Finishes adding a passkey: checks the answer against the ceremony of `session` and
/// stores the credential, with a security log row and an event, in one transaction (in
/// a task of its own, so a hang-up cannot leave half of it).
pub async fn register(
    state: &AppState,
    session: SessionId,
    user_id: i64,
    name: &str,
    device: &str,
    credential: &str,
) -> Result<PasskeyInfo, AppError> {
    let name = parse_name(name, device)?;
    let credential: RegisterPublicKeyCredential = serde_json::from_str(credential)
        .map_err(|_| refused("registration answer is not a credential"))?;
    let now = state.sessions.now();
    let registration: PasskeyRegistration = take(&state.db, session, Purpose::Register, now)
        .await?
        .ok_or_else(|| refused("no registration ceremony under way for this session"))?;
    let passkey = state
        .passkeys
        .webauthn
        .finish_passkey_registration(&credential, &registration)
        .map_err(|e| refused(&format!("registration not verified: {e}")))?;
    let synced = Credential::from(passkey.clone()).backup_state;
    let json = serde_json::to_string(&passkey).map_err(internal_json)?;
    let cred_id = passkey.cred_id().to_vec();
    let kept_name = name.clone();
    let (db, store) = (state.db.clone(), state.sessions.clone());
    let id = detached(async move {
        let id: Option<i64> = on!(db.writer(), p => {
            let mut tx = p.begin().await?;
            let id: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO passkeys (user_id, credential_id, name, credential, synced, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (credential_id) DO NOTHING RETURNING id",
            )
            .bind(user_id)
            .bind(&cred_id)
            .bind(&kept_name)
            .bind(&json)
            .bind(synced)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if id.is_some() {
                log_row!(tx, EventKind::PasskeyAdded, session, now)?;
                tx.commit().await?;
            }
            Ok::<_, sqlx::Error>(id.map(|(id,)| id))
        })?;
        if id.is_some() {
            store.publish(Event::new(
                EventKind::PasskeyAdded,
                Some(user_id),
                Some(session),
            ));
        }
        Ok(id)
    })
    .await?
    .ok_or_else(|| AppError::Conflict("This passkey is already registered.".into()))?;
    tracing::info!(user = user_id, passkey = id, "passkey added");
    Ok(PasskeyInfo {
        id,
        name,
        added: crate::orders::server::format_time(now),
        last_used: None,
        synced,
    })
}

/// Renames passkey `id` of `user_id`. `false` if the account has no such passkey.
pub async fn rename(db: &Db, user_id: i64, id: i64, name: &str) -> Result<bool, AppError> {
    let name = parse_name(name, "")?;
    if name.is_empty() {
        return Err(AppError::Invalid("Please give the passkey a name.".into()));
    }
    let changed = on!(db.writer(), p => {
        sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(&name)
            .bind(id)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

/// Removes passkey `id` of `user_id` (on `session`), with its log row and event, all or
/// nothing. `false` if the account has no such passkey.
pub async fn remove(
    state: &AppState,
    session: SessionId,
    user_id: i64,
    id: i64,
) -> Result<bool, AppError> {
    let (db, store, now) = (
        state.db.clone(),
        state.sessions.clone(),
        state.sessions.now(),
    );
    detached(async move {
        let removed = on!(db.writer(), p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                log_row!(tx, EventKind::PasskeyRemoved, session, now)?;
                tx.commit().await?;
            }
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        if removed {
            tracing::info!(user = user_id, passkey = id, "passkey removed");
            store.publish(Event::new(
                EventKind::PasskeyRemoved,
                Some(user_id),
                Some(session),
            ));
        }
        Ok(removed)
    })
    .await
}

/// Begins a sign-in with a passkey on `session` (a guest's, made for it if need be): the
/// options for `navigator.credentials.get`, naming no account (the authenticator
/// offers its discoverable keys). `conditional`: for the username field's autofill.
pub async fn sign_in_options(
    state: &AppState,
    session: SessionId,
    conditional: bool,
) -> Result<RequestChallengeResponse, AppError> {
    let (mut options, authentication) = state
        .passkeys
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| AppError::internal("passkey sign-in could not start", e))?;
    let purpose = if conditional {
        Purpose::Autofill
    } else {
        options.mediation = None;
        Purpose::SignIn
    };
    begin(
        &state.db,
        session,
        purpose,
        &authentication,
        state.sessions.now(),
    )
    .await?;
    Ok(options)
}

/// Checks a sign-in answer against the ceremony of `session`: the account it names (by
/// the user handle) must own the credential, the signature, the user verification and
/// the counter must hold. Returns the account. The passkey's counter, flags and last
/// use are stored.
pub async fn verify_sign_in(
    state: &AppState,
    session: SessionId,
    conditional: bool,
    credential: &str,
) -> Result<i64, AppError> {
    let credential: PublicKeyCredential = serde_json::from_str(credential)
        .map_err(|_| refused("sign-in answer is not a credential"))?;
    let now = state.sessions.now();
    let purpose = if conditional {
        Purpose::Autofill
    } else {
        Purpose::SignIn
    };
    let authentication: DiscoverableAuthentication = take(&state.db, session, purpose, now)
        .await?
        .ok_or_else(|| refused("no sign-in ceremony under way for this session"))?;
    let (handle, cred_id) = state
        .passkeys
        .webauthn
        .identify_discoverable_authentication(&credential)
        .map_err(|e| refused(&format!("the answer names no account: {e}")))?;
    let stored = by_credential(&state.db, cred_id)
        .await?
        .ok_or_else(|| refused("unknown credential (never added, or removed)"))?;
    if user_of_handle(&state.db, handle).await? != Some(stored.user_id) {
        return Err(refused(
            "the credential belongs to another account than the user handle",
        ));
    }
    let result = state
        .passkeys
        .webauthn
        .finish_discoverable_authentication_v2(&credential, authentication, &stored.passkey);
    finish_use(state, stored, result).await
}

/// Begins a proof of identity with one of the signed-in user's passkeys (sudo mode).
pub async fn confirm_options(
    state: &AppState,
    session: SessionId,
    user_id: i64,
) -> Result<RequestChallengeResponse, AppError> {
    let keys: Vec<Passkey> = rows_of_user(&state.db, user_id)
        .await?
        .into_iter()
        .map(|r| stored(r).map(|s| s.passkey))
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err(AppError::Invalid("This account has no passkey yet.".into()));
    }
    let (options, authentication) = state
        .passkeys
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(|e| AppError::internal("passkey confirmation could not start", e))?;
    begin(
        &state.db,
        session,
        Purpose::Confirm,
        &authentication,
        state.sessions.now(),
    )
    .await?;
    Ok(options)
}

/// Checks a confirmation answer against the ceremony of `session`: a passkey of
/// `user_id`, verified.
pub async fn verify_confirm(
    state: &AppState,
    session: SessionId,
    user_id: i64,
    credential: &str,
) -> Result<(), AppError> {
    let credential: PublicKeyCredential = serde_json::from_str(credential)
        .map_err(|_| refused("confirmation answer is not a credential"))?;
    let now = state.sessions.now();
    let authentication: PasskeyAuthentication = take(&state.db, session, Purpose::Confirm, now)
        .await?
        .ok_or_else(|| refused("no confirmation ceremony under way for this session"))?;
    let stored = by_credential(&state.db, credential.get_credential_id())
        .await?
        .filter(|s| s.user_id == user_id)
        .ok_or_else(|| refused("not a passkey of the signed-in account"))?;
    let result = state
        .passkeys
        .webauthn
        .finish_passkey_authentication(&credential, &authentication);
    finish_use(state, stored, result).await.map(|_| ())
}

/// After the signature check: a counter that went backwards is logged in the account's
/// security log (and refused), a success stores the passkey's new counter and flags.
async fn finish_use(
    state: &AppState,
    mut stored: Stored,
    result: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
) -> Result<i64, AppError> {
    let now = state.sessions.now();
    let result = match result {
        Ok(r) => r,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            tracing::warn!(
                user = stored.user_id,
                passkey = stored.id,
                "passkey refused: its signature counter went backwards"
            );
            log_refused_counter(state, stored.user_id, now).await;
            return Err(AppError::PasskeyRefused);
        }
        Err(e) => return Err(refused(&format!("assertion not verified: {e}"))),
    };
    if !result.user_verified() {
        return Err(refused("the authenticator did not verify the user"));
    }
    stored.passkey.update_credential(&result);
    let json = serde_json::to_string(&stored.passkey).map_err(internal_json)?;
    let (id, user) = (stored.id, stored.user_id);
    on!(state.db.writer(), p => {
        sqlx::query("UPDATE passkeys SET credential = $1, synced = $2, last_used_at = $3 WHERE id = $4")
            .bind(&json)
            .bind(result.backup_state())
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ())
    })?;
    Ok(user)
}

/// A security log row and an event for a passkey refused for its counter.
async fn log_refused_counter(state: &AppState, user_id: i64, now: i64) {
    let logged = on!(state.db.writer(), p => {
        sqlx::query(
            "INSERT INTO security_events (user_id, kind, at, last_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(user_id)
        .bind(EventKind::PasskeyRefused.name())
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
    });
    match logged {
        Ok(_) => state
            .sessions
            .publish(Event::new(EventKind::PasskeyRefused, Some(user_id), None)),
        Err(e) => tracing::warn!(
            error = &e as &dyn std::error::Error,
            "refused passkey not logged"
        ),
    }
}

/// Signs `session` in as `user_id` by passkey: the token rotates, the guest cart merges.
pub async fn sign_in(state: &AppState, user_id: i64) -> Result<(), AppError> {
    let session = crate::session::session()?;
    let sid = session.login_by(user_id, false, SignInBy::Passkey).await?;
    crate::auth::server::merge_after_sign_in(
        state,
        sid,
        user_id,
        crate::auth::devices::Notice::Mail,
    )
    .await
}

/// Runs a change of shared state to its end even if the request is dropped (the client
/// hung up) at an `.await`.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work)
        .await
        .map_err(|e| AppError::internal("passkey write task failed", e))?
}
