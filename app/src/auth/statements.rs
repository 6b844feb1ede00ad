//! Statements that more than one flow runs (a leaf: it imports nothing of the crate).

/// Creates an account: `$1` name, `$2` password hash, `$3` now. No row comes back if
/// the name (ignoring case) is taken: the conflict is on the NOCASE column (SQLite) or
/// the unique index on `lower(username)` (PostgreSQL). Run by the demo seed
/// (`server::insert_user`) and by registration, in the transaction that also writes the
/// address's token and mail (`crate::email::server::create_account`).
pub const INSERT_USER: &str =
    "INSERT INTO users (username, password_hash, created_at, password_changed_at)
     VALUES ($1, $2, $3, $3)
     ON CONFLICT DO NOTHING
     RETURNING id";
