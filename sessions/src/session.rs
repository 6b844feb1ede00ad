//! What a session is: the row as the rest of the code sees it. A leaf module: every other
//! part of the engine points here, and this points nowhere.

/// The internal row id of a session. Never leaves the server (it is not `Serialize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct SessionId(pub i64);

/// A live session as stored (never includes the token or its hash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub id: SessionId,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub authenticated_at: Option<i64>,
    /// When the session last proved who it is: its sign-in, the current password at a
    /// password change, or a confirmation for sudo mode ([`crate::SessionStore::prove`]).
    pub proved_at: Option<i64>,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    /// "Keep me signed in": longer timeouts and a cookie with `Max-Age`.
    pub persistent: bool,
    pub user_agent: String,
    /// Coarse client address (see [`coarse_ip`]).
    pub ip: String,
    /// The session's public name (32 hex digits, random): what the account page uses to
    /// end one session. Not the token, not derived from it.
    pub handle: String,
}

impl Session {
    /// Whether the session has passed its idle or absolute deadline at `now`.
    pub fn is_expired_at(&self, now: i64) -> bool {
        now >= self.idle_expires_at || now >= self.absolute_expires_at
    }
}

/// What the client told us about itself when the session was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientMeta {
    pub user_agent: String,
    pub ip: String,
}

/// The outcome of looking a token up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Live(Session),
    /// No row has this token (never issued, rotated away, logged out, or collected).
    Unknown,
    /// No row has this token, because its session was given a newer one moments ago (a
    /// sign-in, a password change, a sudo confirmation). No session either: rotation
    /// exists so that the old token opens nothing. But the browser that sent it was
    /// answered with the newer one, maybe before this request's answer arrives, so that
    /// answer must not remove the cookie: it would remove the newer token.
    Replaced,
    /// The row existed but had timed out; it has now been deleted.
    Expired,
}

/// Whether `handle` can name a session at all: 32 lowercase hex digits. Anything else
/// names none and never reaches the database (PostgreSQL refuses text with NUL bytes,
/// for one).
pub(crate) fn is_handle(handle: &str) -> bool {
    handle.len() == 32
        && handle
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The address coarsened for storage and display: IPv4 to its /24 (`203.0.113.x`),
/// IPv6 to its /48. Enough to recognise "my home" or "my office", not a person.
pub fn coarse_ip(addr: std::net::IpAddr) -> String {
    match addr {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.x")
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return coarse_ip(std::net::IpAddr::V4(v4));
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn ips_are_coarsened() {
        assert_eq!(coarse_ip("203.0.113.77".parse().unwrap()), "203.0.113.x");
        assert_eq!(
            coarse_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
        assert_eq!(coarse_ip("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.x");
    }

    #[test]
    fn only_hex_handles_name_sessions() {
        assert!(is_handle(&"a1".repeat(16)));
        for bad in ["", "A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1", "zz", "a\0"] {
            assert!(!is_handle(bad), "{bad:?}");
        }
    }
}
