//! Prometheus metrics (the `metrics` facade, rendered by `metrics-exporter-prometheus`), served on their own address (`METRICS_ADDR`, off by default) so
//! they are never public by accident. No label carries a user, a token or an address:
//! routes are templates (`/products/{slug}`), results are fixed words.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `shop_http_requests_total` | `route`, `method`, `status` | answers given |
//! | `shop_http_request_duration_seconds` | `route`, `method` | time to the answer's head (histogram) |
//! | `shop_session_lookups_total` | `result`: `cache_hit`, `cache_miss`, `refused`, `replaced` | session cookies looked up (`replaced`: a token a rotation replaced moments ago) |
//! | `shop_sign_ins_total` | `result`: `ok`, `refused`, `throttled`, `failed` | password sign-ins |
//! | `shop_db_unavailable_total` | | requests that met the database out of reach |
//! | `shop_event_streams_open` | | open `/api/events` streams |
//! | `shop_db_connections` | `pool`, `state`: `in_use`, `idle` | database connections |
//! | `shop_db_connections_max` | `pool` | each pool's size limit |
//! | `shop_mail_total` | `result`: `sent`, `retried`, `failed` | tries of this process's mail worker |
//! | `shop_mail_outbox` | `status`: `queued`, `sent`, `failed` | rows of the outbox (all processes'), at the scrape |

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use app::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use db::Db;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets, seconds: from a cached page to a slow checkout.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use (one per process: the test servers of
/// one test binary share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the latency buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder in this process")
    })
}

/// The route template of a request, filled in once it is routed.
#[derive(Clone, Default)]
struct RouteSlot(Arc<Mutex<Option<String>>>);

/// Counts and times every answer (outside routing: it sees them all).
pub async fn record(req: Request, next: Next) -> Response {
    let slot = RouteSlot::default();
    let method = req.method().as_str().to_string();
    let mut req = req;
    req.extensions_mut().insert(slot.clone());
    let started = Instant::now();
    let res = next.run(req).await;
    let route = slot
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16().to_string();
    metrics::histogram!("shop_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("shop_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    res
}

/// Notes the matched route template (a route layer: it runs after routing).
pub async fn note_route(req: Request, next: Next) -> Response {
    if let (Some(path), Some(slot)) = (
        req.extensions().get::<MatchedPath>(),
        req.extensions().get::<RouteSlot>(),
    ) {
        *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.as_str().to_string());
    }
    next.run(req).await
}

/// The metrics service: `GET /metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    metrics::gauge!("shop_event_streams_open").set(state.live.open_streams() as f64);
    for (pool, size, idle, max) in pools(&state.db) {
        metrics::gauge!("shop_db_connections", "pool" => pool, "state" => "in_use")
            .set((size as usize).saturating_sub(idle) as f64);
        metrics::gauge!("shop_db_connections", "pool" => pool, "state" => "idle").set(idle as f64);
        metrics::gauge!("shop_db_connections_max", "pool" => pool).set(max as f64);
    }
    match state.outbox.counts().await {
        Ok(counts) => {
            for (status, n) in counts {
                metrics::gauge!("shop_mail_outbox", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(
            error = &e as &dyn std::error::Error,
            "outbox not counted for the metrics"
        ),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}

/// (pool, open connections, idle ones, limit) of each pool.
fn pools(db: &Db) -> Vec<(&'static str, u32, usize, u32)> {
    match db {
        Db::Sqlite { reader, writer } => vec![
            (
                "reader",
                reader.size(),
                reader.num_idle(),
                reader.options().get_max_connections(),
            ),
            (
                "writer",
                writer.size(),
                writer.num_idle(),
                writer.options().get_max_connections(),
            ),
        ],
        Db::Postgres(pool) => vec![(
            "postgres",
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        )],
    }
}
