//! The HTTP-level tests of the shop: the real router on a random port (or the real binary,
//! in `crash`), a fresh database per test, a fake clock and real HTTP clients
//! (`common`). One test binary rather than one per file: each of those linked the whole
//! server again, about 78 MB and a link each (docs/PERFORMANCE.md, "The first run").

mod authenticator;
mod common;

mod account;
mod assets;
mod cart;
mod catalog;
mod crash;
mod errors;
mod events;
mod hostile;
mod import;
mod mail;
mod operations;
mod orders;
mod passkeys;
mod scaleout;
mod security;
mod session_rules;
mod shelves;
mod sudo;
