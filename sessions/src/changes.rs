//! Announcing session changes to every server process, so each can drop its in-memory
//! copies at once (see [`crate::cache`]).
//!
//! A change that ends, rotates or re-authenticates a session, or ends all of a user's
//! sessions, is announced with ids only (never a token or hash):
//! - on PostgreSQL with `NOTIFY` on [`CHANNEL`] inside the transaction that makes the
//!   change, so it is delivered exactly when (and only if) the change commits, to every
//!   process listening on that database;
//! - on every backend through an in-process broadcast after the commit
//!   ([`SessionStore::subscribe`](crate::SessionStore::subscribe)); on SQLite (one
//!   process) that is how the listener hears of changes, so the code path is one.
//!
//! Each process runs one listener ([`spawn_listener`]). On PostgreSQL, while its
//! connection is down the cache is switched off (every request reads the table) and it is
//! emptied when the listener is back, since notifications sent meanwhile are lost.

use std::time::Duration;

use db::Db;
use sqlx::postgres::{PgListener, PgPoolOptions};

use crate::events::{Event, EventKind};
use crate::store::{SessionId, SessionStore};

/// The PostgreSQL channel session changes are announced on.
pub const CHANNEL: &str = "shop_sessions";

/// How often the listener checks that its connection still answers.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// A change other processes must hear of. Carries ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// One session ended, or got a new token, or signed in.
    Session(SessionId),
    /// Every session of this user may have changed (password change, "sign out
    /// everywhere else").
    User(i64),
    /// Expired sessions were collected.
    Expired,
}

impl Change {
    /// The notification payload: `s:<id>`, `u:<id>` or `expired`.
    pub fn payload(&self) -> String {
        match self {
            Change::Session(id) => format!("s:{}", id.0),
            Change::User(id) => format!("u:{id}"),
            Change::Expired => "expired".to_string(),
        }
    }

    /// Reads a payload; `None` if it is not one of ours.
    pub fn parse(payload: &str) -> Option<Change> {
        if payload == "expired" {
            return Some(Change::Expired);
        }
        let (kind, id) = payload.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "s" => Some(Change::Session(SessionId(id))),
            "u" => Some(Change::User(id)),
            _ => None,
        }
    }
}

/// Starts this process's listener: it applies every announced change to `store`'s
/// cache. Ends when the store is closed ([`SessionStore::close`]).
pub fn spawn_listener(store: SessionStore) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match store.db().clone() {
            Db::Postgres(pool) => listen_postgres(store, pool).await,
            Db::Sqlite { .. } => listen_local(store).await,
        }
    })
}

/// Waits (at most `limit`) until the listener serves from memory, so a server does not
/// start answering with its cache off. Returns whether it does; if not, sessions are read
/// from the database until the listener connects.
pub async fn ready(store: &SessionStore, limit: Duration) -> bool {
    if store.config().cache_capacity == 0 {
        return true;
    }
    let deadline = tokio::time::Instant::now() + limit;
    while !store.cache_enabled() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

/// Resolves once the store is closed (or its sender is gone).
async fn until_closed(closed: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}

async fn listen_local(store: SessionStore) {
    let mut changes = store.subscribe();
    let mut closed = store.closed();
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(change) => store.apply(change),
                // Fell behind: some changes were not seen, so no copy can be trusted.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => store.clear_cache(),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = until_closed(&mut closed) => return,
        }
    }
}

async fn listen_postgres(store: SessionStore, pool: sqlx::PgPool) {
    let mut closed = store.closed();
    let mut backoff = Duration::from_millis(50);
    loop {
        if *closed.borrow() || pool.is_closed() {
            return;
        }
        // Its own connection, outside the shop's pool (which it would otherwise hold one
        // of for good), with the same settings.
        let options = (*pool.connect_options()).clone();
        let connected = async {
            let own = PgPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .max_lifetime(None)
                .idle_timeout(None)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            let mut listener = PgListener::connect_with(&own).await?;
            // A lost connection must be reported (`Ok(None)`), never mended in silence:
            // what was announced while it was down is lost, so the cache must be emptied.
            listener.eager_reconnect(false);
            listener
                .listen_all([CHANNEL, crate::events::CHANNEL])
                .await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let connected = tokio::select! {
            l = connected => l,
            _ = until_closed(&mut closed) => return,
        };
        let mut listener = match connected {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "session change listener cannot connect; sessions are read from the database");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = until_closed(&mut closed) => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        // Changes announced while nobody listened are lost: start from nothing, and tell
        // every open page to read its state again (events were lost too).
        store.clear_cache();
        store.enable_cache(true);
        store.emit_local(Event::new(EventKind::Resync, None, None));
        backoff = Duration::from_millis(50);
        tracing::debug!("session change listener connected");
        // A connection can die without a word (a partition, a NAT dropping it): then no
        // notification arrives and nothing says so. Ask it something now and then.
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.reset();
        loop {
            tokio::select! {
                _ = heartbeat.tick() => {
                    let alive = tokio::time::timeout(
                        HEARTBEAT,
                        sqlx::query("SELECT 1").execute(&mut listener),
                    )
                    .await;
                    if !matches!(alive, Ok(Ok(_))) {
                        tracing::warn!("session change listener stopped answering; sessions are read from the database until it is back");
                        store.enable_cache(false);
                        store.clear_cache();
                        break;
                    }
                }
                received = listener.try_recv() => match received {
                    Ok(Some(n)) if n.channel() == crate::events::CHANNEL => {
                        match Event::parse(n.payload()) {
                            Some(event) => store.emit_local(event),
                            None => tracing::warn!("unknown event notification ignored"),
                        }
                    }
                    Ok(Some(n)) => match Change::parse(n.payload()) {
                        Some(change) => store.apply(change),
                        None => tracing::warn!("unknown session change notification ignored"),
                    },
                    // The connection was lost (the next call would reconnect silently).
                    Ok(None) | Err(_) => {
                        tracing::warn!("session change listener lost its connection; sessions are read from the database until it is back");
                        store.enable_cache(false);
                        store.clear_cache();
                        break;
                    }
                },
                _ = until_closed(&mut closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_junk_is_refused() {
        for c in [
            Change::Session(SessionId(42)),
            Change::User(7),
            Change::Expired,
        ] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        for junk in ["", "s:", "s:x", "q:1", "u:1:2", "expired!"] {
            assert_eq!(Change::parse(junk), None, "{junk}");
        }
    }
}
