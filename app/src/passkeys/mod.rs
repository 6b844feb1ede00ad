//! Passkeys (WebAuthn): a way in without a password, and a proof of identity for sudo
//! mode. Types and server functions in `api`, the relying party, ceremonies and stored
//! credentials in `server` (ssr only), the browser's side in `client` (hydrate only; its
//! code is a lazy chunk, loaded when a passkey control is first used).

mod api;
#[cfg(feature = "hydrate")]
pub mod client;
mod model;
#[cfg(feature = "ssr")]
pub mod relying_party;
#[cfg(feature = "ssr")]
pub mod server;

pub use api::*;
pub use model::*;
