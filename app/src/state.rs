//! Server-side state shared by SSR and server functions (ssr only).

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sessions::SessionStore;
use sqlx::SqlitePool;

use crate::error::AppError;

/// Everything a request handler may need; provided to Leptos as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Readers (WAL: they never wait for the writer).
    pub pool: SqlitePool,
    /// The one connection every write goes through (see `server::db`).
    pub writer: SqlitePool,
    pub sessions: SessionStore,
    /// Sign-in and registration throttling (per process).
    pub throttle: std::sync::Arc<crate::auth::throttle::Throttle>,
    /// Usernames of signed-in users (see `auth::server::NameCache`).
    pub names: std::sync::Arc<crate::auth::server::NameCache>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state of the current request.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

/// The database pool for reads.
pub fn pool() -> Result<SqlitePool, AppError> {
    app_state().map(|s| s.pool)
}

/// The database connection for writes.
pub fn writer() -> Result<SqlitePool, AppError> {
    app_state().map(|s| s.writer)
}
