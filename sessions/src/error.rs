//! The engine's one error type (a leaf: every layer may return it).

use crate::token::RandomError;

/// Database or randomness failure, or a request that came too late. Never shown to
/// clients as it is.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store database error")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The task carrying a change could not finish (the runtime is shutting down).
    #[error("session change task failed")]
    Task(#[from] tokio::task::JoinError),
    /// The request came with a token that a rotation has just replaced, and wanted a
    /// session: a new one would replace the browser's newer token (sign it out again),
    /// so none is begun. The browser can simply try again ([`crate::Lookup::Replaced`]).
    #[error("the session's token was replaced while this request was on its way")]
    Replaced,
}
