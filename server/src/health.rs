//! Probes for load balancers, orchestrators and systemd. Cheap, no session, no cookie,
//! no log line per probe (they are routed outside every layer, the trace included).
//!
//! - `GET /healthz`: the process answers.
//! - `GET /readyz`: the database answers, every migration this build embeds is applied,
//!   and this process hears other processes' changes (on PostgreSQL, its listener is
//!   connected). 503 with a short reason otherwise: take the process out of rotation.

use std::time::Duration;

use app::state::AppState;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// How long readiness waits for the database.
const PING: Duration = Duration::from_secs(2);

/// The probe routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn healthz() -> Response {
    ([(CACHE_CONTROL, "no-store")], "ok\n").into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    match not_ready(&state).await {
        None => ([(CACHE_CONTROL, "no-store")], "ready\n").into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (CACHE_CONTROL, "no-store".to_string()),
                (RETRY_AFTER, app::error::RETRY_UNAVAILABLE_SECS.to_string()),
            ],
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

/// Why this process should not get traffic now, if it should not.
async fn not_ready(state: &AppState) -> Option<&'static str> {
    if state.db.ping(PING).await.is_err() {
        return Some("the database does not answer");
    }
    match state.db.migrations_applied().await {
        Ok(true) => {}
        Ok(false) => return Some("the database schema is not this build's"),
        Err(_) => return Some("the database does not answer"),
    }
    if !state.sessions.listening() {
        return Some("not listening for other processes' session changes");
    }
    None
}
