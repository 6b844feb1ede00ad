//! The product catalog: client-visible types and server functions in `api`,
//! database queries in `server` (ssr only).

mod api;
mod model;
#[cfg(feature = "ssr")]
pub mod server;
mod shown;
mod suggest;

pub use api::*;
pub use model::*;
pub use shown::*;
pub use suggest::*;
