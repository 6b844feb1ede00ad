//! Addresses and the tokens mailed to them (ssr only).
//!
//! Tokens follow the session token's rules (`sessions::SessionToken`: 32 bytes from the
//! CSPRNG, base64url in the link, only the SHA-256 stored), live in `account_tokens`
//! (one per account and purpose: a new one replaces the old), and are written in the
//! same transaction as the mail that carries them.

use db::{on, Db};
use sessions::{SessionId, SessionToken};

use crate::auth::validate::{Email, Username};
use crate::error::AppError;
use crate::mail::render::{RESET_SECS, VERIFY_SECS};
use crate::mail::{Letter, MailKind, OutboxTx};

/// What a mail token is for (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Reset,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
        }
    }
}

/// Where a request came from, for the words of a mail.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub user_agent: String,
    pub network: String,
    pub now: i64,
}

/// A fresh token (the CSPRNG failing is an internal error).
pub fn new_token() -> Result<SessionToken, AppError> {
    SessionToken::generate().map_err(|e| AppError::internal("no random token", e))
}

/// The statements of the flows below, on an open transaction of either backend.
pub trait AddressTx {
    /// The account whose verified address is `email`: its id and name.
    fn owner_of(
        &mut self,
        email: &str,
    ) -> impl std::future::Future<Output = sqlx::Result<Option<(i64, String)>>> + Send;

    /// Stores a token of `purpose` for `user_id` (replacing the one it had), living
    /// `life` seconds from `now`.
    fn issue(
        &mut self,
        user_id: i64,
        purpose: Purpose,
        email: Option<&str>,
        hash: &[u8],
        now: i64,
        life: i64,
    ) -> impl std::future::Future<Output = sqlx::Result<()>> + Send;
}

db::impl_for_both!(AddressTx {
    async fn owner_of(&mut self, email: &str) -> sqlx::Result<Option<(i64, String)>> {
        sqlx::query_as("SELECT id, username FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut **self)
            .await
    }

    async fn issue(
        &mut self,
        user_id: i64,
        purpose: Purpose,
        email: Option<&str>,
        hash: &[u8],
        now: i64,
        life: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO account_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, purpose) DO UPDATE
                SET token_hash = excluded.token_hash, email = excluded.email,
                    created_at = excluded.created_at, expires_at = excluded.expires_at,
                    session_id = NULL",
        )
        .bind(hash)
        .bind(user_id)
        .bind(purpose.name())
        .bind(email)
        .bind(now)
        .bind(now + life)
        .execute(&mut **self)
        .await
        .map(|_| ())
    }
});

/// Makes `email` the address `user_id` (named `username`) waits to verify, with a new
/// link, and mails it. An address that is another account's already gets no link: its
/// owner is told someone tried (`tell_owner`), and the pending row exists all the same,
/// so neither the answer nor the account page shows whether the address was free.
async fn claim<T: AddressTx + OutboxTx + Send>(
    tx: &mut T,
    user_id: i64,
    username: &str,
    email: &Email,
    token: &SessionToken,
    from: &Origin,
    tell_owner: bool,
) -> sqlx::Result<()> {
    let address = email.as_str();
    tx.issue(
        user_id,
        Purpose::Verify,
        Some(address),
        &token.hash().0,
        from.now,
        VERIFY_SECS,
    )
    .await?;
    match tx.owner_of(address).await? {
        Some((owner, owner_name)) if owner != user_id => {
            if !tell_owner {
                return Ok(());
            }
            let mut letter = Letter::new(MailKind::AddressTaken, address, from.now);
            letter.user_id = Some(owner);
            letter.username = owner_name;
            tx.queue(&letter).await
        }
        _ => {
            let mut letter = Letter::new(MailKind::Verify, address, from.now);
            letter.user_id = Some(user_id);
            letter.username = username.to_string();
            letter.token = token.expose();
            tx.queue(&letter).await
        }
    }
}

/// Creates an account whose address is `email` (pending its link), in one transaction
/// with the mail. `None` if the name is taken (nothing is written then).
pub async fn create_account(
    db: &Db,
    username: &Username,
    password_hash: &str,
    email: &Email,
    from: &Origin,
) -> Result<Option<i64>, AppError> {
    let token = new_token()?;
    let id: Option<i64> = on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(crate::auth::statements::INSERT_USER)
        .bind(username.as_str())
        .bind(password_hash)
        .bind(from.now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            claim(&mut tx, id, username.as_str(), email, &token, from, true).await?;
        }
        tx.commit().await?;
        id
    });
    Ok(id)
}

