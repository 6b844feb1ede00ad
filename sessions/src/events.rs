//! Session events: what happened to a session or an account, for the pages a person has
//! open (the `/api/events` stream) and for the account's security log.
//!
//! An [`Event`] names its kind and the user and session it concerns, by internal id
//! only: it never leaves the server as such (the stream turns it into the receiving
//! session's new state). Events are published after the change commits:
//! - on PostgreSQL by `NOTIFY` on [`CHANNEL`], inside the change's transaction where the
//!   engine makes the change, so every process hears of it exactly when it commits (and
//!   only then); the process's listener (`crate::changes`) passes it on locally;
//! - on SQLite (one process) through the in-process broadcast directly.
//!
//! Either way the receivers are [`SessionStore::events`](crate::SessionStore::events).
//! Which kinds are kept in the account's security log is [`EventKind::is_logged`]; the
//! rows are written by the engine (`crate::log`) in the same transaction.

use crate::session::SessionId;

/// The PostgreSQL channel events are announced on.
pub const CHANNEL: &str = "shop_events";

/// Declares [`EventKind`] with each variant's name, and the list of all of them from the
/// same lines: a new kind cannot be left out of [`EventKind::ALL`] (which the listener
/// parses PostgreSQL payloads against).
macro_rules! event_kinds {
    ($($(#[doc = $doc:literal])* $kind:ident = $name:literal,)*) => {
        /// What happened.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($(#[doc = $doc])* $kind,)*
        }

        impl EventKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$kind,)*];

            /// The name used in payloads and in the security log's `kind` column.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventKind::$kind => $name,)*
                }
            }
        }
    };
}

event_kinds! {
    /// `session` signed in as `user` (a new device, or a guest session upgraded).
    SignedIn = "signed_in",
    /// `session` signed in as `user` with a passkey.
    SignedInWithPasskey = "signed_in_with_passkey",
    /// `session` (of `user`) signed out.
    SignedOut = "signed_out",
    /// `session` of `user` was ended from another of the user's sessions.
    Revoked = "revoked",
    /// Every session of `user` except `session` was ended ("sign out everywhere else").
    RevokedOthers = "revoked_others",
    /// `user`'s password was changed on `session`; every other session of theirs ended.
    PasswordChanged = "password_changed",
    /// `session` timed out (found expired and deleted).
    Expired = "expired",
    /// A sign-in as `user` was refused (wrong password or throttled). Counted in the
    /// log per network and day, not one row per guess.
    SignInRefused = "sign_in_refused",
    /// `user` added a passkey (on `session`).
    PasskeyAdded = "passkey_added",
    /// `user` removed a passkey (on `session`).
    PasskeyRemoved = "passkey_removed",
    /// A passkey of `user` was refused because its signature counter went backwards (a
    /// cloned authenticator, or a replay).
    PasskeyRefused = "passkey_refused",
    /// The cart of `session` (a guest) or of `user` changed.
    CartChanged = "cart_changed",
    /// `user` placed an order (on `session`).
    OrderPlaced = "order_placed",
    /// Events may have been lost (a listener reconnected, a receiver fell behind): every
    /// receiver should read the state again.
    Resync = "resync",
}

/// How a session signed in: the kind of its [`EventKind`] and security log row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignInBy {
    #[default]
    Password,
    Passkey,
}

impl SignInBy {
    /// The event a sign-in this way is.
    pub fn kind(self) -> EventKind {
        match self {
            SignInBy::Password => EventKind::SignedIn,
            SignInBy::Passkey => EventKind::SignedInWithPasskey,
        }
    }
}

impl EventKind {
    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<EventKind> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Whether events of this kind are kept in the account's security log.
    pub fn is_logged(self) -> bool {
        matches!(
            self,
            EventKind::SignedIn
                | EventKind::SignedInWithPasskey
                | EventKind::SignedOut
                | EventKind::Revoked
                | EventKind::RevokedOthers
                | EventKind::PasswordChanged
                | EventKind::SignInRefused
                | EventKind::PasskeyAdded
                | EventKind::PasskeyRemoved
                | EventKind::PasskeyRefused
        )
    }
}

/// One event. Ids only: never a token, hash or anything a receiver may not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub user: Option<i64>,
    pub session: Option<SessionId>,
}

impl Event {
    pub fn new(kind: EventKind, user: Option<i64>, session: Option<SessionId>) -> Self {
        Event {
            kind,
            user,
            session,
        }
    }

