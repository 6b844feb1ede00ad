//! Billing and orders: the billing form and its validation (shared with the client),
//! server functions in `api`, SQL in `server` (ssr only).

mod api;
mod model;
#[cfg(feature = "ssr")]
pub mod server;
pub mod validate;

pub use api::*;
pub use model::*;
pub use validate::{BillingAddress, BillingForm, COUNTRIES};
