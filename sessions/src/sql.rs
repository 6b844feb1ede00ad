//! The SQL layer: every statement on the `sessions` table (and the security log rows the
//! engine writes beside them), and nothing else: no cache, no announcements, no policy.
//!
//! Reads run on a pool through [`db::on!`]. Writes are methods of [`SessionTx`] on an
//! open transaction; the trait is implemented for SQLite's and PostgreSQL's transaction
//! from one text ([`db::impl_for_both!`]), so each statement is written once and compiled
//! against each backend's own types. [`Notify`] is the one step that differs. The write
//! protocol (`crate::write`) opens the transaction, calls these, and announces.

use std::future::Future;

use db::{on, Db};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::events::Event;
use crate::session::{Session, SessionId};

const COLUMNS: &str = "id, user_id, created_at, last_seen_at, authenticated_at, proved_at, \
                       idle_expires_at, absolute_expires_at, persistent, user_agent, ip, handle";
/// The same, for a query that joins `sessions s` with `users u`.
const S_COLUMNS: &str = "s.id, s.user_id, s.created_at, s.last_seen_at, s.authenticated_at, \
                         s.proved_at, s.idle_expires_at, s.absolute_expires_at, s.persistent, s.user_agent, \
                         s.ip, s.handle";

/// The query for the session row whose `column` is `$1`, unless it was signed in before
/// its user's last password change: such a session is dead, whatever else happened to it.
fn live_row(column: &str) -> String {
    format!(
        "SELECT {S_COLUMNS} FROM sessions s LEFT JOIN users u ON u.id = s.user_id
          WHERE {column} = $1
            AND (s.authenticated_at IS NULL OR s.authenticated_at >= u.password_changed_at)"
    )
}

/// A new session row.
#[derive(Debug)]
pub(crate) struct NewRow<'a> {
    pub token_hash: &'a [u8],
    /// The token this session's row takes over from (kept as replaced at `now`).
    pub replaces: Option<&'a [u8]>,
    pub user_id: Option<i64>,
    pub now: i64,
    pub deadlines: Deadlines,
    pub persistent: bool,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub handle: &'a str,
}

/// A session's idle and absolute deadlines (unix seconds), as `crate::expiry` sets them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    pub idle: i64,
    pub absolute: i64,
}

/// Where a security log row takes its device and network from.
#[derive(Debug, Clone)]
pub(crate) enum Device {
    /// From this session row (which must still exist, and belong to a user).
    Of(SessionId),
    /// As given (a row just deleted): user agent and coarse address.
    Given(String, String),
    /// None: nothing is logged.
    Unknown,
}

