mod header;
mod not_found;

pub use header::Header;
pub use not_found::NotFound;
