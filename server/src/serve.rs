//! Accepting connections, with the limits a server facing the internet needs: what
//! `axum::serve` leaves out.
//!
//! - **Header-read timeout.** A connection gets `header_read` to send a complete request
//!   head: from when it opens, and again from the end of each answer while it is kept
//!   alive. A client that sends nothing, or trickles its headers, or keeps an idle
//!   connection open, is cut off then; a request being answered (a streamed page, the
//!   event stream) is not.
//! - **Connections per client.** One address may hold at most `per_client` connections at
//!   once; more are closed as soon as they are accepted, so one client runs into its own
//!   limit long before the process runs out of file descriptors. Trusted proxies (every
//!   visitor arrives through them) are not limited.
//! - **Graceful shutdown.** On the signal, no new connection is accepted, idle ones are
//!   closed, and answers under way are finished (the caller bounds how long).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sessions::TrustedProxies;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// The limits of [`serve`].
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time to send a complete request head (and the longest a kept-alive connection may
    /// stay idle).
    pub header_read: Duration,
    /// Connections one client address may hold at once.
    pub per_client: usize,
    /// Peers that are not limited per address (the load balancers).
    pub trusted: TrustedProxies,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read: Duration::from_secs(15),
            per_client: 256,
            trusted: TrustedProxies::default(),
        }
    }
}

/// Open connections per client address.
#[derive(Debug, Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// A connection's place in [`PerClient`], given back when the connection ends.
struct Counted {
    counts: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn enter(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Counted {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then until the answers under way
/// are finished. Each request carries `ConnectInfo<SocketAddr>` (the peer).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let counts = Arc::new(PerClient::default());
    let mut stopping = stop_rx.clone();
    // Every connection task holds a sender: when the last is dropped, all have finished.
    let (alive_tx, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stopping) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors, say: wait a moment instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        let counted = if limits.trusted.contains(peer.ip()) {
            None
        } else {
            match counts.enter(ip, limits.per_client) {
                Some(c) => Some(c),
                None => {
                    tracing::debug!(%ip, "connection refused: too many from this client");
                    continue; // dropped: closed at once
                }
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            tcp,
            peer,
            app.clone(),
            limits.header_read,
            stop_rx.clone(),
            (counted, alive_tx.clone()),
        ));
    }
    // Wait for the connections under way (the caller bounds how long).
    drop(alive_tx);
    let _ = all_done.recv().await;
}

/// Serves one connection until it closes, or until shutdown lets its last answer finish.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    header_read: Duration,
    mut stop: watch::Receiver<bool>,
    _held: (Option<Counted>, tokio::sync::mpsc::Sender<()>),
) {
    let service = app.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.map(Body::new)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        done = conn.as_mut() => {
            if let Err(e) = done {
                tracing::debug!(error = %e, "connection ended");
            }
        }
        () = stopped(&mut stop) => {
            // Idle: closed now; answering: closed once the answer is out.
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
}

/// Resolves once the shutdown signal is set.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
