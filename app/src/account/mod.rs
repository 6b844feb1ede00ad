//! The account page's data: the user's sessions (list, end one, end the others) and the
//! password change.

mod api;
pub mod device;
mod model;

pub use api::*;
pub use model::*;
