//! The in-process cache in front of the session lookup: a signed-in request finds its
//! session in memory instead of asking SQLite (a round trip to the database thread on
//! every request).
//!
//! It is only ever a copy of the table, and never the more permissive side of it:
//! - Every statement that ends or changes a session (logout, rotation, sign-in, revoke,
//!   password change, garbage collection, an expired row deleted on sight) removes the
//!   copy right after the database has committed, before the response goes out, so a
//!   token that no longer works in SQLite no longer works from memory either.
//! - A copy read from the database is kept only if nothing changed any session while it
//!   was being read (an epoch counter bumped by every change). Otherwise a lookup racing a
//!   logout could put the logged-out session back.
//! - Timeouts are checked against the clock on every hit, exactly as for a row.
//! - A copy is trusted for at most `max_age` seconds (the touch interval) after it was
//!   read or written; then the row is read again. That also bounds how long a session
//!   ended by another process on the same database file could still be served here.
//! - Bounded size: when full, expired copies are dropped; if it is still full, new
//!   sessions are simply not cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::change::Change;
use crate::session::{Session, SessionId};

/// Largest number of sessions kept in memory (a few hundred bytes each).
pub const DEFAULT_CAPACITY: usize = 50_000;

#[derive(Debug)]
struct Cached {
    session: Session,
    /// When the copy was last known to match the row (unix seconds).
    checked_at: i64,
}

#[derive(Debug, Default)]
struct Inner {
    epoch: u64,
    /// When (unix seconds) a full cache was last swept for expired copies.
    swept_at: i64,
    by_hash: HashMap<[u8; 32], Cached>,
    by_id: HashMap<SessionId, [u8; 32]>,
}

impl Inner {
    fn remove_id(&mut self, id: SessionId) {
        if let Some(hash) = self.by_id.remove(&id) {
            self.by_hash.remove(&hash);
        }
    }

    /// Keeps only the copies for which `keep` holds, in both maps.
    fn retain(&mut self, keep: impl Fn(&Session) -> bool) {
        self.retain_cached(|c| keep(&c.session));
    }

    /// The same, deciding on the copy with its age.
    fn retain_cached(&mut self, keep: impl Fn(&Cached) -> bool) {
        self.by_hash.retain(|_, c| keep(c));
        let by_hash = &self.by_hash;
        self.by_id.retain(|_, h| by_hash.contains_key(h));
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct SessionCache {
    inner: Mutex<Inner>,
    capacity: usize,
    max_age: i64,
    /// Off while this process cannot hear of other processes' changes (see
    /// `crate::changes`): then nothing is served from memory and nothing is stored.
    enabled: AtomicBool,
}

/// The change counter at some moment; a copy read after it may be stored only if it is
/// still current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

impl SessionCache {
    /// A cache of at most `capacity` sessions, each trusted for `max_age` seconds.
    pub fn new(capacity: usize, max_age: i64) -> Self {
        SessionCache {
            inner: Mutex::default(),
            capacity,
            max_age,
            enabled: AtomicBool::new(true),
        }
    }

    /// Switches serving from memory on or off.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
        if !on {
            self.clear();
        }
    }

    /// Whether copies are served and kept.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// Drops every copy.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.by_hash.clear();
        inner.by_id.clear();
    }