/// The address of `user_id`: verified, and waiting for its link.
pub async fn status(db: &Db, user_id: i64) -> Result<crate::email::AccountEmail, AppError> {
    let row: Option<(Option<String>, Option<String>)> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT u.email, t.email FROM users u
               LEFT JOIN account_tokens t ON t.user_id = u.id AND t.purpose = 'verify'
              WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(p)
        .await
    })?;
    let (verified, pending) = row.ok_or(AppError::Unauthorized)?;
    Ok(crate::email::AccountEmail { verified, pending })
}

/// Sends the pending address a new link (the old one stops working). An address that
/// became another account's meanwhile gets nothing. `false` if nothing is pending.
pub async fn resend(db: &Db, user_id: i64, from: &Origin) -> Result<bool, AppError> {
    let token = new_token()?;
    let sent = on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        let pending: Option<(String, String)> = sqlx::query_as(
            "SELECT t.email, u.username FROM account_tokens t JOIN users u ON u.id = t.user_id
              WHERE t.user_id = $1 AND t.purpose = 'verify'",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        match pending {
            Some((address, username)) => {
                let email = Email::parse(&address).map_err(|_| {
                    AppError::internal("stored address unreadable", address.len().to_string())
                })?;
                claim(&mut tx, user_id, &username, &email, &token, from, false).await?;
                tx.commit().await?;
                true
            }
            None => false,
        }
    });
    Ok(sent)
}

/// How an address change was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The new address waits for its link; the old one (if verified) was told.
    Pending,
    /// It is already the account's address: nothing to do (a pending change is dropped).
    Same,
}

/// Starts changing `user_id`'s address to `email`, in one transaction: the new address
/// pending with its link (or its owner told, as at registration), and the old verified
/// address told of the change.
pub async fn change(
    db: &Db,
    user_id: i64,
    email: &Email,
    from: &Origin,
) -> Result<Change, AppError> {
    let token = new_token()?;
    let outcome = on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        let (username, current): (String, Option<String>) =
            sqlx::query_as("SELECT username, email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(AppError::Unauthorized)?;
        if current.as_deref() == Some(email.as_str()) {
            sqlx::query("DELETE FROM account_tokens WHERE user_id = $1 AND purpose = 'verify'")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Change::Same
        } else {
            claim(&mut tx, user_id, &username, email, &token, from, true).await?;
            if let Some(old) = current {
                let mut letter = Letter::new(MailKind::AddressChange, &old, from.now);
                letter.user_id = Some(user_id);
                letter.username = username;
                letter.address = email.as_str().to_string();
                letter.user_agent = from.user_agent.clone();
                letter.network = from.network.clone();
                tx.queue(&letter).await?;
            }
            tx.commit().await?;
            Change::Pending
        }
    });
    Ok(outcome)
}

/// What opening a verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The account's address is now this one.
    Done(String),
    /// Unknown, used or expired.
    Invalid,
    /// The address became another account's before the link was opened.
    Taken,
}

/// Uses a verification link's token: once, before it expires.
pub async fn verify(db: &Db, token: &str, now: i64) -> Result<Verified, AppError> {
    let Some(token) = SessionToken::parse(token) else {
        return Ok(Verified::Invalid);
    };
    let hash = token.hash().0;
    let outcome = on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        // An expired link stays, so that the account page can still send a new one.
        let row: Option<(i64, Option<String>)> = sqlx::query_as(
            "DELETE FROM account_tokens
              WHERE token_hash = $1 AND purpose = 'verify' AND expires_at > $2
             RETURNING user_id, email",
        )
        .bind(&hash[..])
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match row {
            Some((user_id, Some(email))) => {
                let set = sqlx::query(
                    "UPDATE users SET email = $2, email_verified_at = $3
                      WHERE id = $1
                        AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email = $2 AND o.id <> $1)",
                )
                .bind(user_id)
                .bind(&email)
                .bind(now)
                .execute(&mut *tx)
                .await;
                match set {
                    Ok(r) if r.rows_affected() == 1 => Verified::Done(email),
                    Ok(_) => Verified::Taken,
                    // Two accounts verifying one address at the same moment: one wins.
                    Err(e) if is_unique_violation(&e) => Verified::Taken,
                    Err(e) => return Err(e.into()),
                }
            }
            _ => Verified::Invalid,
        };
        // A lost race leaves the transaction aborted on PostgreSQL: the token then stays,
        // and is as useless as a spent one (its address is taken).
        if outcome == Verified::Taken {
            let _ = tx.rollback().await;
        } else {
            tx.commit().await?;
        }
        outcome
    });
    Ok(outcome)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// The account a "forgot your password?" form names (a verified address, or a name
