//! `SessionStore`: every SQL statement that touches the `sessions` table.

use std::sync::Arc;

use db::{on, Backend, Db};
use tokio::sync::{broadcast, watch};

use crate::cache::SessionCache;
use crate::changes::{Change, CHANNEL};
use crate::clock::Clock;
use crate::config::SessionConfig;
use crate::events::{Event, EventKind, LogEntry};
use crate::token::{RandomError, SessionToken};

/// The internal row id of a session. Never leaves the server (it is not `Serialize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct SessionId(pub i64);

/// A live session as stored (never includes the token or its hash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub id: SessionId,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub authenticated_at: Option<i64>,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    /// "Keep me signed in": longer timeouts and a cookie with `Max-Age`.
    pub persistent: bool,
    pub user_agent: String,
    /// Coarse client address (see [`coarse_ip`]).
    pub ip: String,
    /// The session's public name (32 hex digits, random): what the account page uses to
    /// end one session. Not the token, not derived from it.
    pub handle: String,
}

/// What the client told us about itself when the session was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientMeta {
    pub user_agent: String,
    pub ip: String,
}

/// The outcome of looking a token up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Live(Session),
    /// No row has this token (never issued, rotated away, logged out, or collected).
    Unknown,
    /// The row existed but had timed out; it has now been deleted.
    Expired,
}

/// Database or randomness failure. Never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The task carrying a change could not finish (the runtime is shutting down).
    #[error("session change task failed: {0}")]
    Task(String),
}

const COLUMNS: &str = "id, user_id, created_at, last_seen_at, authenticated_at, idle_expires_at, \
                       absolute_expires_at, persistent, user_agent, ip, handle";
/// The same, for a query that joins `sessions s` with `users u`.
const S_COLUMNS: &str = "s.id, s.user_id, s.created_at, s.last_seen_at, s.authenticated_at, \
                         s.idle_expires_at, s.absolute_expires_at, s.persistent, s.user_agent, \
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

/// Sessions in the database (SQLite or PostgreSQL, one query text for both), with an
/// in-memory copy of the recently used ones (see [`crate::cache`]). Cheap to clone
/// (shared handles).
#[derive(Debug, Clone)]
pub struct SessionStore {
    db: Db,
    clock: Arc<dyn Clock>,
    config: Arc<SessionConfig>,
    cache: Arc<SessionCache>,
    /// Every change, after it committed (see `crate::changes`).
    changes: broadcast::Sender<Change>,
    /// Every event, after it committed (see `crate::events`).
    events: broadcast::Sender<Event>,
    /// Set when the store is closed: background tasks end.
    closed: Arc<watch::Sender<bool>>,
}

/// A change of sessions: drops the cached copies `$change` makes stale, runs `$body`
/// (with `$tx` the open write transaction; it evaluates to `(value, Option<Event>)`) and
/// the announcement in one commit, then drops the copies again and publishes the event.
/// Evaluates to the value. Used inside [`SessionStore::detached`], so all of it happens
/// even if the request that asked for it is dropped.
macro_rules! announced {
    ($store:expr, $change:expr, |$tx:ident| $body:expr) => {{
        let change = $change;
        $store.apply(change);
        let (value, event) = on!($store.db.writer(), |p| {
            let mut $tx = p.begin().await?;
            let (value, event): (_, Option<Event>) = $body;
            notify_in!($store, $tx, change);
            $tx.commit().await?;
            Ok::<_, StoreError>((value, event))
        })?;
        $store.changed(change);
        if let Some(event) = event {
            $store.emitted(event);
        }
        value
    }};
}

