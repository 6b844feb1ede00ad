//! The engine's one error type (a leaf: every layer may return it).

use crate::token::RandomError;

/// Database or randomness failure. Never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store database error")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The task carrying a change could not finish (the runtime is shutting down).
    #[error("session change task failed")]
    Task(#[from] tokio::task::JoinError),
}