    /// Drops the copies an announced change makes stale.
    pub fn apply(&self, change: Change, now: i64) {
        match change {
            Change::Session(id) => self.forget(id),
            Change::User(user) => self.forget_where(|s| s.user_id == Some(user)),
            Change::Expired => {
                self.forget_where(|s| now >= s.idle_expires_at || now >= s.absolute_expires_at)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The data stays consistent even if a holder panicked: every critical section
        // is a few map operations.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The session stored under this token hash, if its copy is recent enough (an older
    /// copy is dropped: the caller reads the row again).
    pub fn get(&self, hash: &[u8; 32], now: i64) -> Option<Session> {
        if !self.is_enabled() {
            return None;
        }
        let mut inner = self.lock();
        let cached = inner.by_hash.get(hash)?;
        if now - cached.checked_at < self.max_age && now >= cached.checked_at {
            return Some(cached.session.clone());
        }
        let id = cached.session.id;
        inner.remove_id(id);
        None
    }

    /// The current epoch: take it before reading a row that may be stored.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.lock().epoch)
    }

    /// Stores a copy read from the database at `now`, unless some session changed since
    /// `read_from` (the copy may then be stale). Returns whether it was stored.
    pub fn insert_if_current(
        &self,
        read_from: Epoch,
        hash: [u8; 32],
        session: &Session,
        now: i64,
    ) -> bool {
        let mut inner = self.lock();
        if inner.epoch != read_from.0 || !self.is_enabled() {
            return false;
        }
        if inner.by_hash.len() >= self.capacity && !inner.by_id.contains_key(&session.id) {
            // Sweeping a full cache is a scan of all of it under the lock: at most once a
            // second, so a flood of new sessions cannot make every lookup pay for one.
            if now != inner.swept_at {
                inner.swept_at = now;
                let max_age = self.max_age;
                // Expired sessions, and copies too old to be served anyway.
                inner.retain_cached(|c| {
                    now < c.session.idle_expires_at
                        && now < c.session.absolute_expires_at
                        && now - c.checked_at < max_age
                });
            }
            if inner.by_hash.len() >= self.capacity {
                return false;
            }
        }
        inner.remove_id(session.id);
        inner.by_id.insert(session.id, hash);
        inner.by_hash.insert(
            hash,
            Cached {
                session: session.clone(),
                checked_at: now,
            },
        );
        true
    }

    /// Replaces the copy of a session that the database has just updated (its token
    /// unchanged), if nothing else changed since `read_from`; otherwise drops it.
    pub fn update_if_current(&self, read_from: Epoch, session: &Session, now: i64) {
        let mut inner = self.lock();
        let current = inner.epoch == read_from.0;
        inner.epoch += 1;
        if !current {
            inner.remove_id(session.id);
            return;
        }
        if let Some(hash) = inner.by_id.get(&session.id).copied() {
            inner.by_hash.insert(
                hash,
                Cached {
                    session: session.clone(),
                    checked_at: now,
                },
            );
        }
    }

    /// Drops the copy of one session (ended, rotated or re-authenticated).
    pub fn forget(&self, id: SessionId) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.remove_id(id);
    }

    /// Drops every copy for which `gone` holds (all of a user's sessions, expired ones).
    pub fn forget_where(&self, gone: impl Fn(&Session) -> bool) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.retain(|s| !gone(s));
    }

    /// Number of sessions held (for tests).
    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: i64, user: Option<i64>) -> Session {
        Session {
            id: SessionId(id),
            user_id: user,
            created_at: 0,
            last_seen_at: 0,
            authenticated_at: None,
            proved_at: None,
            idle_expires_at: 1_000,
            absolute_expires_at: 10_000,
            persistent: false,
            user_agent: String::new(),
            ip: String::new(),
            handle: format!("{id:032x}"),
        }
    }

    #[test]
    fn a_copy_read_while_a_session_ended_is_not_kept() {
        let cache = SessionCache::new(10, 60);
        // A lookup starts, reads the row, and meanwhile a logout commits and forgets.
        let before = cache.epoch();
        cache.forget(SessionId(1));
        assert!(!cache.insert_if_current(before, [1; 32], &session(1, Some(7)), 0));
        assert_eq!(cache.get(&[1; 32], 0), None);
        // Read again after the change: kept.
        let now = cache.epoch();
        assert!(cache.insert_if_current(now, [1; 32], &session(1, Some(7)), 0));
        assert_eq!(cache.get(&[1; 32], 0).map(|s| s.id), Some(SessionId(1)));
    }

    #[test]
    fn a_touch_racing_a_logout_drops_the_copy() {
        let cache = SessionCache::new(10, 60);
        cache.insert_if_current(cache.epoch(), [1; 32], &session(1, Some(7)), 0);
        let before_touch = cache.epoch();
        cache.forget(SessionId(1)); // logout commits between the UPDATE and its copy
        cache.update_if_current(before_touch, &session(1, Some(7)), 0);
        assert_eq!(cache.get(&[1; 32], 0), None);
    }

    #[test]
    fn copies_expire_after_max_age_and_go_with_their_user() {
        let cache = SessionCache::new(10, 60);
        for (id, user) in [(1, 7), (2, 7), (3, 8)] {
            let e = cache.epoch();
            cache.insert_if_current(e, [id as u8; 32], &session(id, Some(user)), 100);
        }
        assert!(cache.get(&[1; 32], 159).is_some());
        assert!(cache.get(&[1; 32], 160).is_none(), "older than max_age");
        assert!(cache.get(&[1; 32], 99).is_none(), "clock went back");
        cache.forget_where(|s| s.user_id == Some(7) && s.id != SessionId(2));
        assert!(cache.get(&[1; 32], 100).is_none());
        assert!(cache.get(&[2; 32], 100).is_some());
        assert!(cache.get(&[3; 32], 100).is_some());
    }

    #[test]
    fn the_size_is_bounded_and_expired_copies_make_room() {
        let cache = SessionCache::new(2, 60);
        for id in 1..=2 {
            let e = cache.epoch();
            assert!(cache.insert_if_current(e, [id as u8; 32], &session(id, None), 0));
        }
        let e = cache.epoch();
        assert!(
            !cache.insert_if_current(e, [3; 32], &session(3, None), 0),
            "full"
        );
        // At t=1000 both held sessions are past their idle deadline: they make room.
        let mut late = session(3, None);
        late.idle_expires_at = 2_000;
        assert!(cache.insert_if_current(e, [3; 32], &late, 1_000));
        assert_eq!(cache.len(), 1);
    }
}
