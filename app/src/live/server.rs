//! `GET /api/events`: the current session's state as server-sent events (ssr only).
//!
//! - Same-origin only (`Sec-Fetch-Site`, else `Origin`): 403 otherwise.
//! - A session is needed: a visitor without one gets 204 and no stream (an
//!   `EventSource` does not retry after 204).
//! - At most [`Limits::per_session`](super::hub::Limits::per_session) streams per session (a browser allows six HTTP/1.1
//!   connections per site; streams must leave room for pages) and [`Limits::total`](super::hub::Limits::total) per
//!   process: 429 with `Retry-After` beyond.
//! - The first message is the session's state as it is now; then one after every event
//!   that concerns the session (`sessions::Event::concerns`), and when its deadline
//!   passes. A session that has ended gets a last message (`ended: true`) and the stream
//!   closes.
//! - Every stream ends when the server shuts down ([`Hub::close`](super::hub::Hub::close)), so a graceful
//!   shutdown is not held up by them; browsers reconnect (after 2 s) to another process
//!   or the restarted one. A stream asked for during shutdown ends at once with
//!   `retry: 5000`: an error status would make an `EventSource` give up for good.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use sessions::{EventKind, SessionHandle, SessionId};
use tokio::sync::{broadcast, watch};

use super::hub::Slot;
use super::model::{LiveState, Why, STATE_EVENT};
use crate::cart::server::{count as cart_count, Owner};
use crate::error::AppError;
use crate::state::AppState;

/// A comment line this often keeps proxies and browsers from timing an idle stream out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What a browser waits before reconnecting a dropped stream.
const RECONNECT: Duration = Duration::from_secs(2);
/// What a browser waits before reconnecting to a server that is shutting down.
const RETRY_AFTER_SHUTDOWN: Duration = Duration::from_secs(5);
/// How long a refused stream should wait before trying again.
const RETRY_FULL_SECS: u64 = 30;

/// `GET /api/events` (see the module documentation).
pub async fn events(
    State(state): State<AppState>,
    Extension(session): Extension<SessionHandle>,
    extensions: axum::http::Extensions,
    version: Version,
    headers: HeaderMap,
) -> Response {
    if let Some(reason) = sessions::csrf::cross_site_reason(&headers) {
        tracing::warn!(reason, "refused a cross-site event stream");
        return (
            StatusCode::FORBIDDEN,
            [(CONTENT_TYPE, "application/json")],
            sessions::csrf::REFUSAL_JSON,
        )
            .into_response();
    }
    let Some(current) = session.session() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let hub = state.live.clone();
    if hub.is_closed() {
        // An error status would make the browser give up for good; a stream that ends
        // at once makes it try again, by then on a process that is up.
        let retry = SseEvent::default().retry(RETRY_AFTER_SHUTDOWN);
        return Sse::new(futures::stream::once(
            async move { Ok::<_, Infallible>(retry) },
        ))
        .into_response();
    }
    let h2 = speaks_h2(&state, &extensions, version, &headers);
    let Some(slot) = hub.enter(current.id, h2) else {
        tracing::info!("event stream refused: too many open");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, HeaderValue::from(RETRY_FULL_SECS))],
        )
            .into_response();
    };
    // Subscribed before the first state is read, so nothing that happens in between is
    // missed.
    let follower = Follower {
        events: state.sessions.events(),
        shutdown: hub.shutdown(),
        session: current.id,
        user: current.user_id,
        deadline: deadline_of(&current),
        state,
        first: true,
        done: false,
        _slot: slot,
    };
    let stream = futures::stream::unfold(follower, Follower::next);
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx (scripts/cluster) must pass each message on at once, not buffer it.
    h.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    res
}

/// Resolves once the hub is closed.
async fn until_closed(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|closed| *closed).await;
}

/// The front that told us the browser's protocol (nginx: `proxy_set_header
/// X-Client-Protocol $server_protocol`). Believed from a trusted proxy only.
pub const CLIENT_PROTOCOL: &str = "x-client-protocol";

/// Whether the browser speaks HTTP/2 (or later) to us or to the trusted proxy in front.
fn speaks_h2(
    state: &AppState,
    extensions: &axum::http::Extensions,
    version: Version,
    headers: &HeaderMap,
) -> bool {
    if version >= Version::HTTP_2 {
        return true;
    }
    state.sessions.config().trusted_proxies.sent(extensions)
        && headers
            .get(CLIENT_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| matches!(v, "HTTP/2.0" | "HTTP/3.0"))
}

