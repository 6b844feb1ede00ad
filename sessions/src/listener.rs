//! Each process's listener: it hears every announced change (`crate::change`) and event
//! (`crate::events`) and applies it to this process's cache and event receivers.
//!
//! On SQLite (one process) it follows the in-process broadcast. On PostgreSQL it holds
//! its own `LISTEN` connection; while that is down the cache is switched off (every
//! request reads the table) and it is emptied when the listener is back, since
//! notifications sent meanwhile are lost.

use std::time::Duration;

use db::Db;
use sqlx::postgres::{PgListener, PgPoolOptions};

use crate::change::{Change, CHANNEL};
use crate::events::{Event, EventKind};
use crate::store::SessionStore;

/// How often the listener checks that its connection still answers.
const HEARTBEAT: Duration = Duration::from_secs(5);

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
    store.set_listening(true);
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

/// Keeps one `LISTEN` connection up for as long as the store is open, reconnecting with
/// back-off; while it is down the cache is off.
async fn listen_postgres(store: SessionStore, pool: sqlx::PgPool) {
    let mut closed = store.closed();
    let mut backoff = Duration::from_millis(50);
    loop {
        if *closed.borrow() || pool.is_closed() {
            return;
        }
        let connected = tokio::select! {
            l = connect(&pool) => l,
            _ = until_closed(&mut closed) => return,
        };
        let listener = match connected {
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
        store.set_listening(true);
        store.emit_local(Event::new(EventKind::Resync, None, None));
        backoff = Duration::from_millis(50);
        tracing::debug!("session change listener connected");
        match follow(&store, listener, &mut closed).await {
            Ended::Closed => return,
            Ended::Lost(why) => {
                tracing::warn!("session change listener {why}; sessions are read from the database until it is back");
                store.set_listening(false);
                store.enable_cache(false);
                store.clear_cache();
            }
        }
    }
}

/// A listener on its own connection, outside the shop's pool (which it would otherwise
/// hold one of for good), with the same settings.
async fn connect(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let options = (*pool.connect_options()).clone();
    let own = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&own).await?;
    // A lost connection must be reported (`Ok(None)`), never mended in silence: what was
    // announced while it was down is lost, so the cache must be emptied.
    listener.eager_reconnect(false);
    listener
        .listen_all([CHANNEL, crate::events::CHANNEL])
        .await?;
    Ok(listener)
}

/// Why [`follow`] returned.
enum Ended {
    /// The store was closed.
    Closed,
    /// The connection was lost or stopped answering.
    Lost(&'static str),
}

/// Applies every notification until the connection fails or the store closes. A
/// connection can die without a word (a partition, a NAT dropping it): then nothing
/// arrives and nothing says so, so it is asked something now and then.
async fn follow(
    store: &SessionStore,
    mut listener: PgListener,
    closed: &mut tokio::sync::watch::Receiver<bool>,
) -> Ended {
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
                    return Ended::Lost("stopped answering");
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
                Ok(None) | Err(_) => return Ended::Lost("lost its connection"),
            },
            _ = until_closed(closed) => return Ended::Closed,
        }
    }
}
