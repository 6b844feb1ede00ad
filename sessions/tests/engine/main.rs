//! The session engine's integration tests, against a real database file (one test binary
//! for the crate, so it links once).

mod gc;
mod revocation;
