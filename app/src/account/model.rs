//! The account page's client-visible types.
//! Shared by the browser and the server: no SQL, no server functions here.

use serde::{Deserialize, Serialize};

/// One of the signed-in user's sessions, as the account page shows it. Holds the public
/// handle, never the token, its hash or the row id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub handle: String,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    pub current: bool,
    pub remembered: bool,
}

/// One row of the account's security log, as its owner sees it (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEntry {
    /// What happened.
    pub kind: LogKind,
    /// The same in words: "Signed in on Firefox on Linux", "3 refused sign-ins from
    /// 203.0.113.x".
    pub text: String,
    /// The device, described ("Firefox on Linux"); empty for refused sign-ins.
    pub device: String,
    /// The coarse network (`203.0.113.x`, or an IPv6 /48).
    pub network: String,
    /// When it last happened, in words (UTC).
    pub when: String,
    /// When it last happened, unix seconds.
    pub at: i64,
    /// How many times (more than 1 only for refused sign-ins).
    pub count: i64,
}

/// The kinds of event the security log keeps (`sessions::EventKind::is_logged`; the
/// server maps every event kind exhaustively, and a test checks the two agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    SignedIn,
    SignedOut,
    Revoked,
    RevokedOthers,
    PasswordChanged,
    SignInRefused,
    SignedInWithPasskey,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeyRefused,
}

impl LogKind {
    /// The name on the wire and in the page's `data-kind`.
    pub fn name(self) -> &'static str {
        match self {
            LogKind::SignedIn => "signed_in",
            LogKind::SignedOut => "signed_out",
            LogKind::Revoked => "revoked",
            LogKind::RevokedOthers => "revoked_others",
            LogKind::PasswordChanged => "password_changed",
            LogKind::SignInRefused => "sign_in_refused",
            LogKind::SignedInWithPasskey => "signed_in_with_passkey",
            LogKind::PasskeyAdded => "passkey_added",
            LogKind::PasskeyRemoved => "passkey_removed",
            LogKind::PasskeyRefused => "passkey_refused",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_kinds_travel_by_their_names() {
        for kind in [
            LogKind::SignedIn,
            LogKind::SignedOut,
            LogKind::Revoked,
            LogKind::RevokedOthers,
            LogKind::PasswordChanged,
            LogKind::SignInRefused,
            LogKind::SignedInWithPasskey,
            LogKind::PasskeyAdded,
            LogKind::PasskeyRemoved,
            LogKind::PasskeyRefused,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<LogKind>(&json).unwrap(), kind);
        }
    }
}
