use serde::{Deserialize, Serialize};

/// The address of the signed-in account, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountEmail {
    /// The verified address, if any: where mail goes.
    pub verified: Option<String>,
    /// An address waiting for its link to be opened.
    pub pending: Option<String>,
}

/// What the reset form may show: whose password the link in this session resets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetInfo {
    pub username: String,
}
