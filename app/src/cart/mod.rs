//! The cart: client-visible types and server functions in `api`, the shared client
//! state (badge, actions) in `state`, SQL in `server` (ssr only).

mod api;
mod model;
#[cfg(feature = "ssr")]
pub mod server;
mod state;

pub use api::*;
pub use model::*;
pub use state::{use_cart, CartState};
