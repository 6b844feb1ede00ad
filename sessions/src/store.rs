//! `SessionStore`: the engine's public face, composed of its layers: the SQL layer
//! ([`crate::sql`]), the cache in front of it ([`crate::cache`]), the announcer
//! ([`crate::announce`]) and expiry ([`crate::expiry`]). Every write goes through the
//! one write protocol ([`crate::write`]).

use std::sync::Arc;

use db::{Backend, Db};
use tokio::sync::{broadcast, watch};

use crate::announce::Announcer;
use crate::cache::SessionCache;
use crate::change::Change;
use crate::clock::Clock;
use crate::config::SessionConfig;
use crate::error::StoreError;
use crate::events::{Event, EventKind, SignInBy};
use crate::expiry;
use crate::session::{is_handle, truncate, ClientMeta, Lookup, Session, SessionId};
use crate::sql::{Device, NewRow, Rows};
use crate::token::{SessionToken, TokenHash};
use crate::write::{session_write, Written};

/// Sessions in the database (SQLite or PostgreSQL, one query text for both), with an
/// in-memory copy of the recently used ones. Cheap to clone (shared handles).
#[derive(Debug, Clone)]
pub struct SessionStore {
    rows: Rows,
    clock: Arc<dyn Clock>,
    config: Arc<SessionConfig>,
    cache: Arc<SessionCache>,
    announcer: Announcer,
    /// Set when the store is closed: background tasks end.
    closed: Arc<watch::Sender<bool>>,
    /// Whether this process's listener hears the changes (set by `crate::listener`).
    listening: Arc<std::sync::atomic::AtomicBool>,
}

impl SessionStore {
    /// A store over `db` (whose schema has the `sessions` table), with this policy and clock.
    pub fn new(db: Db, config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        let cache = SessionCache::new(config.cache_capacity, config.touch_every());
        // On PostgreSQL other processes change sessions too: copies are served only once
        // this process's listener hears of their changes (`crate::listener`).
        cache.set_enabled(db.backend() == Backend::Sqlite && config.cache_capacity > 0);
        SessionStore {
            announcer: Announcer::new(db.clone()),
            rows: Rows::new(db),
            clock,
            config: Arc::new(config),
            cache: Arc::new(cache),
            closed: Arc::new(watch::channel(false).0),
            listening: Default::default(),
        }
    }

    /// Whether this process hears every change announced (its listener is running and,
    /// on PostgreSQL, connected): readiness.
    pub fn listening(&self) -> bool {
        self.listening.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn set_listening(&self, on: bool) {
        self.listening
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every change made through this store, after it committed.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.announcer.changes()
    }

    /// Every event (see [`crate::events`]) after it committed, from this process and, on
    /// PostgreSQL, from every other process on the database.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.announcer.events()
    }

    /// Publishes an event of the shop (a cart changed, an order placed) that the caller
    /// has committed (see [`Announcer::publish`]).
    pub fn publish(&self, event: Event) {
        self.announcer.publish(event);
    }