    /// The cart of this owner changed: a guest session's (`user` None) or a user's.
    pub fn cart_changed(user: Option<i64>, session: Option<SessionId>) -> Self {
        Event::new(EventKind::CartChanged, user, session)
    }

    /// Whether a page open on `session`, signed in as `user` (if so), must hear of it.
    ///
    /// The session that ended the others (or changed the password) is not told: the tab
    /// that did it has its answer, and that answer gave the session a new token. A page
    /// reacting to the event could still be sending the old one, whose refusal (the
    /// cookie cleared) might reach the browser after the new cookie and undo it.
    pub fn concerns(&self, session: SessionId, user: Option<i64>) -> bool {
        let this_session = self.session == Some(session);
        let this_user = user.is_some() && self.user == user;
        match self.kind {
            EventKind::SignedIn
            | EventKind::SignedInWithPasskey
            | EventKind::SignedOut
            | EventKind::Revoked
            | EventKind::Expired => this_session,
            EventKind::RevokedOthers | EventKind::PasswordChanged => this_user && !this_session,
            EventKind::SignInRefused
            | EventKind::OrderPlaced
            | EventKind::PasskeyAdded
            | EventKind::PasskeyRemoved
            | EventKind::PasskeyRefused => this_user,
            EventKind::CartChanged => this_user || (self.user.is_none() && this_session),
            EventKind::Resync => true,
        }
    }

    /// The notification payload: `<kind>:<user>:<session>`, `-` for none.
    pub fn payload(&self) -> String {
        let id = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        format!(
            "{}:{}:{}",
            self.kind.name(),
            id(self.user),
            id(self.session.map(|s| s.0))
        )
    }

    /// Reads a payload; `None` if it is not one of ours.
    pub fn parse(payload: &str) -> Option<Event> {
        let mut parts = payload.split(':');
        let kind = EventKind::from_name(parts.next()?)?;
        let id = |s: &str| -> Option<Option<i64>> {
            if s == "-" {
                Some(None)
            } else {
                s.parse().ok().map(Some)
            }
        };
        let user = id(parts.next()?)?;
        let session = id(parts.next()?)?.map(SessionId);
        if parts.next().is_some() {
            return None;
        }
        Some(Event::new(kind, user, session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_junk_is_refused() {
        for &kind in EventKind::ALL {
            for (user, session) in [(None, None), (Some(7), None), (Some(7), Some(9))] {
                let e = Event::new(kind, user, session.map(SessionId));
                assert_eq!(Event::parse(&e.payload()), Some(e));
            }
        }
        let names: std::collections::HashSet<_> = EventKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), EventKind::ALL.len(), "two kinds share a name");
        for junk in [
            "",
            "signed_in",
            "signed_in:1",
            "nope:1:2",
            "signed_in:x:2",
            "signed_in:1:2:3",
            "s:1",
        ] {
            assert_eq!(Event::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn events_reach_only_the_pages_they_concern() {
        let (s, other) = (SessionId(1), SessionId(2));
        let alice = Some(10);
        let ev = |kind, user, session| Event::new(kind, user, session);
        // Another session signing in or out is nobody else's business.
        assert!(ev(EventKind::SignedOut, alice, Some(s)).concerns(s, alice));
        assert!(!ev(EventKind::SignedOut, alice, Some(other)).concerns(s, alice));
        assert!(!ev(EventKind::SignedIn, alice, Some(other)).concerns(s, alice));
        // Account-wide changes reach every session of the user, and no one else's.
        assert!(ev(EventKind::PasswordChanged, alice, Some(other)).concerns(s, alice));
        assert!(!ev(EventKind::PasswordChanged, alice, Some(s)).concerns(s, alice));
        assert!(!ev(EventKind::RevokedOthers, alice, Some(s)).concerns(s, alice));
        assert!(!ev(EventKind::PasswordChanged, Some(11), Some(other)).concerns(s, alice));
        assert!(!ev(EventKind::RevokedOthers, alice, Some(other)).concerns(s, None));
        // A user's cart is on every device; a guest's only in its session.
        assert!(Event::cart_changed(alice, Some(other)).concerns(s, alice));
        assert!(Event::cart_changed(None, Some(s)).concerns(s, None));
        assert!(!Event::cart_changed(None, Some(other)).concerns(s, None));
        assert!(!Event::cart_changed(alice, Some(other)).concerns(s, None));
        assert!(ev(EventKind::Resync, None, None).concerns(s, None));
    }
}
