use serde::{Deserialize, Serialize};

/// One of the signed-in user's passkeys, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    /// When it was added, for people (UTC).
    pub added: String,
    /// When it was last used to sign in or confirm, for people; `None` if never.
    pub last_used: Option<String>,
    /// Synced to other devices (a password manager, a cloud keychain) rather than bound
    /// to the one it was made on: the authenticator's backup state.
    pub synced: bool,
}