    /// Hands an event to this process's receivers only (the listener's use).
    pub(crate) fn emit_local(&self, event: Event) {
        self.announcer.emit_local(event);
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

    /// Step 1 of the write protocol: drop the copies the coming change makes stale.
    pub(crate) fn drop_stale(&self, stale: Option<Change>) {
        if let Some(change) = stale {
            self.apply(change);
        }
    }

    /// Step 4 of the write protocol, after the commit.
    pub(crate) fn finish<T>(&self, stale: Option<Change>, written: Written<T>) -> T {
        if written.changed {
            self.drop_stale(stale);
            self.announcer
                .committed(stale, written.event.map(|(event, _)| event));
        }
        written.value
    }

    /// The policy in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The clock itself (for tasks that keep the engine's time).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The store's current time (unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The database, for callers that keep data hanging off sessions.
    pub fn db(&self) -> &Db {
        self.rows.db()
    }

    /// Creates a session (a guest one when `user_id` is `None`) and returns its token.
    pub async fn create(
        &self,
        user_id: Option<i64>,
        persistent: bool,
        meta: &ClientMeta,
    ) -> Result<(SessionToken, Session), StoreError> {
        self.create_by(user_id, persistent, meta, SignInBy::Password, None)
            .await
    }

    /// [`create`](Self::create), signed in `by` a password or a passkey (what the
    /// security log and the event say). `replaces`: the token of the browser's session
    /// that this one follows (it was just ended, to sign in as someone else), recorded as
    /// the new row's replaced token (see [`Lookup::Replaced`]).
    pub async fn create_by(
        &self,
        user_id: Option<i64>,
        persistent: bool,
        meta: &ClientMeta,
        by: SignInBy,
        replaces: Option<TokenHash>,
    ) -> Result<(SessionToken, Session), StoreError> {
        let token = SessionToken::generate()?;
        let handle = crate::token::random_hex::<16>()?;
        let now = self.now();
        let deadlines = expiry::deadlines(&self.config, persistent, now);
        let user_agent = truncate(&meta.user_agent, 256).to_string();
        let ip = truncate(&meta.ip, 64).to_string();
        let hash = token.hash().0;
        let session = session_write!(self, None, tx => {
            let session = tx
                .insert(NewRow {
                    token_hash: &hash,
                    replaces: replaces.as_ref().map(|h| &h.0[..]),
                    user_id,
                    now,
                    deadlines,
                    persistent,
                    user_agent: &user_agent,
                    ip: &ip,
                    handle: &handle,
                })
                .await?;
            let written = match user_id {
                // Signed in from the start: a new device.
                Some(user) => Written::changed(session.clone()).with(
                    Event::new(by.kind(), Some(user), Some(session.id)),
                    Device::Given(user_agent.clone(), ip.clone()),
                ),
                None => Written::changed(session),
            };
            Ok(written)
        })?;
        Ok((token, session))
    }

    /// Looks a token up, in memory first. An expired session is deleted on sight. A token
    /// that no row has is [`Lookup::Replaced`] if a row had it until less than
    /// `replaced_token_grace` ago, else [`Lookup::Unknown`].
    pub async fn load(&self, token: &SessionToken) -> Result<Lookup, StoreError> {
        let hash = token.hash().0;
        let now = self.now();
        // A copy that looks expired may be older than a touch made by another process:
        // only the row decides that a session has ended.
        let cached = self.cache.get(&hash, now).filter(|s| !self.is_expired(s));
        let (session, epoch) = match cached {
            Some(session) => {
                metrics::counter!("shop_session_lookups_total", "result" => "cache_hit")
                    .increment(1);
                (session, None)
            }
            None => {
                metrics::counter!("shop_session_lookups_total", "result" => "cache_miss")
                    .increment(1);
                let epoch = self.cache.epoch();
                let Some(session) = self.rows.by_token_hash(&hash).await? else {
                    let grace = self.config.replaced_token_grace.as_secs() as i64;
                    return Ok(if self.rows.replaced_since(&hash, now - grace).await? {
                        Lookup::Replaced
                    } else {
                        Lookup::Unknown
                    });
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
        session.is_expired_at(self.now())
    }

    /// Slides the idle deadline if the last write is older than the touch interval (see
    /// [`crate::expiry`]). Never moves the absolute deadline and never revives a deleted
    /// row. Returns the session as now stored. Not announced: a touch ends nothing, and
    /// a copy elsewhere is at worst a touch interval old.
    pub async fn touch(&self, session: &Session) -> Result<Option<Session>, StoreError> {
        let now = self.now();
        if !expiry::touch_due(&self.config, session, now) {
            return Ok(Some(session.clone()));
        }
        let (idle, _) = self.config.timeouts(session.persistent);
        let epoch = self.cache.epoch();
        let updated = self.rows.touch(session.id, now, idle).await?;
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
        let now = self.now();
        session_write!(self, Some(Change::Session(id)), tx => {
            Ok(match tx.set_token(id, &token.hash().0, now).await? {
                1 => Written::changed(Some(token)),
                _ => Written::nothing(None),
            })
        })
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
        self.authenticate_by(id, user_id, persistent, SignInBy::Password)
            .await
    }

    /// [`authenticate`](Self::authenticate), signed in `by` a password or a passkey.
    pub async fn authenticate_by(
        &self,
        id: SessionId,
        user_id: i64,
        persistent: bool,
        by: SignInBy,
    ) -> Result<Option<(SessionToken, Session)>, StoreError> {
        let token = SessionToken::generate()?;
        let now = self.now();
        let deadlines = expiry::deadlines(&self.config, persistent, now);
        session_write!(self, Some(Change::Session(id)), tx => {
            let hash = token.hash().0;
            let Some(session) = tx.sign_in(id, &hash, user_id, now, persistent, deadlines).await?
            else {
                return Ok(Written::nothing(None));
            };
            let device = Device::Given(session.user_agent.clone(), session.ip.clone());
            let event = Event::new(by.kind(), Some(user_id), Some(id));
            Ok(Written::changed(Some((token, session))).with(event, device))
        })
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
        session_write!(self, Some(Change::User(user_id)), tx => {
            let changed = tx.set_password(user_id, &old_hash, &new_hash, now).await?;
            let kept = tx.reauthenticate(keep, user_id, &token.hash().0, now).await?;
            if changed != 1 || kept != 1 {
                return Ok(Written::nothing(None));
            }
            tx.delete_others(user_id, Some(keep)).await?;
            let event = Event::new(EventKind::PasswordChanged, Some(user_id), Some(keep));
            Ok(Written::changed(Some(token)).with(event, Device::Of(keep)))
        })
    }

    /// Resets `user_id`'s password by a mailed link, in one transaction: the new hash
    /// (only if the stored one is still `old_hash`, so a link used twice at once wins
    /// once), and every session of the user ended. Logged with the device `meta` the
    /// reset came from. `false` if the stored hash was not `old_hash`: nothing changed.
    /// (The browser that reset is then signed in as usual: [`SessionHandle::reset_password`].)
    ///
    /// [`SessionHandle::reset_password`]: crate::SessionHandle::reset_password
    pub async fn reset_password(
        &self,
        user_id: i64,
        old_hash: String,
        new_hash: String,
        meta: &ClientMeta,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let device = Device::Given(
            truncate(&meta.user_agent, 256).to_string(),
            truncate(&meta.ip, 64).to_string(),
        );
        session_write!(self, Some(Change::User(user_id)), tx => {
            if tx.set_password(user_id, &old_hash, &new_hash, now).await? != 1 {
                return Ok(Written::nothing(false));
            }
            tx.delete_others(user_id, None).await?;
            let event = Event::new(EventKind::PasswordChanged, Some(user_id), None);
            Ok(Written::changed(true).with(event, device))
        })
    }

    /// Records a proof of identity on the signed-in session `id` of `user_id` (sudo mode):
    /// a new token, and `proved_at` now. `None` if the row is gone. Every process's copy
    /// of the session goes with the old token.
    pub async fn prove(
        &self,
        id: SessionId,
        user_id: i64,
    ) -> Result<Option<SessionToken>, StoreError> {
        let token = SessionToken::generate()?;
        let now = self.now();
        session_write!(self, Some(Change::Session(id)), tx => {
            Ok(match tx.prove(id, user_id, &token.hash().0, now).await? {
                1 => Written::changed(Some(token)),
                _ => Written::nothing(None),
            })
        })
    }

    /// Whether session `id` proved who it is within the sudo window, read from the
    /// database (never a cached copy, which another process's proof would not reach
    /// before its announcement); if so, the window starts again now (each sensitive
    /// action extends it).
    pub async fn sudo(&self, id: SessionId) -> Result<bool, StoreError> {
        let now = self.now();
        let since = now - self.config.sudo_window.as_secs() as i64;
        session_write!(self, Some(Change::Session(id)), tx => {
            Ok(match tx.extend_proof(id, since, now).await? {
                1 => Written::changed(true),
                _ => Written::nothing(false),
            })
        })
    }

    /// Deletes one session: it signed out. Returns whether it existed.
    pub async fn delete(&self, id: SessionId) -> Result<bool, StoreError> {
        self.end(id, EventKind::SignedOut).await
    }

    /// Deletes one session, publishing `why` it ended (signed out, or expired).
    async fn end(&self, id: SessionId, why: EventKind) -> Result<bool, StoreError> {
        session_write!(self, Some(Change::Session(id)), tx => {
            Ok(match tx.delete(id).await? {
                Some((user, user_agent, ip)) => Written::changed(true)
                    .with(Event::new(why, user, Some(id)), Device::Given(user_agent, ip)),
                None => Written::nothing(false),
            })
        })
    }

    /// Deletes every session of `user_id` except `keep`. Returns how many went.
    pub async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError> {
        // Every copy of the user's sessions goes (the kept one is simply read again).
        session_write!(self, Some(Change::User(user_id)), tx => {
            Ok(match tx.delete_others(user_id, keep).await? {
                0 => Written::nothing(0),
                n => Written::changed(n).with(
                    Event::new(EventKind::RevokedOthers, Some(user_id), keep),
                    keep.map_or(Device::Unknown, Device::Of),
                ),
            })
        })
    }

    /// Deletes the session of `user_id` with this handle. Returns it if it existed; a
    /// handle of another user's session matches nothing.
    pub async fn delete_by_handle(
        &self,
        user_id: i64,
        handle: &str,
    ) -> Result<Option<SessionId>, StoreError> {
        if !is_handle(handle) {
            return Ok(None);
        }
        // A row's handle never changes: the id read here names the same row at the
        // delete, which finds nothing if the row went in the meantime.
        let Some(id) = self.rows.id_of_handle(user_id, handle).await? else {
            return Ok(None);
        };
        let handle = handle.to_string();
        session_write!(self, Some(Change::Session(id)), tx => {
            Ok(match tx.delete_owned(id, user_id, &handle).await? {
                // Logged with the ended session's device and network.
                Some((user_agent, ip)) => Written::changed(Some(id)).with(
                    Event::new(EventKind::Revoked, Some(user_id), Some(id)),
                    Device::Given(user_agent, ip),
                ),
                None => Written::nothing(None),
            })
        })
    }

    /// The live sessions of `user_id`, most recently used first.
    pub async fn user_sessions(&self, user_id: i64) -> Result<Vec<Session>, StoreError> {
        Ok(self.rows.of_user(user_id, self.now()).await?)
    }

    /// The session with this id, if it is live (not expired, not signed in before its
    /// user's last password change), read from the database, never from memory.
    pub async fn live_by_id(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let row = self.rows.by_id(id).await?;
        Ok(row.filter(|s| !self.is_expired(s)))
    }

    /// Deletes every expired session. Returns how many rows went.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        let now = self.now();
        session_write!(self, Some(Change::Expired), tx => {
            Ok(match tx.delete_expired(now).await? {
                0 => Written::nothing(0),
                n => Written::changed(n),
            })
        })
    }

    /// Number of sessions held in memory (for tests and metrics).
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Number of session rows, live or not (for tests and metrics).
    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(self.rows.count().await?)
    }
}
