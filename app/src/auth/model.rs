//! Who is signed in, as the browser may know it.
//! Shared by the browser and the server: no SQL, no server functions here.

use serde::{Deserialize, Serialize};

/// Who is signed in, as the browser may know it (no id, no hash, no token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub username: String,
}