/// whose account has one): its id, name and address.
pub async fn account_for_reset(
    db: &Db,
    account: &str,
) -> Result<Option<(i64, String, String)>, AppError> {
    let found = if account.contains('@') {
        let Ok(email) = Email::parse(account) else {
            return Ok(None);
        };
        on!(db.reader(), p => {
            sqlx::query_as("SELECT id, username, email FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(p)
                .await
        })?
    } else {
        let Ok(name) = Username::parse(account.trim()) else {
            return Ok(None);
        };
        on!(db.reader(), p => {
            sqlx::query_as(
                "SELECT id, username, email FROM users
                  WHERE lower(username) = lower($1) AND email IS NOT NULL",
            )
            .bind(name.as_str())
            .fetch_optional(p)
            .await
        })?
    };
    Ok(found)
}

/// Issues a reset link for account `user_id` and queues its mail to `email`, in one
/// transaction (the account's previous link stops working).
pub async fn issue_reset(
    db: &Db,
    user_id: i64,
    username: &str,
    email: &str,
    now: i64,
) -> Result<(), AppError> {
    let token = new_token()?;
    let mut letter = Letter::new(MailKind::Reset, email, now);
    letter.user_id = Some(user_id);
    letter.username = username.to_string();
    letter.token = token.expose();
    on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        tx.issue(user_id, Purpose::Reset, None, &token.hash().0, now, RESET_SECS)
            .await?;
        tx.queue(&letter).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Moves a reset link's token into session `sid` (the link's latest opener holds it).
/// `false` if the token is unknown, used or expired.
pub async fn hold_reset(db: &Db, token: &str, sid: SessionId, now: i64) -> Result<bool, AppError> {
    let Some(token) = SessionToken::parse(token) else {
        return Ok(false);
    };
    let hash = token.hash().0;
    let held = on!(db.writer(), p => {
        sqlx::query(
            "UPDATE account_tokens SET session_id = $1
              WHERE token_hash = $2 AND purpose = 'reset' AND expires_at > $3",
        )
        .bind(sid.0)
        .bind(&hash[..])
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(held == 1)
}

/// The live reset that session `sid` holds: the account's id, name and current hash.
pub struct HeldReset {
    pub user_id: i64,
    pub username: String,
    pub password_hash: String,
}

pub async fn held_reset(db: &Db, sid: SessionId, now: i64) -> Result<Option<HeldReset>, AppError> {
    let row: Option<(i64, String, String)> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT t.user_id, u.username, u.password_hash
               FROM account_tokens t JOIN users u ON u.id = t.user_id
              WHERE t.session_id = $1 AND t.purpose = 'reset' AND t.expires_at > $2",
        )
        .bind(sid.0)
        .bind(now)
        .fetch_optional(p)
        .await
    })?;
    Ok(row.map(|(user_id, username, password_hash)| HeldReset {
        user_id,
        username,
        password_hash,
    }))
}

/// Deletes tokens that can no longer be used: resets past their life, verifications a
/// week past theirs (until then the account page still shows the address as pending,
/// with its "send again").
pub async fn prune(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    on!(db.writer(), p => {
        sqlx::query(
            "DELETE FROM account_tokens
              WHERE (purpose = 'reset' AND expires_at <= $1) OR expires_at <= $1 - 604800",
        )
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })
}

/// The work of a "forgot your password?" form, after its answer: finds the account,
/// counts the mail against its hourly quota, and queues the link. Nothing of it shows in
/// the answer, nor in the log beyond the outcome's kind (never the name or address typed).
pub async fn mail_reset_link(state: crate::state::AppState, account: String, now: i64) {
    let outcome = async {
        let Some((user_id, username, email)) = account_for_reset(&state.db, &account).await? else {
            return Ok("no account with a verified address");
        };
        if let Err(wait) = state.throttle.link_mail("reset", user_id, now).await? {
            tracing::info!(
                user = user_id,
                retry_after_secs = wait,
                "reset mail throttled"
            );
            return Ok("throttled");
        }
        issue_reset(&state.db, user_id, &username, &email, now).await?;
        state.outbox.wake();
        tracing::info!(user = user_id, "reset link queued");
        Ok::<_, AppError>("queued")
    }
    .await;
    match outcome {
        Ok(what) => tracing::debug!(outcome = what, "password reset asked"),
        Err(e) => {
            e.log_cause();
            tracing::error!("password reset could not be queued");
        }
    }
}

/// Whether `token` is a live reset link's.
pub async fn reset_is_live(db: &Db, token: &str, now: i64) -> Result<bool, AppError> {
    let Some(token) = SessionToken::parse(token) else {
        return Ok(false);
    };
    let hash = token.hash().0;
    let live: Option<i64> = on!(db.reader(), p => {
        sqlx::query_scalar(
            "SELECT user_id FROM account_tokens
              WHERE token_hash = $1 AND purpose = 'reset' AND expires_at > $2",
        )
        .bind(&hash[..])
        .bind(now)
        .fetch_optional(p)
        .await
    })?;
    Ok(live.is_some())
}
