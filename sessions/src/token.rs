//! Session tokens: 32 bytes from the OS CSPRNG, base64url in the cookie, SHA-256 in the
//! database. A database leak therefore reveals no usable token, and lookups by hash make
//! timing attacks on token comparison moot (the attacker cannot choose the hash prefix).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Raw token length in bytes (256 bits of entropy).
pub const TOKEN_BYTES: usize = 32;
/// Length of the base64url (unpadded) text form.
pub const TOKEN_CHARS: usize = 43;

/// The secret the browser holds. Deliberately not `Serialize`, not `Display`, and its
/// `Debug` is redacted, so it cannot slip into a log line or an API response.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken([u8; TOKEN_BYTES]);

/// SHA-256 of a token: what the `sessions.token_hash` column stores.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

/// Why a token could not be produced.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

/// `N` bytes from the OS CSPRNG as lowercase hex (public identifiers, not secrets).
pub fn random_hex<const N: usize>() -> Result<String, RandomError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl SessionToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(RandomError)?;
        Ok(SessionToken(bytes))
    }

    /// Parses a cookie value. Strict: exactly 43 base64url characters decoding to 32 bytes;
    /// anything else (padding, whitespace, other alphabets, other lengths) is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        if value.len() != TOKEN_CHARS
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let mut bytes = [0u8; TOKEN_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(value, &mut bytes) {
            Ok(TOKEN_BYTES) => Some(SessionToken(bytes)),
            _ => None,
        }
    }

    /// The cookie value.
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The hash stored server-side.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// A short, non-reversible label for an untrusted cookie value, for logs: the first
/// 12 hex digits of its SHA-256. Lets an operator correlate log lines without the log
/// ever holding a token.
pub fn fingerprint(untrusted: &[u8]) -> String {
    let digest = Sha256::digest(untrusted);
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_round_trip_and_differ() {
        let a = SessionToken::generate().unwrap();
        let b = SessionToken::generate().unwrap();
        assert_ne!(a, b);
        let text = a.expose();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert_eq!(SessionToken::parse(&text), Some(a.clone()));
        assert_eq!(SessionToken::parse(&text).unwrap().hash().0, a.hash().0);
        assert_ne!(a.hash().0, b.hash().0);
    }

    #[test]
    fn parse_is_strict() {
        let good = SessionToken::generate().unwrap().expose();
        let cases = [
            String::new(),
            "a".repeat(42),
            "a".repeat(44),
            format!("{good}="),
            format!(" {}", &good[1..]),
            good.replace(|c: char| c.is_ascii_alphanumeric(), "+")
                .chars()
                .take(43)
                .collect(),
            "' OR 1=1 --".to_string(),
            "../../../../etc/passwd".to_string(),
            "é".repeat(43),
        ];
        for c in cases {
            assert!(SessionToken::parse(&c).is_none(), "accepted {c:?}");
        }
        // 43 chars whose last symbol carries non-zero padding bits is not canonical.
        let mut bad_tail = good.clone();
        bad_tail.replace_range(42.., "B");
        if bad_tail != good {
            // Either it decodes to different bytes or is rejected; never panics.
            let _ = SessionToken::parse(&bad_tail);
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = SessionToken::generate().unwrap();
        assert!(!format!("{t:?}").contains(&t.expose()));
        assert_eq!(format!("{:?}", t.hash()), "TokenHash(<redacted>)");
    }

    #[test]
    fn fingerprint_is_short_and_stable() {
        assert_eq!(fingerprint(b"abc"), "ba7816bf8f01");
    }
}
