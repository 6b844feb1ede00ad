//! The shop's server: configuration, database, router and layers, start-up and shutdown.
//! `main.rs` only turns a start-up error into one clear line.

pub mod api_errors;
pub mod assets;
pub mod config;
pub mod guard;
pub mod headers;
pub mod health;
pub mod import;
pub mod prometheus;
pub mod request_id;
pub mod seed;
pub mod serve;
pub mod unavailable;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use app::auth::throttle::Throttle;
use app::state::AppState;
use app::{shell, App};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sessions::{Clock, SessionStore, SystemClock};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::{Config, ConfigError};
pub use db::DbError;

/// Largest request body accepted (server-function forms are a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything that can stop the server from starting, each with a message a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read the Leptos configuration: {0}")]
    Leptos(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("seeding demo data failed: {0}")]
    Seed(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// The app's routes, generated once per process. Route generation renders the app in a
/// special mode; running it while another router in the same process is rendering a page
/// (several test servers starting in parallel) left that render waiting forever.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Static files need no session: skipping the lookup keeps them cheap.
fn is_static_asset(path: &str) -> bool {
    ["/pkg/", "/images/", "/favicon"]
        .iter()
        .any(|p| path.starts_with(p))
}

async fn sessions_except_static(
    State(store): State<SessionStore>,
    req: Request,
    next: Next,
) -> Response {
    if is_static_asset(req.uri().path()) {
        next.run(req).await
    } else {
        sessions::session_middleware(State(store), req, next).await
    }
}

/// The whole service as `run` serves it: the probes ([`health`], outside every layer),
/// then [`router`] with the configured request time limit and `X-Served-By`.
pub fn app(state: AppState, config: &Config) -> Router {
    prometheus::handle(); // the recorder, before the first request is counted
    let probes = health::routes(state.clone());
    let shop = router(state, config.request_timeout);
    let shop = match &config.served_by {
        Some(name) => shop.layer(SetResponseHeaderLayer::overriding(
            axum::http::HeaderName::from_static("x-served-by"),
            name.clone(),
        )),
        None => shop,
    };
    probes.merge(shop)
}

/// Builds the complete application router: server functions under `/api`, SSR pages,
/// the built files under `/pkg` (see [`assets`]), other static files from the site root,
/// and the HTTP layers, outermost first: the request id (kept from a trusted proxy, else
/// made; [`request_id`]), trace (a span per request with its id), compression, security headers, the
/// request time limit ([`unavailable::time_limit`]), body limit, client address,
/// cross-site refusal, the outage guard ([`unavailable::outage_guard`]), session,
/// private-page guard, API error statuses, page response.
pub fn router(state: AppState, request_timeout: std::time::Duration) -> Router {
    let store = state.sessions.clone();
    let https = store.config().secure;
    let proxies = store.config().trusted_proxies.clone();
    let proxies_for_ids = proxies.clone();
    let routes = route_list();
    let context_state = state.clone();
    let provide_state = move || {
        leptos::prelude::provide_context(context_state.outage.clone());
        leptos::prelude::provide_context(context_state.clone());
    };
    let pkg = assets::pkg_service(&state.leptos_options);
    let outage_state = state.clone();
    let router = Router::new()
        .route(
            app::live::EVENTS_PATH,
            axum::routing::get(app::live::server::events),
        )
        .route(
            app::email::links::VERIFY_PATH,
            axum::routing::get(app::email::links::open_verify),
        )
        .route(
            app::email::links::RESET_PATH,
            axum::routing::get(app::email::links::open_reset),
        )
        .nest_service(&assets::prefix(&state.leptos_options), pkg)
        .leptos_routes_with_context(&state, routes, provide_state.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(middleware::from_fn(prometheus::note_route))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_state, shell))
        .with_state(state)
        .layer(middleware::from_fn(app::page_response::middleware))
        .layer(middleware::from_fn(api_errors::server_fn_error_status))
        .layer(middleware::from_fn(guard::private_pages))
        .layer(middleware::from_fn_with_state(
            store,
            sessions_except_static,
        ))
        .layer(middleware::from_fn_with_state(
            outage_state,
            unavailable::outage_guard,
        ))
        .layer(middleware::from_fn(sessions::reject_cross_site))
        .layer(middleware::from_fn_with_state(
            proxies,
            sessions::client_addr_middleware,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            request_timeout,
            unavailable::time_limit,
        ));
    headers::add(router, https)
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(prometheus::record))
        .layer(TraceLayer::new_for_http().make_span_with(request_id::span))
        .layer(PropagateRequestIdLayer::new(
            request_id::X_REQUEST_ID.clone(),
        ))
        .layer(SetRequestIdLayer::new(
            request_id::X_REQUEST_ID.clone(),
            request_id::RandomId,
        ))
        .layer(middleware::from_fn_with_state(
            proxies_for_ids,
            request_id::only_from_trusted,
        ))
}