/// The page-side reason for an event of this kind. Every kind is matched, so a new one
/// must be given its reason here.
fn why(kind: EventKind) -> Why {
    match kind {
        EventKind::SignedIn => Why::SignedIn,
        EventKind::SignedInWithPasskey => Why::SignedInWithPasskey,
        EventKind::SignedOut => Why::SignedOut,
        EventKind::Revoked => Why::Revoked,
        EventKind::RevokedOthers => Why::RevokedOthers,
        EventKind::PasswordChanged => Why::PasswordChanged,
        EventKind::Expired => Why::Expired,
        EventKind::SignInRefused => Why::SignInRefused,
        EventKind::PasskeyAdded => Why::PasskeyAdded,
        EventKind::PasskeyRemoved => Why::PasskeyRemoved,
        EventKind::PasskeyRefused => Why::PasskeyRefused,
        EventKind::CartChanged => Why::CartChanged,
        EventKind::OrderPlaced => Why::OrderPlaced,
        EventKind::Resync => Why::Resync,
    }
}

fn deadline_of(s: &sessions::Session) -> i64 {
    s.idle_expires_at.min(s.absolute_expires_at)
}

/// One open stream: which session it follows and what it waits for.
struct Follower {
    state: AppState,
    events: broadcast::Receiver<sessions::Event>,
    shutdown: watch::Receiver<bool>,
    session: SessionId,
    /// The session's user as last read (it changes when the session signs in).
    user: Option<i64>,
    /// When the session times out unless used (as last read).
    deadline: i64,
    first: bool,
    done: bool,
    _slot: Slot,
}

impl Follower {
    /// The next message, or `None` to end the stream.
    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        if self.done {
            return None;
        }
        let why = if std::mem::take(&mut self.first) {
            Why::Hello
        } else {
            self.wait().await?
        };
        match self.read(why).await {
            Ok((message, ended)) => {
                self.done = ended;
                Some((Ok(message), self))
            }
            Err(e) => {
                // The stream is this error's edge: it ends here, and the browser
                // reconnects.
                e.log_cause();
                None
            }
        }
    }

    /// Waits for something that concerns this session. `None`: end the stream.
    async fn wait(&mut self) -> Option<Why> {
        loop {
            let left = self.deadline - self.state.sessions.now();
            let nap = Duration::from_secs(left.clamp(1, 60) as u64);
            tokio::select! {
                received = self.events.recv() => match received {
                    Ok(e) if e.concerns(self.session, self.user) => return Some(why(e.kind)),
                    Ok(_) => continue,
                    // Fell behind: what was missed is unknown, so read the state again.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some(Why::Resync)
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep(nap) => {
                    if self.state.sessions.now() < self.deadline {
                        continue;
                    }
                    // Used meanwhile (the deadline moved), or timed out.
                    match self.state.sessions.live_by_id(self.session).await {
                        Ok(Some(s)) => self.deadline = deadline_of(&s),
                        Ok(None) => return Some(Why::Expired),
                        Err(e) => {
                            tracing::warn!(error = &e as &dyn std::error::Error, "event stream could not check its session");
                            return None;
                        }
                    }
                }
                _ = until_closed(&mut self.shutdown) => return None,
            }
        }
    }

    /// The session's state now, as a message; `true` if the session has ended.
    async fn read(&mut self, why: Why) -> Result<(SseEvent, bool), AppError> {
        let live = self.state.sessions.live_by_id(self.session).await?;
        let state = match live {
            Some(s) => {
                self.user = s.user_id;
                self.deadline = deadline_of(&s);
                let (user, owner) = match s.user_id {
                    Some(u) => (
                        self.state.names.get(&self.state.db, u).await?,
                        Owner::User(u),
                    ),
                    None => (None, Owner::Guest(s.id)),
                };
                LiveState {
                    user,
                    cart: cart_count(&self.state.db, owner).await?,
                    why,
                    ended: false,
                }
            }
            None => LiveState {
                user: None,
                cart: 0,
                why,
                ended: true,
            },
        };
        let message = SseEvent::default()
            .event(STATE_EVENT)
            .retry(RECONNECT)
            .json_data(&state)
            .map_err(|e| AppError::internal("could not encode a live state", e))?;
        Ok((message, state.ended))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_reaches_the_page_under_its_own_name() {
        for &kind in EventKind::ALL {
            let wire = serde_json::to_string(&why(kind)).unwrap();
            assert_eq!(wire, format!("\"{}\"", kind.name()), "{kind:?}");
        }
    }
}
