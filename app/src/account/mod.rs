//! The account page's data: the user's sessions (list, end one, end the others) and the
//! password change, and the security log.

mod api;
pub mod device;
#[cfg(feature = "ssr")]
pub mod log;
mod model;

pub use api::*;
pub use model::*;
