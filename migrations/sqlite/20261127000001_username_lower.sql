-- Name lookups are written `lower(username) = lower($1)`, one text for SQLite and
-- PostgreSQL (where the unique index is on lower(username)). This index lets SQLite
-- answer them without scanning; uniqueness stays with the NOCASE column.
CREATE INDEX users_username_lower ON users (lower(username));
