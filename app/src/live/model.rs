use serde::{Deserialize, Serialize};

/// Where the stream is served.
pub const EVENTS_PATH: &str = "/api/events";

/// The name of the server-sent event that carries a [`LiveState`].
pub const STATE_EVENT: &str = "state";

/// This session's state, as the stream sends it: first when it opens (so a reconnect
/// catches up on what it missed), then after every event that concerns the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    /// The signed-in user's name; `None` for a guest, or once the session has ended.
    pub user: Option<String>,
    /// Items in the cart.
    pub cart: i64,
    /// What happened (`sessions::EventKind::name`), or `"hello"` for the opening state.
    pub why: String,
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
        Some(match self.why.as_str() {
            "signed_out" => "You signed out in another tab.",
            "revoked" | "revoked_others" => "You were signed out on another device.",
            "password_changed" => {
                "Your password was changed on another device. Please sign in again."
            }
            "expired" => "Your session has expired. Please sign in again.",
            _ => "You have been signed out.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(why: &str, ended: bool) -> LiveState {
        LiveState {
            user: None,
            cart: 0,
            why: why.into(),
            ended,
        }
    }

    #[test]
    fn only_an_ended_session_gets_a_notice() {
        assert_eq!(state("cart_changed", false).notice(), None);
        assert_eq!(state("hello", false).notice(), None);
        assert_eq!(
            state("revoked_others", true).notice(),
            Some("You were signed out on another device.")
        );
        assert!(state("password_changed", true)
            .notice()
            .unwrap()
            .contains("password was changed"));
    }
}