/// Opens the database, seeds it if asked, and returns the state the router needs.
/// `clock` is the session engine's time source (a fake one in tests).
pub async fn prepare(
    config: &Config,
    leptos_options: LeptosOptions,
    clock: Arc<dyn Clock>,
) -> Result<AppState, StartupError> {
    let db = db::Db::connect(&config.database_url, &config.postgres).await?;
    let sessions = SessionStore::new(db.clone(), config.sessions.clone(), clock);
    // Hears of session changes made by other processes (and this one) and drops the
    // cached copies they make stale; ends when the store is closed.
    sessions::spawn_listener(sessions.clone());
    if !sessions::listener::ready(&sessions, std::time::Duration::from_secs(5)).await {
        tracing::warn!("session change listener not connected yet; sessions are read from the database meanwhile");
    }
    if config.seed_demo_data {
        seed::seed_demo_data(&db, sessions.now()).await?;
    }
    // Compute the dummy hash now so the first failed sign-in is not measurably slower.
    tokio::task::spawn_blocking(app::auth::password::warm_up)
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    let rp = config.relying_party(leptos_options.site_addr.port())?;
    let passkeys = app::passkeys::server::Passkeys::new(rp).map_err(|reason| {
        StartupError::Config(crate::ConfigError {
            name: "WEBAUTHN_ORIGIN",
            reason,
        })
    })?;
    Ok(AppState {
        outbox: app::mail::Outbox::new(db.clone()),
        passkeys,
        leptos_options,
        throttle: Throttle::new(db.clone())
            .with_registrations_per_hour(config.registrations_per_hour),
        db,
        sessions,
        names: Default::default(),
        live: app::live::hub::Hub::new(config.event_streams),
        outage: Default::default(),
    })
}