/// Records `$event` inside the transaction `$tx`: a row in the user's security log if
/// its kind is logged, and on PostgreSQL its announcement (delivered at commit).
/// Evaluates to the event; [`SessionStore::emitted`] must follow the commit.
///
/// The log row's device and network come from the event's session row (which must
/// still exist), or from the `(user agent, ip)` given after `from` (a row just deleted).
/// On SQLite the transaction must have written before (its first statement a write):
/// a transaction that has only read cannot wait for the write lock, it fails at once.
macro_rules! record {
    (@announce $store:expr, $tx:expr, $event:expr) => {{
        let event: Event = $event;
        if $store.db.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::events::CHANNEL)
                .bind(event.payload())
                .execute(&mut *$tx)
                .await?;
        }
        event
    }};
    ($store:expr, $tx:expr, $event:expr) => {{
        let event: Event = $event;
        if let (true, Some(session)) = (event.kind.is_logged(), event.session) {
            sqlx::query(
                "INSERT INTO security_events (user_id, kind, at, last_at, user_agent, network)
                 SELECT user_id, $1, $2, $2, user_agent, ip FROM sessions
                  WHERE id = $3 AND user_id IS NOT NULL",
            )
            .bind(event.kind.name())
            .bind($store.now())
            .bind(session)
            .execute(&mut *$tx)
            .await?;
        }
        record!(@announce $store, $tx, event)
    }};
    ($store:expr, $tx:expr, $event:expr, from $device:expr) => {{
        let event: Event = $event;
        let (user_agent, ip): (&str, &str) = $device;
        if let (true, Some(user)) = (event.kind.is_logged(), event.user) {
            sqlx::query(
                "INSERT INTO security_events (user_id, kind, at, last_at, user_agent, network)
                 VALUES ($1, $2, $3, $3, $4, $5)",
            )
            .bind(user)
            .bind(event.kind.name())
            .bind($store.now())
            .bind(user_agent)
            .bind(ip)
            .execute(&mut *$tx)
            .await?;
        }
        record!(@announce $store, $tx, event)
    }};
}

/// Announces `$change` on PostgreSQL inside the transaction `$tx` (delivered at commit);
/// nothing on SQLite, whose one process hears of it through the in-process broadcast.
macro_rules! notify_in {
    ($store:expr, $tx:expr, $change:expr) => {
        if $store.db.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind($change.payload())
                .execute(&mut *$tx)
                .await?;
        }
    };
}

impl SessionStore {
    /// A store over `db` (whose schema has the `sessions` table), with this policy and clock.
    pub fn new(db: Db, config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        let cache = SessionCache::new(config.cache_capacity, config.touch_every());
        // On PostgreSQL other processes change sessions too: copies are served only once
        // this process's listener hears of their changes (`crate::changes`).
        cache.set_enabled(db.backend() == Backend::Sqlite && config.cache_capacity > 0);
        SessionStore {
            db,
            clock,
            config: Arc::new(config),
            cache: Arc::new(cache),
            changes: broadcast::channel(1024).0,
            events: broadcast::channel(4096).0,
            closed: Arc::new(watch::channel(false).0),
        }
    }

