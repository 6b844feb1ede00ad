//! Garbage collection of expired sessions and of security log rows past their retention.

use std::time::Duration;

use crate::store::SessionStore;

/// Spawns a task that deletes expired sessions every `every`. An error is logged and the
/// task carries on at the next tick; it only ends when the runtime does (or on abort).
pub fn spawn_gc(store: SessionStore, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.delete_expired().await {
                Ok(0) => tracing::debug!("session gc: nothing expired"),
                Ok(n) => tracing::info!(deleted = n, "session gc: expired sessions deleted"),
                Err(e) => {
                    tracing::error!(error = %e, "session gc failed; retrying at the next tick")
                }
            }
            let before = store.now() - store.config().security_log_retention.as_secs() as i64;
            match store.prune_security_log(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "security log: old rows deleted"),
                Err(e) => {
                    tracing::error!(error = %e, "security log prune failed; retrying at the next tick")
                }
            }
        }
    })
}
