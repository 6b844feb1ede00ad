//! The outbox table: queueing a mail inside a transaction, and the worker's claims.

use std::sync::Arc;

use db::{on, Db};
use tokio::sync::Notify;

/// What a mail is about. Each kind has its own words (`render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your address": a verification link, to the address it verifies.
    Verify,
    /// "Someone tried to use your address": to an address's owner, when a registration or
    /// an address change named an address that is already in use.
    AddressTaken,
    /// "Your address is being changed": to the old, verified address.
    AddressChange,
    /// "Reset your password": a reset link, to a verified address.
    Reset,
    /// "Your password was changed" (queued by the database: see the migration).
    PasswordChanged,
    /// "A new sign-in to your account": a browser that had not signed in before.
    NewSignIn,
}

impl MailKind {
    pub const ALL: [MailKind; 6] = [
        MailKind::Verify,
        MailKind::AddressTaken,
        MailKind::AddressChange,
        MailKind::Reset,
        MailKind::PasswordChanged,
        MailKind::NewSignIn,
    ];

    /// The `outbox.kind` column's value.
    pub fn name(self) -> &'static str {
        match self {
            MailKind::Verify => "verify",
            MailKind::AddressTaken => "address_taken",
            MailKind::AddressChange => "address_change",
            MailKind::Reset => "reset",
            MailKind::PasswordChanged => "password_changed",
            MailKind::NewSignIn => "new_sign_in",
        }
    }

    pub fn from_name(name: &str) -> Option<MailKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A mail to queue: its kind, its recipient, and what its words need.
#[derive(Clone)]
pub struct Letter {
    pub kind: MailKind,
    pub user_id: Option<i64>,
    pub to: String,
    pub username: String,
    /// A link's secret (verification, reset); empty otherwise.
    pub token: String,
    /// A new address (an address change), empty otherwise.
    pub address: String,
    pub user_agent: String,
    pub network: String,
    pub happened_at: i64,
}

impl Letter {
    pub fn new(kind: MailKind, to: &str, happened_at: i64) -> Letter {
        Letter {
            kind,
            user_id: None,
            to: to.to_string(),
            username: String::new(),
            token: String::new(),
            address: String::new(),
            user_agent: String::new(),
            network: String::new(),
            happened_at,
        }
    }
}

/// A letter holds a secret and an address: its `Debug` shows neither.
impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letter")
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Queueing a mail, as one statement of a transaction that does more (the token, the
/// event): the mail exists exactly when the rest commits.
pub trait OutboxTx {
    fn queue(
        &mut self,
        letter: &Letter,
    ) -> impl std::future::Future<Output = sqlx::Result<()>> + Send;
}

db::impl_for_both!(OutboxTx {
    async fn queue(&mut self, letter: &Letter) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO outbox (kind, user_id, recipient, username, token, address, user_agent,
                                 network, happened_at, created_at, next_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)",
        )
        .bind(letter.kind.name())
        .bind(letter.user_id)
        .bind(&letter.to)
        .bind(&letter.username)
        .bind(&letter.token)
        .bind(&letter.address)
        .bind(sessions::truncate(&letter.user_agent, 256))
        .bind(&letter.network)
        .bind(letter.happened_at)
        .execute(&mut **self)
        .await
        .map(|_| ())
    }
});

/// The outbox of this process: the database and the worker's doorbell. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    wake: Arc<Notify>,
    sent: Arc<std::sync::atomic::AtomicU64>,
}

/// A claimed row, as the worker renders it.
#[derive(Clone, sqlx::FromRow)]
pub struct Queued {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub username: String,
    pub token: String,
    pub address: String,
    pub user_agent: String,
    pub network: String,
    pub happened_at: i64,
    pub attempts: i64,
}

/// How a mail's row ends a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Try again at this time.
    Retry(i64),
    Failed,
}

