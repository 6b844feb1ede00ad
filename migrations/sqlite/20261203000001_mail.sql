-- Mail: an address per account, the tokens mailed to it, the browsers that signed in,
-- and the outbox the mail worker sends from (app/src/mail).

-- The account's address, once verified (NULL until then). Stored in lower case, so the
-- unique index makes it unique without regard to case. An address waiting for its
-- verification link lives in that link's token row below, not here.
ALTER TABLE users ADD COLUMN email TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254);
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
CREATE UNIQUE INDEX users_email ON users (email);

-- Tokens sent by mail, by the rules of session tokens: 32 bytes from the CSPRNG in the
-- link, only their SHA-256 here, single use, a short life. One live token per account
-- and purpose (a new one replaces the old). A reset token dies with any change of the
-- password (the trigger below). `session_id`: the session a reset link was opened in
-- (the token moves there from the URL); the link's latest opener holds it.
CREATE TABLE account_tokens (
    token_hash BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email      TEXT    CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    UNIQUE (user_id, purpose)
) STRICT;
CREATE INDEX account_tokens_session ON account_tokens (session_id);
CREATE INDEX account_tokens_expires_at ON account_tokens (expires_at);

CREATE TRIGGER users_password_ends_resets AFTER UPDATE OF password_hash ON users
WHEN OLD.password_hash IS NOT NEW.password_hash
BEGIN
    DELETE FROM account_tokens WHERE user_id = NEW.id AND purpose = 'reset';
END;

-- Browsers that signed in to an account: the SHA-256 of their long-lived device cookie.
-- A sign-in from one not listed mails the owner.
CREATE TABLE known_devices (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash   BLOB    NOT NULL CHECK (length(device_hash) = 32),
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_hash)
) STRICT;
CREATE INDEX known_devices_last_seen ON known_devices (last_seen_at);

-- Mail waiting to be sent, written in the transaction that makes its token or event.
-- The worker renders it from these fields when it sends (app/src/mail/render.rs):
-- `token` is a link's secret (a verification or reset), `address` a new address, and
-- `user_agent`, `network`, `happened_at` the device, network and time of a sign-in or
-- password change. Once sent (or given up), `token` and `address` are emptied: the
-- stored mail no longer holds a secret. Claimed by a worker until `claimed_until`
-- (another process's worker leaves it alone; after a crash it is sent again).
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('verify', 'address_taken', 'address_change', 'reset', 'password_changed', 'new_sign_in')),
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    recipient     TEXT    NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    username      TEXT    NOT NULL DEFAULT '',
    token         TEXT    NOT NULL DEFAULT '',
    address       TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    network       TEXT    NOT NULL DEFAULT '',
    happened_at   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    sent_at       INTEGER,
    last_error    TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox (next_at) WHERE status = 'queued';
CREATE INDEX outbox_created_at ON outbox (created_at);

-- Every password change, by any path, mails the account's address: queued by the
-- security log row the change writes, in its transaction.
CREATE TRIGGER password_changed_mail AFTER INSERT ON security_events
WHEN NEW.kind = 'password_changed'
BEGIN
    INSERT INTO outbox (kind, user_id, recipient, username, user_agent, network, happened_at, created_at, next_at)
    SELECT 'password_changed', id, email, username, NEW.user_agent, NEW.network, NEW.at, NEW.at, NEW.at
      FROM users WHERE id = NEW.user_id AND email IS NOT NULL;
END;
