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
    /// What happened: `signed_in`, `signed_out`, `revoked`, `revoked_others`,
    /// `password_changed` or `sign_in_refused`.
    pub kind: String,
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
