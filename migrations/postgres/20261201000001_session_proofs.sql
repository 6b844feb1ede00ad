-- When the session last proved who it is (a sign-in, the current password at a password
-- change, or a confirmation for sudo mode). Sensitive actions need a recent one. A
-- session signed in before this column existed proved it at its sign-in.
ALTER TABLE sessions ADD COLUMN proved_at BIGINT;
UPDATE sessions SET proved_at = authenticated_at;
