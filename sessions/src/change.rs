//! Announcing session changes to every server process, so each can drop its in-memory
//! copies at once (see [`crate::cache`]).
//!
//! A change that ends, rotates or re-authenticates a session, or ends all of a user's
//! sessions, is announced with ids only (never a token or hash):
//! - on PostgreSQL with `NOTIFY` on [`CHANNEL`] inside the transaction that makes the
//!   change, so it is delivered exactly when (and only if) the change commits, to every
//!   process listening on that database;
//! - on every backend through an in-process broadcast after the commit
//!   ([`SessionStore::subscribe`](crate::SessionStore::subscribe)); on SQLite (one
//!   process) that is how the listener hears of changes, so the code path is one.
//!
//! Both are done by the one write protocol (`crate::write`); each process's listener
//! (`crate::listener`) applies what it hears.

use crate::session::SessionId;

/// The PostgreSQL channel session changes are announced on.
pub const CHANNEL: &str = "shop_sessions";

/// A change other processes must hear of. Carries ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// One session ended, or got a new token, or signed in.
    Session(SessionId),
    /// Every session of this user may have changed (password change, "sign out
    /// everywhere else").
    User(i64),
    /// Expired sessions were collected.
    Expired,
}

impl Change {
    /// The notification payload: `s:<id>`, `u:<id>` or `expired`.
    pub fn payload(&self) -> String {
        match self {
            Change::Session(id) => format!("s:{}", id.0),
            Change::User(id) => format!("u:{id}"),
            Change::Expired => "expired".to_string(),
        }
    }

    /// Reads a payload; `None` if it is not one of ours.
    pub fn parse(payload: &str) -> Option<Change> {
        if payload == "expired" {
            return Some(Change::Expired);
        }
        let (kind, id) = payload.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "s" => Some(Change::Session(SessionId(id))),
            "u" => Some(Change::User(id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_junk_is_refused() {
        for c in [
            Change::Session(SessionId(42)),
            Change::User(7),
            Change::Expired,
        ] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        for junk in ["", "s:", "s:x", "q:1", "u:1:2", "expired!"] {
            assert_eq!(Change::parse(junk), None, "{junk}");
        }
    }
}