/// Runs the shop until Ctrl-C or SIGTERM, then lets in-flight requests finish.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let conf =
        leptos::config::get_configuration(None).map_err(|e| StartupError::Leptos(e.to_string()))?;
    let leptos_options = conf.leptos_options;
    assets::check_hash_file(&leptos_options).map_err(StartupError::Leptos)?;
    let addr = leptos_options.site_addr;
    let state = prepare(&config, leptos_options, Arc::new(SystemClock)).await?;
    let db = state.db.clone();
    let store = state.sessions.clone();
    let live = state.live.clone();
    let gc = sessions::spawn_gc(state.sessions.clone(), config.gc_interval);
    let prune = spawn_account_prune(
        state.throttle.clone(),
        state.sessions.clone(),
        state.outbox.clone(),
        config.gc_interval,
    );
    let mail = spawn_mail_worker(&state, &config)?;
    let metrics = match config.metrics_addr {
        Some(addr) => Some(serve_metrics(addr, state.clone()).await?),
        None => None,
    };
    let app = app(state, &config);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!("listening on http://{local}");
    // For people, on the terminal's other stream: standard output may be a log
    // collector's JSON lines (`LOG_FORMAT=json`).
    // Passkeys need a domain name: on this machine that is `localhost`, never an address.
    let shown = if local.ip().is_loopback() || local.ip().is_unspecified() {
        format!("localhost:{}", local.port())
    } else {
        local.to_string()
    };
    eprintln!("Oxide & Oak is open at http://{shown}");

    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = serve::serve(listener, app, config.connections.clone(), async move {
        shutdown_signal().await;
        // Event streams never finish by themselves: end them, so the in-flight requests
        // that remain are real ones (browsers reconnect to another process).
        live.close();
        let _ = signalled_tx.send(());
    });
    // In-flight requests get `shutdown_grace` to finish; a stuck connection cannot keep
    // the process alive forever.
    let grace = config.shutdown_grace;
    tokio::select! {
        () = server => {}
        _ = async {
            if signalled_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => tracing::warn!(?grace, "grace period over; closing remaining connections"),
    }
    gc.abort();
    prune.abort();
    mail.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    store.close();
    db.close().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Starts this process's mail worker (see `app::mail`): SMTP, or `.eml` files.
pub fn spawn_mail_worker(
    state: &AppState,
    config: &Config,
) -> Result<tokio::task::JoinHandle<()>, StartupError> {
    let settings = config.mail.clone();
    let transport = app::mail::Transport::open(&settings).map_err(|reason| {
        StartupError::Config(ConfigError {
            name: if settings.url.is_some() {
                "MAIL_URL"
            } else {
                "MAIL_DIR"
            },
            reason,
        })
    })?;
    match &settings.url {
        Some(_) => tracing::info!("mail goes out through MAIL_URL"),
        None => {
            tracing::info!(dir = %settings.dir.display(), "mail is written as .eml files (MAIL_URL is not set)")
        }
    }
    let worker = app::mail::worker::Worker {
        outbox: state.outbox.clone(),
        transport,
        settings,
        origin: state
            .passkeys
            .rp
            .origin
            .as_str()
            .trim_end_matches('/')
            .to_string(),
        clock: state.sessions.clock(),
    };
    Ok(worker.spawn())
}

/// Serves the metrics (`GET /metrics`) on their own address, apart from the shop's.
async fn serve_metrics(
    addr: SocketAddr,
    state: AppState,
) -> Result<tokio::task::JoinHandle<()>, StartupError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!("metrics at http://{local}/metrics");
    let metrics = prometheus::router(state);
    let limits = serve::ConnectionLimits::default();
    Ok(tokio::spawn(serve::serve(
        listener,
        metrics,
        limits,
        std::future::pending(),
    )))
}

/// The shop's own collector, beside the session engine's: deletes throttle counters that
/// no longer matter, security log rows past their retention, mail tokens that can no
/// longer be used, devices not seen for longer than their cookie lives, and mail sent or
/// given up more than 30 days ago, on the same schedule. An error is logged and the task
/// carries on at the next tick.
fn spawn_account_prune(
    throttle: Throttle,
    store: SessionStore,
    outbox: app::mail::Outbox,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match throttle.prune(store.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "throttle: quiet counters deleted"),
                Err(e) => tracing::error!(
                    error = &e as &dyn std::error::Error,
                    "throttle prune failed; retrying at the next tick"
                ),
            }
            let retention = store.config().security_log_retention.as_secs() as i64;
            match app::account::log::prune(store.db(), store.now() - retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "security log: old rows deleted"),
                Err(e) => tracing::error!(
                    error = &e as &dyn std::error::Error,
                    "security log prune failed; retrying at the next tick"
                ),
            }
            let now = store.now();
            let pruned = [
                (
                    "mail tokens",
                    app::email::server::prune(store.db(), now).await,
                ),
                ("devices", app::auth::devices::prune(store.db(), now).await),
                ("mail", outbox.prune(now - 30 * 24 * 60 * 60).await),
            ];
            for (what, result) in pruned {
                match result {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "{what}: old rows deleted"),
                    Err(e) => tracing::error!(
                        error = &e as &dyn std::error::Error,
                        "{what}: prune failed; retrying at the next tick"
                    ),
                }
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