/// The statements a session write runs inside its transaction.
pub(crate) trait SessionTx: Send {
    /// Inserts a session row and returns it.
    fn insert(&mut self, row: NewRow<'_>) -> impl Future<Output = sqlx::Result<Session>> + Send;

    /// Signs `user_id` in on row `id`: new token, `authenticated_at` now, fresh deadlines.
    ///
    /// This and every other statement that gives a row a new token keeps the old token's
    /// hash in `replaced_hash`, with the time in `replaced_at` ([`Rows::replaced_since`]).
    fn sign_in(
        &mut self,
        id: SessionId,
        token_hash: &[u8],
        user_id: i64,
        now: i64,
        persistent: bool,
        deadlines: Deadlines,
    ) -> impl Future<Output = sqlx::Result<Option<Session>>> + Send;

    /// Gives row `id` a new token (the old one is kept as replaced at `now`). Returns the
    /// rows changed (0 or 1).
    fn set_token(
        &mut self,
        id: SessionId,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// The new password hash of `user_id`, only if the stored one is still `old_hash`.
    /// Returns the rows changed (0 or 1).
    fn set_password(
        &mut self,
        user_id: i64,
        old_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// Gives `keep` (a session of `user_id`) a new token and signs it in anew.
    fn reauthenticate(
        &mut self,
        keep: SessionId,
        user_id: i64,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// Records a proof on row `id` (of `user_id`) at `now` with a new token. Returns the
    /// rows changed (0 or 1).
    fn prove(
        &mut self,
        id: SessionId,
        user_id: i64,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// Moves row `id`'s proof time to `now` if it is not older than `since` (a sensitive
    /// action extends a fresh proof, never revives a stale one). Returns the rows changed.
    fn extend_proof(
        &mut self,
        id: SessionId,
        since: i64,
        now: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// Deletes row `id`; returns its user, user agent and address if it existed.
    fn delete(
        &mut self,
        id: SessionId,
    ) -> impl Future<Output = sqlx::Result<Option<(Option<i64>, String, String)>>> + Send;

    /// Deletes the session of `user_id` with this id (and this handle); returns its user
    /// agent and address if it existed.
    fn delete_owned(
        &mut self,
        id: SessionId,
        user_id: i64,
        handle: &str,
    ) -> impl Future<Output = sqlx::Result<Option<(String, String)>>> + Send;

    /// Deletes every session of `user_id` except `keep`. Returns how many went.
    fn delete_others(
        &mut self,
        user_id: i64,
        keep: Option<SessionId>,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// Deletes every row past a deadline at `now`. Returns how many went.
    fn delete_expired(&mut self, now: i64) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// A row in the user's security log for `event` (only for logged kinds).
    fn log(
        &mut self,
        event: &Event,
        device: &Device,
        now: i64,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
}

/// Announces `payload` on `channel` when the transaction commits: `NOTIFY` on
/// PostgreSQL; nothing on SQLite, whose one process hears of it in-process.
pub(crate) trait Notify {
    fn notify(
        &mut self,
        channel: &'static str,
        payload: String,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
}

impl Notify for Transaction<'_, Sqlite> {
    async fn notify(&mut self, _channel: &'static str, _payload: String) -> sqlx::Result<()> {
        Ok(())
    }
}

impl Notify for Transaction<'_, Postgres> {
    async fn notify(&mut self, channel: &'static str, payload: String) -> sqlx::Result<()> {
        pg_notify(&mut **self, channel, payload).await
    }
}

db::impl_for_both!(SessionTx {
    async fn insert(&mut self, row: NewRow<'_>) -> sqlx::Result<Session> {
        sqlx::query_as::<_, Session>(&format!(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,
                                   authenticated_at, proved_at, idle_expires_at,
                                   absolute_expires_at, persistent, user_agent, ip, handle,
                                   replaced_hash, replaced_at)
             VALUES ($1, $2, $3, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING {COLUMNS}"
        ))
        .bind(row.token_hash)
        .bind(row.user_id)
        .bind(row.now)
        .bind(row.user_id.map(|_| row.now))
        .bind(row.deadlines.idle)
        .bind(row.deadlines.absolute)
        .bind(row.persistent)
        .bind(row.user_agent)
        .bind(row.ip)
        .bind(row.handle)
        .bind(row.replaces)
        .bind(row.replaces.map(|_| row.now))
        .fetch_one(&mut **self)
        .await
    }

    async fn sign_in(
        &mut self,
        id: SessionId,
        token_hash: &[u8],
        user_id: i64,
        now: i64,
        persistent: bool,
        deadlines: Deadlines,
    ) -> sqlx::Result<Option<Session>> {
        sqlx::query_as::<_, Session>(&format!(
            "UPDATE sessions
                SET token_hash = $1, replaced_hash = token_hash, replaced_at = $3,
                    user_id = $2, authenticated_at = $3, proved_at = $3,
                    last_seen_at = $3, persistent = $4, idle_expires_at = $5,
                    absolute_expires_at = $6
              WHERE id = $7
          RETURNING {COLUMNS}"
        ))
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(persistent)
        .bind(deadlines.idle)
        .bind(deadlines.absolute)
        .bind(id)
        .fetch_optional(&mut **self)
        .await
    }

    async fn set_token(&mut self, id: SessionId, token_hash: &[u8], now: i64) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET token_hash = $1, replaced_hash = token_hash, replaced_at = $2
              WHERE id = $3",
        )
        .bind(token_hash)
        .bind(now)
        .bind(id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }

    async fn set_password(
        &mut self,
        user_id: i64,
        old_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2
              WHERE id = $3 AND password_hash = $4",
        )
        .bind(new_hash)
        .bind(now)
        .bind(user_id)
        .bind(old_hash)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }

    async fn reauthenticate(
        &mut self,
        keep: SessionId,
        user_id: i64,
        token_hash: &[u8],
        now: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET token_hash = $1, replaced_hash = token_hash, replaced_at = $2,
                                authenticated_at = $2, proved_at = $2
              WHERE id = $3 AND user_id = $4",
        )
        .bind(token_hash)
        .bind(now)
        .bind(keep)
        .bind(user_id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }

    async fn prove(
        &mut self,
        id: SessionId,
        user_id: i64,
        token_hash: &[u8],
        now: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET token_hash = $1, replaced_hash = token_hash, replaced_at = $2,
                                proved_at = $2
              WHERE id = $3 AND user_id = $4",
        )
        .bind(token_hash)
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }

    async fn extend_proof(&mut self, id: SessionId, since: i64, now: i64) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET proved_at = $1 WHERE id = $2 AND proved_at >= $3",
        )
        .bind(now)
        .bind(id)
        .bind(since)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }

    async fn delete(&mut self, id: SessionId) -> sqlx::Result<Option<(Option<i64>, String, String)>> {
        sqlx::query_as("DELETE FROM sessions WHERE id = $1 RETURNING user_id, user_agent, ip")
            .bind(id)
            .fetch_optional(&mut **self)
            .await
    }

    async fn delete_owned(
        &mut self,
        id: SessionId,
        user_id: i64,
        handle: &str,
    ) -> sqlx::Result<Option<(String, String)>> {
        sqlx::query_as(
            "DELETE FROM sessions WHERE id = $1 AND user_id = $2 AND handle = $3
             RETURNING user_agent, ip",
        )
        .bind(id)
        .bind(user_id)
        .bind(handle)
        .fetch_optional(&mut **self)
        .await
    }

    async fn delete_others(&mut self, user_id: i64, keep: Option<SessionId>) -> sqlx::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
            .bind(user_id)
            .bind(keep)
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired(&mut self, now: i64) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1",
        )
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }

    async fn log(&mut self, event: &Event, device: &Device, now: i64) -> sqlx::Result<()> {
        if !event.kind.is_logged() {
            return Ok(());
        }
        match (device, event.user) {
            (Device::Of(session), _) => {
                sqlx::query(
                    "INSERT INTO security_events (user_id, kind, at, last_at, user_agent, network)
                     SELECT user_id, $1, $2, $2, user_agent, ip FROM sessions
                      WHERE id = $3 AND user_id IS NOT NULL",
                )
                .bind(event.kind.name())
                .bind(now)
                .bind(*session)
                .execute(&mut **self)
                .await?;
            }
            (Device::Given(user_agent, ip), Some(user)) => {
                sqlx::query(
                    "INSERT INTO security_events (user_id, kind, at, last_at, user_agent, network)
                     VALUES ($1, $2, $3, $3, $4, $5)",
                )
                .bind(user)
                .bind(event.kind.name())
                .bind(now)
                .bind(user_agent)
                .bind(ip)
                .execute(&mut **self)
                .await?;
            }
            (Device::Given(..), None) | (Device::Unknown, _) => {}
        }
        Ok(())
    }
});

