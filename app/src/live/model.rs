use serde::{Deserialize, Serialize};

/// Where the stream is served.
pub const EVENTS_PATH: &str = "/api/events";

/// The name of the server-sent event that carries a [`LiveState`].
pub const STATE_EVENT: &str = "state";

/// Why the stream sent a state: the opening state, or the kind of the server's event
/// (`sessions::EventKind`, whose every kind maps to one of these: `live::server` matches
/// them exhaustively, and a test checks the names agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The state as the stream opened (or reopened).
    Hello,
    SignedIn,
    SignedOut,
    Revoked,
    RevokedOthers,
    PasswordChanged,
    Expired,
    SignInRefused,
    SignedInWithPasskey,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeyRefused,
    CartChanged,
    OrderPlaced,
    Resync,
}

/// This session's state, as the stream sends it: first when it opens (so a reconnect
/// catches up on what it missed), then after every event that concerns the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    /// The signed-in user's name; `None` for a guest, or once the session has ended.
    pub user: Option<String>,
    /// Items in the cart.
    pub cart: i64,
    /// What happened.
    pub why: Why,
    /// The session has ended: the stream closes after this message.
    pub ended: bool,
}

impl LiveState {
    /// What to tell the person when their session ended for this reason, if anything.
    /// (A sign-out in this very tab tells them nothing: they know.)
    pub fn notice(&self) -> Option<&'static str> {
        if !self.ended {
            return None;
        }
        Some(match self.why {
            Why::SignedOut => "You signed out in another tab.",
            Why::Revoked | Why::RevokedOthers => "You were signed out on another device.",
            Why::PasswordChanged => {
                "Your password was changed on another device. Please sign in again."
            }
            Why::Expired => "Your session has expired. Please sign in again.",
            Why::Hello
            | Why::SignedIn
            | Why::SignInRefused
            | Why::SignedInWithPasskey
            | Why::PasskeyAdded
            | Why::PasskeyRemoved
            | Why::PasskeyRefused
            | Why::CartChanged
            | Why::OrderPlaced
            | Why::Resync => "You have been signed out.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(why: Why, ended: bool) -> LiveState {
        LiveState {
            user: None,
            cart: 0,
            why,
            ended,
        }
    }

    #[test]
    fn only_an_ended_session_gets_a_notice() {
        assert_eq!(state(Why::CartChanged, false).notice(), None);
        assert_eq!(state(Why::Hello, false).notice(), None);
        assert_eq!(
            state(Why::RevokedOthers, true).notice(),
            Some("You were signed out on another device.")
        );
        assert!(state(Why::PasswordChanged, true)
            .notice()
            .unwrap()
            .contains("password was changed"));
    }

    #[test]
    fn reasons_travel_as_snake_case_names() {
        let json = serde_json::to_string(&state(Why::RevokedOthers, true)).unwrap();
        assert!(json.contains(r#""why":"revoked_others""#), "{json}");
        let back: LiveState = serde_json::from_str(&json).unwrap();
        assert_eq!(back.why, Why::RevokedOthers);
    }
}
