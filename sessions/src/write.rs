//! The write protocol: the one way the engine changes sessions.
//!
//! [`session_write!`] runs, in this order and in no other:
//! 1. drop this process's cached copies the change makes stale (so none is served while
//!    the write is under way);
//! 2. begin a transaction on the writer and run the body, which makes the change with
//!    the statements of [`crate::sql::SessionTx`] and says what it did ([`Written`]);
//! 3. if it changed something: announce the change, record the event (its security log
//!    row, and its announcement), commit; otherwise roll back and announce nothing;
//! 4. after the commit, drop the stale copies again (a lookup may have read the row while
//!    it was being changed) and tell this process's listener and receivers.
//!
//! All of it runs in a task of its own ([`detached`]), so it
//! happens in full even if the request that asked for it is dropped at an `.await` (the
//! client hung up): the write, the announcements and dropping the copies happen together
//! or the caller gets an error, never "written but still cached".

use crate::error::StoreError;
use crate::events::Event;
use crate::sql::Device;

/// Runs a change of shared state to its end even if the caller's future is dropped (the
/// client hung up, the request was cancelled at an `.await`).
pub(crate) async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::spawn(work).await?
}

/// What the body of a [`session_write!`] did.
#[derive(Debug)]
pub(crate) struct Written<T> {
    pub(crate) value: T,
    pub(crate) changed: bool,
    pub(crate) event: Option<(Event, Device)>,
}

impl<T> Written<T> {
    /// Nothing changed (the row was gone, a condition failed): roll back, announce nothing.
    pub fn nothing(value: T) -> Self {
        Written {
            value,
            changed: false,
            event: None,
        }
    }

    /// The change was made: commit and announce it.
    pub fn changed(value: T) -> Self {
        Written {
            value,
            changed: true,
            event: None,
        }
    }

    /// And this event happened, logged with this device's name and network.
    pub fn with(mut self, event: Event, device: Device) -> Self {
        self.event = Some((event, device));
        self
    }
}

/// `session_write!(store, stale, tx => body)`: see the module documentation.
///
/// `stale` is the `Option<Change>` the write makes stale; `body` is an async block's body
/// with `tx` the open transaction (`?` and `return` leave the body, not the caller),
/// evaluating to `Result<Written<T>, StoreError>`. Values the body uses are moved into
/// the task. The macro evaluates to `Result<T, StoreError>`.
macro_rules! session_write {
    ($store:expr, $stale:expr, $tx:ident => $body:expr) => {{
        let store = $store.clone();
        let stale: Option<$crate::change::Change> = $stale;
        $crate::write::detached(async move {
            store.drop_stale(stale);
            let written = db::on!(store.db().writer(), p => {
                #[allow(unused_imports)]
                use $crate::sql::{Notify as _, SessionTx as _};
                let mut $tx = p.begin().await?;
                let body: Result<$crate::write::Written<_>, $crate::error::StoreError> =
                    async { $body }.await;
                let written = body?;
                if written.changed {
                    if let Some(change) = stale {
                        $tx.notify($crate::change::CHANNEL, change.payload()).await?;
                    }
                    if let Some((event, device)) = &written.event {
                        $tx.log(event, device, store.now()).await?;
                        $tx.notify($crate::events::CHANNEL, event.payload()).await?;
                    }
                    $tx.commit().await?;
                } else {
                    $tx.rollback().await?;
                }
                written
            });
            Ok(store.finish(stale, written))
        })
        .await
    }};
}

pub(crate) use session_write;
