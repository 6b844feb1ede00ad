-- The security log of each account (sessions/src/events.rs), shown on /account and
-- listed by `POST /api/security_log`. Rows older than the retention (90 days) are
-- deleted by the collector. Refused sign-ins are counted per network and day in one
-- row (`bucket` = the day), never one row per guess; other kinds have no bucket.
CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 32),
    at         INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    count      INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    user_agent TEXT    NOT NULL DEFAULT '',
    network    TEXT    NOT NULL DEFAULT '',
    bucket     INTEGER
) STRICT;
CREATE INDEX security_events_user_at ON security_events (user_id, last_at DESC);
CREATE INDEX security_events_last_at ON security_events (last_at);
CREATE UNIQUE INDEX security_events_counted ON security_events (user_id, kind, network, bucket);
