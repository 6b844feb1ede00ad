-- The token a session had before its last rotation (sign-in, password change, sudo
-- confirmation), and when it was replaced. A request still in flight with it when the
-- browser got the new one is anonymous like any stale token, but its answer must not
-- remove the cookie: that would remove the new one (sessions/src/middleware.rs).
ALTER TABLE sessions
    ADD COLUMN replaced_hash BYTEA CHECK (replaced_hash IS NULL OR length(replaced_hash) = 32),
    ADD COLUMN replaced_at BIGINT;
CREATE INDEX sessions_replaced_hash ON sessions (replaced_hash) WHERE replaced_hash IS NOT NULL;