/// `NOTIFY` on PostgreSQL, the one place it is spelled: delivered when the surrounding
/// transaction commits, or at once on a plain connection.
pub(crate) async fn pg_notify<'e>(
    on: impl sqlx::PgExecutor<'e>,
    channel: &'static str,
    payload: String,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(on)
        .await
        .map(|_| ())
}

/// The reads (and the one unannounced write, the touch) on the `sessions` table.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    db: Db,
}

impl Rows {
    pub fn new(db: Db) -> Self {
        Rows { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The live row with this token hash (see [`live_row`]).
    pub async fn by_token_hash(&self, hash: &[u8; 32]) -> sqlx::Result<Option<Session>> {
        on!(self.db.reader(), p => {
            sqlx::query_as::<_, Session>(&live_row("s.token_hash"))
                .bind(&hash[..])
                .fetch_optional(p)
                .await
        })
    }

    /// Whether a row's token was replaced by a newer one after `since`, and this was it:
    /// the browser that held it was given the newer one (see [`crate::Lookup::Replaced`]).
    pub async fn replaced_since(&self, hash: &[u8; 32], since: i64) -> sqlx::Result<bool> {
        on!(self.db.reader(), p => {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM sessions WHERE replaced_hash = $1 AND replaced_at > $2",
            )
            .bind(&hash[..])
            .bind(since)
            .fetch_optional(p)
            .await
            .map(|id| id.is_some())
        })
    }

    /// The live row with this id, from the database.
    pub async fn by_id(&self, id: SessionId) -> sqlx::Result<Option<Session>> {
        on!(self.db.reader(), p => {
            sqlx::query_as::<_, Session>(&live_row("s.id"))
                .bind(id)
                .fetch_optional(p)
                .await
        })
    }

    /// The id of `user_id`'s session with this handle.
    pub async fn id_of_handle(
        &self,
        user_id: i64,
        handle: &str,
    ) -> sqlx::Result<Option<SessionId>> {
        on!(self.db.reader(), p => {
            sqlx::query_scalar("SELECT id FROM sessions WHERE user_id = $1 AND handle = $2")
                .bind(user_id)
                .bind(handle)
                .fetch_optional(p)
                .await
        })
    }

    /// `user_id`'s sessions not past a deadline at `now`, most recently used first.
    pub async fn of_user(&self, user_id: i64, now: i64) -> sqlx::Result<Vec<Session>> {
        on!(self.db.reader(), p => {
            sqlx::query_as::<_, Session>(&format!(
                "SELECT {COLUMNS} FROM sessions
                  WHERE user_id = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2
                  ORDER BY last_seen_at DESC, id DESC"
            ))
            .bind(user_id)
            .bind(now)
            .fetch_all(p)
            .await
        })
    }

    /// Slides row `id`'s idle deadline to `now + idle` (never past the absolute one),
    /// unless the row is gone or past a deadline. Returns the row as now stored.
    pub async fn touch(&self, id: SessionId, now: i64, idle: i64) -> sqlx::Result<Option<Session>> {
        on!(self.db.writer(), p => {
            sqlx::query_as::<_, Session>(&format!(
                "UPDATE sessions
                    SET last_seen_at = $1,
                        idle_expires_at = CASE WHEN $1 + $2 < absolute_expires_at
                                               THEN $1 + $2 ELSE absolute_expires_at END
                  WHERE id = $3 AND idle_expires_at > $1 AND absolute_expires_at > $1
              RETURNING {COLUMNS}"
            ))
            .bind(now)
            .bind(idle)
            .bind(id)
            .fetch_optional(p)
            .await
        })
    }

    /// Number of rows, live or not.
    pub async fn count(&self) -> sqlx::Result<i64> {
        on!(self.db.reader(), p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
                .fetch_one(p)
                .await
        })
    }
}
