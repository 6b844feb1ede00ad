//! Server-side sessions for axum on SQLite or PostgreSQL (through the `db` crate),
//! independent of any UI framework.
//!
//! Where things happen, one hop each:
//! - a session is **created** in [`SessionHandle::ensure`] (guest) or
//!   [`SessionHandle::login`], via [`SessionStore::create`];
//! - it is **checked** once per request in [`session_middleware`] via [`SessionStore::load`]
//!   (strict: unknown, expired, malformed or duplicate cookies are anonymous and cleared),
//!   from memory when [`cache`] holds a current copy;
//! - it is **rotated** in [`SessionHandle::login`] / [`SessionHandle::rotate`];
//! - it is **destroyed** in [`SessionHandle::logout`], [`SessionStore::delete_user_sessions`]
//!   and by the collector [`spawn_gc`].
//!
//! The browser only ever holds a random 256-bit token; the database only its SHA-256.

// The engine's layers, leaf first: what a session is; the SQL layer; the cache in front
// of it; expiry; the announcer; the one write protocol; the store composing them.
mod announce;
pub mod cache;
pub mod change;
mod error;
pub mod events;
mod expiry;
pub mod session;
mod sql;
pub mod store;
mod write;
// Around it: the listener keeping each process's cache and receivers current, the
// collector, and the axum side (client address, CSRF, the middleware and the handle).
pub mod client;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod gc;
pub mod handle;
pub mod listener;
pub mod middleware;
pub mod token;

pub use change::Change;
pub use client::{client_addr_middleware, ClientAddr, ForwardedHeader, TrustedProxies};
pub use clock::{Clock, FakeClock, SystemClock};
pub use config::SessionConfig;
pub use csrf::reject_cross_site;
pub use error::StoreError;
pub use events::{Event, EventKind};
pub use gc::{spawn_gc, Gc};
pub use handle::SessionHandle;
pub use listener::spawn_listener;
pub use middleware::session_middleware;
pub use session::{coarse_ip, truncate, ClientMeta, Lookup, Session, SessionId};
pub use store::SessionStore;
pub use token::{SessionToken, TokenHash};
