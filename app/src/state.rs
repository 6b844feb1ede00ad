//! Server-side state shared by SSR and server functions (ssr only).

use axum::extract::FromRef;
use db::Db;
use leptos::config::LeptosOptions;
use sessions::SessionStore;

use crate::error::{AppError, Cause};

/// Everything a request handler may need; provided to Leptos as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The database (SQLite or PostgreSQL; stores take its reader or writer pool).
    pub db: Db,
    pub sessions: SessionStore,
    /// Sign-in and registration throttling (counters in the database, shared by every
    /// process on it).
    pub throttle: crate::auth::throttle::Throttle,
    /// Usernames of signed-in users (see `auth::names`).
    pub names: std::sync::Arc<crate::auth::names::NameCache>,
    /// The open event streams (`GET /api/events`): their limits and their end.
    pub live: crate::live::hub::Hub,
    /// Whether this process has just met the database out of reach.
    pub outage: std::sync::Arc<crate::outage::Outage>,
    /// The WebAuthn relying party passkeys are made for and checked against.
    pub passkeys: crate::passkeys::relying_party::Passkeys,
    /// Mail waiting to be sent, and this process's worker's doorbell.
    pub outbox: crate::mail::Outbox,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state of the current request.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::Internal(Cause::note("AppState missing from the Leptos context")))
}

/// The database of the current request's server.
pub fn db() -> Result<Db, AppError> {
    app_state().map(|s| s.db)
}
