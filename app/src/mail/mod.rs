//! Mail (ssr only): what the shop sends, kept in an outbox and sent by a worker.
//!
//! - [`outbox`]: a mail is a row written in the same transaction as the token or the
//!   event it tells of ([`outbox::OutboxTx::queue`]); a request never waits for SMTP,
//!   and a crash loses nothing that was committed.
//! - [`worker`]: claims due rows, renders and sends them with an overall time limit,
//!   retries transient failures with a growing back-off, gives up on permanent ones,
//!   and empties the row's secret once it is sent. Several processes on PostgreSQL share
//!   the outbox (`FOR UPDATE SKIP LOCKED` and a claim that lasts while a mail is sent).
//! - [`transport`]: SMTP (`MAIL_URL`) or, for a newcomer, `.eml` files in a directory.
//! - [`render`]: each kind's words. Plain ASCII text: a link never breaks across lines.

pub mod outbox;
pub mod render;
pub mod transport;
pub mod worker;

pub use outbox::{Letter, MailKind, Outbox, OutboxTx};
pub use transport::{MailSettings, Transport};
