//! Server-side sessions for axum on SQLite or PostgreSQL (through the `db` crate),
//! independent of any UI framework.
//!
//! Where things happen, one hop each (every write through the one protocol in `write`):
//! - a session is **created** in [`SessionHandle::ensure`] (a guest) or
//!   [`SessionHandle::login`] (signed in from the start, or replacing another user's
//!   session), via [`SessionStore::create`];
//! - it is **checked** once per request in [`session_middleware`] via [`SessionStore::load`]
//!   (strict: unknown, expired, malformed or duplicate cookies are anonymous and cleared),
//!   from memory when [`cache`] holds a current copy, and slid forward by
//!   [`SessionStore::touch`]; the event stream re-checks its session in the database with
//!   [`SessionStore::live_by_id`];
//! - it is **rotated** (new token, same row) at sign-in in [`SessionHandle::login`] via
//!   [`SessionStore::authenticate`], at a password change in
//!   [`SessionHandle::change_password`] via [`SessionStore::change_password`], and by
//!   [`SessionStore::rotate`];
//! - it is **destroyed** at sign-out in [`SessionHandle::logout`] (and in `login`, for a
//!   session of another user) via [`SessionStore::delete`]; from another of the user's
//!   sessions in [`SessionHandle::end_session`] via [`SessionStore::delete_by_handle`];
//!   with all the user's others in [`SessionHandle::end_other_sessions`] via
//!   [`SessionStore::delete_user_sessions`] and in [`SessionStore::change_password`];
//!   on sight when [`SessionStore::load`] finds it expired; and by the collector
//!   [`spawn_gc`] via [`SessionStore::delete_expired`].
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
pub use events::{Event, EventKind, SignInBy};
pub use gc::{spawn_gc, Gc};
pub use handle::SessionHandle;
pub use listener::spawn_listener;
pub use middleware::{cookie_values, session_middleware};
pub use session::{coarse_ip, truncate, ClientMeta, Lookup, Session, SessionId};
pub use store::SessionStore;
pub use token::{SessionToken, TokenHash};