    /// Every change made through this store, after it committed.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Every event (see [`crate::events`]) after it committed, from this process and, on
    /// PostgreSQL, from every other process on the database.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Publishes an event of the shop (a cart changed, an order placed) that the caller
    /// has committed. Runs in a task of its own, so it is sent even if the caller's
    /// request is dropped right after; a failure is logged (pages then catch up at their
    /// next request or reconnect).
    pub fn publish(&self, event: Event) {
        match &self.db {
            Db::Sqlite { .. } => self.emit_local(event),
            Db::Postgres(pool) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(crate::events::CHANNEL)
                        .bind(event.payload())
                        .execute(&pool)
                        .await
                    {
                        tracing::warn!(error = %e, kind = event.kind.name(), "event not announced");
                    }
                });
            }
        }
    }

    /// Hands an event to this process's receivers.
    pub(crate) fn emit_local(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// After a transaction with [`record!`] committed: on SQLite the event goes to the
    /// receivers now; on PostgreSQL the listener passes it on when the `NOTIFY` arrives
    /// (so every process, this one included, hears it the same way, exactly once).
    fn emitted(&self, event: Event) {
        if self.db.backend() == Backend::Sqlite {
            self.emit_local(event);
        }
    }

    /// Becomes true when the store is closed.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends the store's background tasks (the change listener).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Drops the cached copies an announced change makes stale.
    pub fn apply(&self, change: Change) {
        self.cache.apply(change, self.now());
    }

    /// Drops every cached copy.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Serves sessions from memory (`true`, if the cache has room at all) or always
    /// from the database.
    pub fn enable_cache(&self, on: bool) {
        self.cache.set_enabled(on && self.config.cache_capacity > 0);
    }

    /// Whether sessions are being served from memory.
    pub fn cache_enabled(&self) -> bool {
        self.cache.is_enabled()
    }

    /// Runs a change of shared state to its end even if the caller's future is dropped
    /// (the client hung up, the request was cancelled at an `.await`): the write, the
    /// announcement and dropping the cached copies happen together or the caller gets an
    /// error, never "written but still cached".
    async fn detached<T: Send + 'static>(
        work: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        tokio::spawn(work)
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// After a change committed: drop the copies it made stale, tell this process.
    fn changed(&self, change: Change) {
        self.apply(change);
        let _ = self.changes.send(change);
    }

    /// The policy in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The store's current time (unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The database, for callers that keep data hanging off sessions.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates a session (a guest one when `user_id` is `None`) and returns its token.
    pub async fn create(
        &self,
        user_id: Option<i64>,
        persistent: bool,
        meta: &ClientMeta,
    ) -> Result<(SessionToken, Session), StoreError> {
        let token = SessionToken::generate()?;
        let handle = crate::token::random_hex::<16>()?;
        let now = self.now();
        let (idle, abs) = self.config.timeouts(persistent);
        let (session, event) = on!(self.db.writer(), |p| {
            let mut tx = p.begin().await?;
            let session = sqlx::query_as::<_, Session>(&format!(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,
                                       authenticated_at, idle_expires_at, absolute_expires_at,
                                       persistent, user_agent, ip, handle)
                 VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10)
                 RETURNING {COLUMNS}"
            ))
            .bind(&token.hash().0[..])
            .bind(user_id)
            .bind(now)
            .bind(user_id.map(|_| now))
            .bind((now + idle).min(now + abs))
            .bind(now + abs)
            .bind(persistent)
            .bind(truncate(&meta.user_agent, 256))
            .bind(truncate(&meta.ip, 64))
            .bind(&handle)
            .fetch_one(&mut *tx)
            .await?;
            // Signed in from the start: a new device.
            let event = match user_id {
                Some(user) => Some(record!(
                    self,
                    tx,
                    Event::new(EventKind::SignedIn, Some(user), Some(session.id))
                )),
                None => None,
            };
            tx.commit().await?;
            Ok::<_, StoreError>((session, event))
        })?;
        if let Some(event) = event {
            self.emitted(event);
        }
        Ok((token, session))
    }

    /// Looks a token up, in memory first. An expired session is deleted on sight.
    pub async fn load(&self, token: &SessionToken) -> Result<Lookup, StoreError> {
        let hash = token.hash().0;
        let now = self.now();
        // A copy that looks expired may be older than a touch made by another process:
        // only the row decides that a session has ended.
        let cached = self.cache.get(&hash, now).filter(|s| !self.is_expired(s));
        let (session, epoch) = match cached {
            Some(session) => (session, None),
            None => {
                let epoch = self.cache.epoch();
                let row = on!(self.db.reader(), |p| {
                    sqlx::query_as::<_, Session>(&live_row("s.token_hash"))
                        .bind(&hash[..])
                        .fetch_optional(p)
                        .await
                })?;
                let Some(session) = row else {
                    return Ok(Lookup::Unknown);
                };
                (session, Some(epoch))
            }
        };
        if self.is_expired(&session) {
            self.end(session.id, EventKind::Expired).await?;
            return Ok(Lookup::Expired);
        }
        if let Some(epoch) = epoch {
            self.cache.insert_if_current(epoch, hash, &session, now);
        }
        Ok(Lookup::Live(session))
    }

    /// Whether `session` has passed its idle or absolute deadline.
    pub fn is_expired(&self, session: &Session) -> bool {
        let now = self.now();
        now >= session.idle_expires_at || now >= session.absolute_expires_at
    }

    /// Slides the idle deadline if the last write is older than `touch_interval`, so a busy
    /// session costs one write a minute, not one per request. Never moves the absolute
    /// deadline and never revives a deleted row. Returns the session as now stored.
    pub async fn touch(&self, session: &Session) -> Result<Option<Session>, StoreError> {
        let now = self.now();
        if now - session.last_seen_at < self.config.touch_every() {
            return Ok(Some(session.clone()));
        }
        let (idle, _) = self.config.timeouts(session.persistent);
        let epoch = self.cache.epoch();
        let updated = on!(self.db.writer(), |p| {
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
            .bind(session.id)
            .fetch_optional(p)
            .await
        })?;
        match &updated {
            Some(s) => self.cache.update_if_current(epoch, s, now),
            None => self.cache.forget(session.id),
        }
        Ok(updated)
    }

    /// Gives the session a new token; the old one stops working at once. `None` if the
    /// row is gone (for example, logged out by a concurrent request).
    pub async fn rotate(&self, id: SessionId) -> Result<Option<SessionToken>, StoreError> {
        let token = SessionToken::generate()?;
        let this = self.clone();
        Self::detached(async move {
            let n = announced!(this, Change::Session(id), |tx| {
                let n = sqlx::query("UPDATE sessions SET token_hash = $1 WHERE id = $2")
                    .bind(&token.hash().0[..])
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                (n, None)
            });
            Ok((n == 1).then_some(token))
        })
        .await
    }

    /// Signs `user_id` in on an existing session row: new token, `authenticated_at` now,
    /// fresh timeouts of the chosen kind. Data hanging off the row (a guest cart) stays.
    /// `None` if the row is gone.
    pub async fn authenticate(
        &self,
        id: SessionId,
        user_id: i64,
        persistent: bool,
    ) -> Result<Option<(SessionToken, Session)>, StoreError> {
        let token = SessionToken::generate()?;
        let now = self.now();
        let (idle, abs) = self.config.timeouts(persistent);
        let this = self.clone();
        Self::detached(async move {
            let session = announced!(this, Change::Session(id), |tx| {
                let session = sqlx::query_as::<_, Session>(&format!(
                    "UPDATE sessions
                        SET token_hash = $1, user_id = $2, authenticated_at = $3, last_seen_at = $3,
                            persistent = $4, idle_expires_at = $5, absolute_expires_at = $6
                      WHERE id = $7
                  RETURNING {COLUMNS}"
                ))
                .bind(&token.hash().0[..])
                .bind(user_id)
                .bind(now)
                .bind(persistent)
                .bind((now + idle).min(now + abs))
                .bind(now + abs)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let event = match &session {
                    Some(_) => Some(record!(
                        this,
                        tx,
                        Event::new(EventKind::SignedIn, Some(user_id), Some(id))
                    )),
                    None => None,
                };
                (session, event)
            });
            Ok(session.map(|s| (token, s)))
        })
        .await
    }

    /// Changes `user_id`'s password, in one transaction: the new hash (only if the stored
    /// one is still `old_hash`, so two concurrent changes cannot both win), every other
    /// session of the user ended, and `keep` (the session asking) given a new token and
    /// signed in anew. `None` if the stored hash was not `old_hash` or `keep` is gone;
    /// then nothing changed.
    pub async fn change_password(
        &self,
        user_id: i64,
        keep: SessionId,
        old_hash: String,
        new_hash: String,
    ) -> Result<Option<SessionToken>, StoreError> {
        let token = SessionToken::generate()?;
        let now = self.now();
        let this = self.clone();
        Self::detached(async move {
            let change = Change::User(user_id);
            this.apply(change);
            let done = on!(this.db.writer(), |p| async {
                let mut tx = p.begin().await?;
                let changed = sqlx::query(
                    "UPDATE users SET password_hash = $1, password_changed_at = $2
                      WHERE id = $3 AND password_hash = $4",
                )
                .bind(&new_hash)
                .bind(now)
                .bind(user_id)
                .bind(&old_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let kept = sqlx::query(
                    "UPDATE sessions SET token_hash = $1, authenticated_at = $2
                      WHERE id = $3 AND user_id = $4",
                )
                .bind(&token.hash().0[..])
                .bind(now)
                .bind(keep)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed != 1 || kept != 1 {
                    tx.rollback().await?;
                    return Ok::<_, StoreError>(None);
                }
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                    .bind(user_id)
                    .bind(keep)
                    .execute(&mut *tx)
                    .await?;
                notify_in!(this, tx, change);
                let event = record!(
                    this,
                    tx,
                    Event::new(EventKind::PasswordChanged, Some(user_id), Some(keep))
                );
                tx.commit().await?;
                Ok(Some(event))
            }
            .await)?;
            this.changed(change);
            if let Some(event) = done {
                this.emitted(event);
            }
            Ok(done.is_some().then_some(token))
        })
        .await
    }

    /// Deletes one session: it signed out. Returns whether it existed.
    pub async fn delete(&self, id: SessionId) -> Result<bool, StoreError> {
        self.end(id, EventKind::SignedOut).await
    }

    /// Deletes one session, publishing `why` it ended (signed out, or expired).
    async fn end(&self, id: SessionId, why: EventKind) -> Result<bool, StoreError> {
        let this = self.clone();
        Self::detached(async move {
            let ended = announced!(this, Change::Session(id), |tx| {
                let gone: Option<(Option<i64>, String, String)> = sqlx::query_as(
                    "DELETE FROM sessions WHERE id = $1 RETURNING user_id, user_agent, ip",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                match gone {
                    Some((user, user_agent, ip)) => {
                        let event = Event::new(why, user, Some(id));
                        (true, Some(record!(this, tx, event, from(&user_agent, &ip))))
                    }
                    None => (false, None),
                }
            });
            Ok(ended)
        })
        .await
    }

    /// Deletes every session of `user_id` except `keep`. Returns how many went.
    pub async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError> {
        let this = self.clone();
        Self::detached(async move {
            // Every copy of the user's sessions goes (the kept one is simply read again).
            let n = announced!(this, Change::User(user_id), |tx| {
                let n = sqlx::query(
                    "DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2",
                )
                .bind(user_id)
                .bind(keep)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let event = match n {
                    0 => None,
                    _ => Some(record!(
                        this,
                        tx,
                        Event::new(EventKind::RevokedOthers, Some(user_id), keep)
                    )),
                };
                (n, event)
            });
            Ok(n)
        })
        .await
    }

    /// Deletes the session of `user_id` with this handle. Returns it if it existed; a
    /// handle of another user's session matches nothing.
    pub async fn delete_by_handle(
        &self,
        user_id: i64,
        handle: &str,
    ) -> Result<Option<SessionId>, StoreError> {
        // Handles are 32 lowercase hex digits; anything else names no session (and never
        // reaches the database: PostgreSQL refuses text with NUL bytes, for one).
        if handle.len() != 32
            || !handle
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Ok(None);
        }
        let handle = handle.to_string();
        let this = self.clone();
        Self::detached(async move {
            {
                let handle = handle.clone();
                this.cache
                    .forget_where(move |s| s.user_id == Some(user_id) && s.handle == handle);
            }
            let ended: Option<(SessionId, Event)> = on!(this.db.writer(), |p| {
                let mut tx = p.begin().await?;
                let gone: Option<(SessionId, String, String)> = sqlx::query_as(
                    "DELETE FROM sessions WHERE user_id = $1 AND handle = $2
                     RETURNING id, user_agent, ip",
                )
                .bind(user_id)
                .bind(&handle)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id, user_agent, ip)) = gone else {
                    return Ok(None);
                };
                // Logged with the ended session's device and network.
                let event = record!(
                    this,
                    tx,
                    Event::new(EventKind::Revoked, Some(user_id), Some(id)),
                    from(&user_agent, &ip)
                );
                notify_in!(this, tx, Change::Session(id));
                tx.commit().await?;
                Ok::<_, StoreError>(Some((id, event)))
            })?;
            let Some((id, event)) = ended else {
                return Ok(None);
            };
            this.changed(Change::Session(id));
            this.emitted(event);
            Ok(Some(id))
        })
        .await
    }

    /// The live sessions of `user_id`, most recently used first.
    pub async fn user_sessions(&self, user_id: i64) -> Result<Vec<Session>, StoreError> {
        let now = self.now();
        Ok(on!(self.db.reader(), |p| {
            sqlx::query_as::<_, Session>(&format!(
                "SELECT {COLUMNS} FROM sessions
                  WHERE user_id = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2
                  ORDER BY last_seen_at DESC, id DESC"
            ))
            .bind(user_id)
            .bind(now)
            .fetch_all(p)
            .await
        })?)
    }

    /// Counts a refused sign-in as `user_id` from `network` (the coarse address) in the
    /// user's security log: one row per network and day, its count going up, never one
    /// row per guess. Published so the user's open account page can show it.
    pub async fn sign_in_refused(&self, user_id: i64, network: &str) -> Result<(), StoreError> {
        let now = self.now();
        let network = truncate(network, 64).to_string();
        let this = self.clone();
        Self::detached(async move {
            let event = on!(this.db.writer(), |p| {
                let mut tx = p.begin().await?;
                sqlx::query(
                    "INSERT INTO security_events (user_id, kind, at, last_at, network, bucket)
                     VALUES ($1, $2, $3, $3, $4, $5)
                     ON CONFLICT (user_id, kind, network, bucket)
                     DO UPDATE SET count = security_events.count + 1, last_at = $3",
                )
                .bind(user_id)
                .bind(EventKind::SignInRefused.name())
                .bind(now)
                .bind(&network)
                .bind(now.div_euclid(86_400))
                .execute(&mut *tx)
                .await?;
                let event = record!(
                    this,
                    tx,
                    Event::new(EventKind::SignInRefused, Some(user_id), None)
                );
                tx.commit().await?;
                Ok::<_, StoreError>(event)
            })?;
            this.emitted(event);
            Ok(())
        })
        .await
    }

    /// The security log of `user_id` since `since` (unix seconds), newest first, at
    /// most `limit` rows.
    pub async fn security_log(
        &self,
        user_id: i64,
        since: i64,
        limit: i64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        Ok(on!(self.db.reader(), |p| {
            sqlx::query_as::<_, LogEntry>(
                "SELECT kind, at, last_at, count, user_agent, network FROM security_events
                  WHERE user_id = $1 AND last_at >= $2
                  ORDER BY last_at DESC, id DESC
                  LIMIT $3",
            )
            .bind(user_id)
            .bind(since)
            .bind(limit)
            .fetch_all(p)
            .await
        })?)
    }

    /// Deletes security log rows last touched before `before`. Returns how many went.
    pub async fn prune_security_log(&self, before: i64) -> Result<u64, StoreError> {
        Ok(on!(self.db.writer(), |p| {
            sqlx::query("DELETE FROM security_events WHERE last_at < $1")
                .bind(before)
                .execute(p)
                .await
                .map(|done| done.rows_affected())
        })?)
    }

    /// The session with this id, if it is live (not expired, not signed in before its
    /// user's last password change), read from the database, never from memory.
    pub async fn live_by_id(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let row = on!(self.db.reader(), |p| {
            sqlx::query_as::<_, Session>(&live_row("s.id"))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.filter(|s| !self.is_expired(s)))
    }

    /// Deletes every expired session. Returns how many rows went.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        let now = self.now();
        let this = self.clone();
        Self::detached(async move {
            this.apply(Change::Expired);
            let n = on!(this.db.writer(), |p| {
                let mut tx = p.begin().await?;
                let n = sqlx::query(
                    "DELETE FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1",
                )
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n > 0 {
                    notify_in!(this, tx, Change::Expired);
                }
                tx.commit().await?;
                Ok::<_, StoreError>(n)
            })?;
            this.changed(Change::Expired);
            Ok(n)
        })
        .await
    }

    /// Number of sessions held in memory (for tests and metrics).
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Number of session rows, live or not (for tests and metrics).
    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(on!(self.db.reader(), |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
                .fetch_one(p)
                .await
        })?)
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The address coarsened for storage and display: IPv4 to its /24 (`203.0.113.x`),
/// IPv6 to its /48. Enough to recognise "my home" or "my office", not a person.
pub fn coarse_ip(addr: std::net::IpAddr) -> String {
    match addr {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.x")
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return coarse_ip(std::net::IpAddr::V4(v4));
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn ips_are_coarsened() {
        assert_eq!(coarse_ip("203.0.113.77".parse().unwrap()), "203.0.113.x");
        assert_eq!(
            coarse_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
        assert_eq!(coarse_ip("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.x");
    }
}
