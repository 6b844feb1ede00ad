//! The open event streams of this process (ssr only): how many there may be, and the
//! signal that ends them all at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sessions::SessionId;
use tokio::sync::watch;

/// How many streams may be open.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Per session (that is, per browser: its tabs share the cookie) over HTTP/1.1. A
    /// browser opens at most six HTTP/1.1 connections to a site and each stream holds
    /// one: with every one of them a stream, no page or call gets through (measured:
    /// `scripts/bench-live-tabs`, docs/PERFORMANCE.md), so two are left free.
    pub per_session: usize,
    /// Per session for a browser on HTTP/2 (told by a trusted proxy): its streams share
    /// one connection with its pages, so only the server's cost limits them.
    pub per_session_h2: usize,
    /// Per process.
    pub total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_session: 4,
            per_session_h2: 16,
            total: 2_000,
        }
    }
}

/// The open streams of this process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hub(Arc<HubInner>);

#[derive(Debug)]
struct HubInner {
    limits: Limits,
    open: Mutex<Open>,
    shutdown: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_session: HashMap<SessionId, usize>,
}

/// A stream's place in the count, given back when the stream is dropped (the client
/// went away, the session ended, the server is shutting down), whatever the reason.
pub(super) struct Slot {
    hub: Arc<HubInner>,
    session: SessionId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.hub.lock();
        open.total -= 1;
        if let Some(n) = open.by_session.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                open.by_session.remove(&self.session);
            }
        }
    }
}

impl HubInner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        // Every change under the lock is a counter step; a panic cannot leave it torn.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(Limits::default())
    }
}

impl Hub {
    pub fn new(limits: Limits) -> Self {
        Hub(Arc::new(HubInner {
            limits,
            open: Mutex::new(Open::default()),
            shutdown: watch::channel(false).0,
        }))
    }

    /// A place for one more stream of `session`, if the limits allow (`h2`: the browser
    /// speaks HTTP/2 to the front).
    pub(super) fn enter(&self, session: SessionId, h2: bool) -> Option<Slot> {
        let mut open = self.0.lock();
        let mine = open.by_session.get(&session).copied().unwrap_or(0);
        let cap = match h2 {
            true => self.0.limits.per_session_h2,
            false => self.0.limits.per_session,
        };
        if open.total >= self.0.limits.total || mine >= cap {
            return None;
        }
        open.total += 1;
        *open.by_session.entry(session).or_default() += 1;
        Some(Slot {
            hub: self.0.clone(),
            session,
        })
    }

    /// Whether the server is shutting down.
    pub(super) fn is_closed(&self) -> bool {
        *self.0.shutdown.borrow()
    }

    /// Becomes true when the server shuts down.
    pub(super) fn shutdown(&self) -> watch::Receiver<bool> {
        self.0.shutdown.subscribe()
    }

    /// Ends every open stream and refuses new ones (at shutdown).
    pub fn close(&self) {
        self.0.shutdown.send_replace(true);
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.0.lock().total
    }
}