impl Outbox {
    pub fn new(db: Db) -> Self {
        Outbox {
            db,
            wake: Arc::new(Notify::new()),
            sent: Default::default(),
        }
    }

    /// How many mails this process's worker has sent.
    pub fn sent_here(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Tells this process's worker that a mail was committed (other processes' workers
    /// find it at their next look).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Outbox::wake`] (or returns at once if it rang since the last wait).
    pub async fn rung(&self) {
        self.wake.notified().await;
    }

    /// Claims up to `limit` due mails (oldest due first) at `now` for `lease` seconds, counting a try of
    /// each. One statement; on PostgreSQL the rows another process is claiming at the
    /// same moment are skipped, not waited for, and a row claimed by a live worker is not
    /// due again until its lease is over (a worker that died mid-send leaves it to the
    /// next one then).
    pub async fn claim(&self, now: i64, limit: i64, lease: i64) -> sqlx::Result<Vec<Queued>> {
        let sql = self.db.pick(
            "UPDATE outbox SET claimed_until = $1 + $3, attempts = attempts + 1
              WHERE id IN (SELECT id FROM outbox
                            WHERE status = 'queued' AND next_at <= $1 AND claimed_until <= $1
                            ORDER BY next_at, id LIMIT $2)
             RETURNING id, kind, recipient, username, token, address, user_agent, network,
                       happened_at, attempts",
            "UPDATE outbox SET claimed_until = $1 + $3, attempts = attempts + 1
              WHERE id IN (SELECT id FROM outbox
                            WHERE status = 'queued' AND next_at <= $1 AND claimed_until <= $1
                            ORDER BY next_at, id LIMIT $2
                            FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, recipient, username, token, address, user_agent, network,
                       happened_at, attempts",
        );
        let mut rows: Vec<Queued> = on!(self.db.writer(), p => {
            sqlx::query_as(sql).bind(now).bind(limit).bind(lease).fetch_all(p).await
        })?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Records how a try of mail `id` ended. Sent or given up, its secret and the new
    /// address it named are emptied; a retry keeps them for the next try.
    pub async fn finish(
        &self,
        id: i64,
        outcome: Outcome,
        now: i64,
        error: &str,
    ) -> sqlx::Result<()> {
        let error = sessions::truncate(error, 200);
        if outcome == Outcome::Sent {
            self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        on!(self.db.writer(), p => {
            match outcome {
                Outcome::Sent => sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $2, token = '', address = '',
                                       claimed_until = 0, last_error = ''
                      WHERE id = $1",
                )
                .bind(id)
                .bind(now)
                .execute(p)
                .await,
                Outcome::Retry(at) => sqlx::query(
                    "UPDATE outbox SET next_at = $2, claimed_until = 0, last_error = $3 WHERE id = $1",
                )
                .bind(id)
                .bind(at)
                .bind(error)
                .execute(p)
                .await,
                Outcome::Failed => sqlx::query(
                    "UPDATE outbox SET status = 'failed', token = '', address = '',
                                       claimed_until = 0, last_error = $2
                      WHERE id = $1",
                )
                .bind(id)
                .bind(error)
                .execute(p)
                .await,
            }
            .map(|_| ())
        })
    }

    /// How many rows the outbox holds of each status (every status, 0 included).
    pub async fn counts(&self) -> sqlx::Result<Vec<(&'static str, i64)>> {
        let rows: Vec<(String, i64)> = on!(self.db.reader(), p => {
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                .fetch_all(p)
                .await
        })?;
        Ok(["queued", "sent", "failed"]
            .into_iter()
            .map(|status| {
                let n = rows
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                (status, n)
            })
            .collect())
    }

    /// Deletes mails sent or given up before `before` (the collector's retention).
    pub async fn prune(&self, before: i64) -> sqlx::Result<u64> {
        on!(self.db.writer(), p => {
            sqlx::query("DELETE FROM outbox WHERE status <> 'queued' AND created_at < $1")
                .bind(before)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })
    }
}
