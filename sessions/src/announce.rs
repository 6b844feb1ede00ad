//! The one announcer: how this process, and on PostgreSQL every other process, hears of
//! a session change ([`Change`]) or an event ([`Event`]) once it has committed.
//!
//! - A write of the engine announces inside its transaction (`SessionTx::notify`, part of
//!   the write protocol in `crate::write`), then calls [`Announcer::committed`].
//! - An event of the shop that the caller has committed itself (a cart changed, an order
//!   placed, a refused sign-in counted) goes through [`Announcer::publish`].
//!
//! On SQLite (one process) both reach the receivers through in-process broadcasts. On
//! PostgreSQL changes are broadcast in-process too (the listener applies them on every
//! process alike), while events reach this process's receivers only through its
//! listener, when the `NOTIFY` arrives: every process hears each event exactly once, the
//! same way.

use db::{Backend, Db};
use tokio::sync::broadcast;

use crate::change::Change;
use crate::events::{Event, CHANNEL as EVENTS};

#[derive(Debug, Clone)]
pub(crate) struct Announcer {
    db: Db,
    /// Every change, after it committed.
    changes: broadcast::Sender<Change>,
    /// Every event, after it committed (on PostgreSQL: after its `NOTIFY` arrived).
    events: broadcast::Sender<Event>,
}

impl Announcer {
    pub fn new(db: Db) -> Self {
        Announcer {
            db,
            changes: broadcast::channel(1024).0,
            events: broadcast::channel(4096).0,
        }
    }

    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Hands an event to this process's receivers.
    pub fn emit_local(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// After an engine write committed (its `NOTIFY`s were sent inside it): the change
    /// goes to this process's listener; on SQLite the event to the receivers as well.
    pub fn committed(&self, change: Option<Change>, event: Option<Event>) {
        if let Some(change) = change {
            let _ = self.changes.send(change);
        }
        if let (Some(event), Backend::Sqlite) = (event, self.db.backend()) {
            self.emit_local(event);
        }
    }

    /// Publishes an event the caller has committed. Runs in a task of its own, so it is
    /// sent even if the caller's request is dropped right after; a failure is logged
    /// (pages then catch up at their next request or reconnect).
    pub fn publish(&self, event: Event) {
        match &self.db {
            Db::Sqlite { .. } => self.emit_local(event),
            Db::Postgres(pool) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    if let Err(e) = crate::sql::pg_notify(&pool, EVENTS, event.payload()).await {
                        tracing::warn!(error = %e, kind = event.kind.name(), "event not announced");
                    }
                });
            }
        }
    }
}
