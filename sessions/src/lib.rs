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

pub mod cache;
pub mod changes;
pub mod client;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod events;
pub mod gc;
pub mod handle;
pub mod middleware;
pub mod store;
pub mod token;

pub use changes::{spawn_listener, Change};
pub use client::{client_addr_middleware, ClientAddr, ForwardedHeader, TrustedProxies};
pub use clock::{Clock, FakeClock, SystemClock};
pub use config::SessionConfig;
pub use csrf::reject_cross_site;
pub use events::{Event, EventKind, LogEntry};
pub use gc::{spawn_gc, Gc};
pub use handle::SessionHandle;
pub use middleware::session_middleware;
pub use store::{coarse_ip, ClientMeta, Lookup, Session, SessionId, SessionStore, StoreError};
pub use token::{SessionToken, TokenHash};
