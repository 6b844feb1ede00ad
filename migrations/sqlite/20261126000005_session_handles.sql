-- An opaque public name for each session, so the account page can list and end
-- sessions without ever showing a token, its hash or the internal row id. Random, and
-- unrelated to the token (it survives token rotation).
ALTER TABLE sessions ADD COLUMN handle TEXT;
UPDATE sessions SET handle = lower(hex(randomblob(16))) WHERE handle IS NULL;
CREATE UNIQUE INDEX sessions_handle ON sessions (handle);
