-- Passkeys (WebAuthn). `webauthn_handle` is the random user handle (a UUID) an account's
-- authenticators keep: a sign-in without a username names the account by it, never by
-- its id or name. Given at the first passkey.
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_webauthn_handle ON users (webauthn_handle);

CREATE TABLE passkeys (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BYTEA   NOT NULL UNIQUE,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    -- webauthn-rs' Passkey as JSON: the public key, the signature counter, the flags.
    credential    TEXT    NOT NULL,
    -- The backup state: synced to other devices (a password manager, a cloud keychain)
    -- or bound to this one.
    synced        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- A WebAuthn ceremony under way: its challenge and state, bound to the session that
-- began it, used once, dead after `expires_at`. One per session and purpose (a newer
-- one replaces it; the username field's autofill waits beside a sign-in button's);
-- gone with the session.
CREATE TABLE passkey_ceremonies (
    session_id BIGINT  NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('register', 'sign_in', 'autofill', 'confirm')),
    state      TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (session_id, purpose)
);
