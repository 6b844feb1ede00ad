//! An address per account, the links mailed to it, and the forgotten password:
//! client-visible types and server functions in `api`, storage and flows in `server`,
//! the two link routes (`/verify/<token>`, `/reset/<token>`) in `links` (ssr only).

mod api;
#[cfg(feature = "ssr")]
pub mod links;
mod model;
#[cfg(feature = "ssr")]
pub mod server;

pub use api::*;
pub use model::*;
