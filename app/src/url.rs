//! Tiny URL helpers shared by client and server.

/// Percent-encodes a value for a query string, keeping `/` readable
/// (`/billing` stays `/billing`; `&`, `#`, `%`, `+`, spaces and non-ASCII are encoded).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'?'
            | b':'
            | b'@'
            | b'!'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b','
            | b';' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode_query_value;

    #[test]
    fn keeps_paths_readable_and_encodes_the_rest() {
        assert_eq!(encode_query_value("/billing"), "/billing");
        assert_eq!(encode_query_value("/a?b=c&d=e#f"), "/a?b%3Dc%26d%3De%23f");
        assert_eq!(encode_query_value("ü +%"), "%C3%BC%20%2B%25");
    }
}
