-- Mail: the same tables and rules as migrations/sqlite (read there why each exists).

ALTER TABLE users ADD COLUMN email TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254);
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE account_tokens (
    token_hash BYTEA  PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT   NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email      TEXT   CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    session_id BIGINT REFERENCES sessions (id) ON DELETE SET NULL,
    UNIQUE (user_id, purpose)
);
CREATE INDEX account_tokens_session ON account_tokens (session_id);
CREATE INDEX account_tokens_expires_at ON account_tokens (expires_at);

CREATE FUNCTION users_password_ends_resets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM account_tokens WHERE user_id = NEW.id AND purpose = 'reset';
    RETURN NULL;
END $$;
CREATE TRIGGER users_password_ends_resets AFTER UPDATE OF password_hash ON users
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION users_password_ends_resets();

CREATE TABLE known_devices (
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash   BYTEA  NOT NULL CHECK (length(device_hash) = 32),
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);
CREATE INDEX known_devices_last_seen ON known_devices (last_seen_at);

CREATE TABLE outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT   NOT NULL CHECK (kind IN ('verify', 'address_taken', 'address_change', 'reset', 'password_changed', 'new_sign_in')),
    user_id       BIGINT REFERENCES users (id) ON DELETE CASCADE,
    recipient     TEXT   NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    username      TEXT   NOT NULL DEFAULT '',
    token         TEXT   NOT NULL DEFAULT '',
    address       TEXT   NOT NULL DEFAULT '',
    user_agent    TEXT   NOT NULL DEFAULT '',
    network       TEXT   NOT NULL DEFAULT '',
    happened_at   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    status        TEXT   NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    sent_at       BIGINT,
    last_error    TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE status = 'queued';
CREATE INDEX outbox_created_at ON outbox (created_at);

CREATE FUNCTION password_changed_mail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (kind, user_id, recipient, username, user_agent, network, happened_at, created_at, next_at)
    SELECT 'password_changed', id, email, username, NEW.user_agent, NEW.network, NEW.at, NEW.at, NEW.at
      FROM users WHERE id = NEW.user_id AND email IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER password_changed_mail AFTER INSERT ON security_events
    FOR EACH ROW WHEN (NEW.kind = 'password_changed')
    EXECUTE FUNCTION password_changed_mail();
