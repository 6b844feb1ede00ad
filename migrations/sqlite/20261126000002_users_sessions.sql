-- Accounts. Usernames are unique without regard to case ("Alice" is "alice").
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(username) BETWEEN 3 AND 32),
    password_hash       TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
) STRICT;

-- Server-side sessions. The browser holds a random token; only its SHA-256 is stored.
-- AUTOINCREMENT: a deleted session's id is never handed out again, so a request still
-- holding an old id can never touch a newer session's data.
CREATE TABLE sessions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash          BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id             INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    authenticated_at    INTEGER,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    persistent          INTEGER NOT NULL DEFAULT 0 CHECK (persistent IN (0, 1)),
    user_agent          TEXT    NOT NULL DEFAULT '',
    ip                  TEXT    NOT NULL DEFAULT '',
    CHECK (idle_expires_at <= absolute_expires_at)
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
CREATE INDEX sessions_absolute_expires_at ON sessions (absolute_expires_at);
