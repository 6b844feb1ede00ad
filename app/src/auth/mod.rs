//! Accounts and sign-in: client-visible types and server functions in `api`, parsing in
//! `validate`, storage and flows in `server` (ssr only), hashing in `password` (ssr only),
//! the name cache in `names` (ssr only).

mod api;
#[cfg(feature = "ssr")]
pub mod devices;
mod model;
#[cfg(feature = "ssr")]
pub mod names;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod statements;
#[cfg(feature = "ssr")]
pub mod throttle;
pub mod validate;

pub use api::*;
pub use model::*;
