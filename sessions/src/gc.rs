//! Garbage collection of expired sessions (the part of [`crate::expiry`] that runs on
//! its own). The account's security log is pruned by the shop's own task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::store::SessionStore;

/// The collector's task, and a count of what its ticks did (for tests, and for the
/// metrics an operator will want).
pub struct Gc {
    task: tokio::task::JoinHandle<()>,
    counts: Arc<GcCounts>,
}

#[derive(Default)]
struct GcCounts {
    ticks: AtomicU64,
    failed: AtomicU64,
}

impl Gc {
    /// Ticks finished so far.
    pub fn ticks(&self) -> u64 {
        self.counts.ticks.load(Ordering::Relaxed)
    }

    /// Ticks on which deleting expired sessions failed.
    pub fn failed_ticks(&self) -> u64 {
        self.counts.failed.load(Ordering::Relaxed)
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Spawns a task that deletes expired sessions every `every`. An error is logged and the
/// task carries on at the next tick; it only ends when the runtime does (or on abort).
pub fn spawn_gc(store: SessionStore, every: Duration) -> Gc {
    let counts = Arc::new(GcCounts::default());
    let task = tokio::spawn({
        let counts = counts.clone();
        async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let ok = tick(&store).await;
                if !ok {
                    counts.failed.fetch_add(1, Ordering::Relaxed);
                }
                counts.ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    Gc { task, counts }
}

/// One round; false if it failed (and was logged).
async fn tick(store: &SessionStore) -> bool {
    match store.delete_expired().await {
        Ok(0) => tracing::debug!("session gc: nothing expired"),
        Ok(n) => tracing::info!(deleted = n, "session gc: expired sessions deleted"),
        Err(e) => {
            tracing::error!(
                error = &e as &dyn std::error::Error,
                "session gc failed; retrying at the next tick"
            );
            return false;
        }
    }
    true
}
