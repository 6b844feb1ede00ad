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
