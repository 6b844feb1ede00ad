-- Sign-in and registration throttling (app/src/auth/throttle.rs), in the database so
-- that every server process on it counts the same failures. Rows are pruned by the
-- collector once they are quiet.
CREATE TABLE throttle_failures (
    key           TEXT    PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 128),
    count         INTEGER NOT NULL CHECK (count >= 0),
    last_at       INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL
) STRICT;
CREATE INDEX throttle_failures_last_at ON throttle_failures (last_at);

-- Counts per fixed window: registrations per network per hour (`register:<network>`),
-- new guest sessions per network (`guest:<network>`).
CREATE TABLE throttle_windows (
    key        TEXT    PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 128),
    count      INTEGER NOT NULL CHECK (count >= 0),
    started_at INTEGER NOT NULL
) STRICT;
CREATE INDEX throttle_windows_started_at ON throttle_windows (started_at);
