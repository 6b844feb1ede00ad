//! Who the client is, network-wise: the peer's address, or behind a load balancer or
//! reverse proxy listed in `TRUSTED_PROXIES`, the address that proxy forwarded.
//!
//! The sessions list (coarse network of each device) and the sign-in throttle (per
//! client network) use it. A forwarded address is believed only from a trusted peer:
//! anyone else could write any `X-Forwarded-For` they like and so pick the network their
//! guesses are counted against.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The client's address, as decided by [`TrustedProxies::client_addr`]; put into every
/// request's extensions by [`client_addr_middleware`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The address of the request's client: [`ClientAddr`] if the middleware ran, else
    /// the peer's address, else `None`.
    pub fn of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
        extensions.get::<ClientAddr>().map(|c| c.0).or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ci| ci.0.ip())
        })
    }
}

/// The proxies whose forwarded addresses are believed (`TRUSTED_PROXIES`: CIDRs or
/// single addresses, separated by commas or spaces; empty by default), and the one
/// header they write (`TRUSTED_PROXY_HEADER`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

/// Which header the trusted proxies write the client's address into. Only that one is
/// read: a proxy passes the other through untouched, so the client could write it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, HAProxy, most load
    /// balancers). The default.
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239), `for=` parameters.
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!("{other:?}: expected x-forwarded-for or forwarded")),
        }
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => IpNet::from(item.parse::<IpAddr>().map_err(|_| {
                    format!("{item:?} is not an address or CIDR (e.g. 10.0.0.0/8, ::1)")
                })?),
            };
            nets.push(net.trunc());
        }
        Ok(TrustedProxies {
            nets,
            header: ForwardedHeader::default(),
        })
    }
}

impl TrustedProxies {
    /// The same proxies, writing the client's address into `header`.
    pub fn with_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Whether the request with these extensions came straight from a trusted proxy (its
    /// peer, `ConnectInfo`, is one), so the headers such a proxy writes may be believed.
    pub fn sent(&self, extensions: &axum::http::Extensions) -> bool {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ci| self.contains(ci.0.ip()))
    }

    /// The client behind `peer`: the peer itself unless it is trusted; then the last
    /// address in the proxies' header that is not a trusted proxy, read from the right (each proxy appends the address it saw, so entries to
    /// the left of the first untrusted one could have been written by the client). An
    /// entry that is not an address stops the walk at the hop that added it.
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_for(headers, self.header);
        let mut client = peer;
        for entry in chain.iter().rev() {
            match entry {
                Some(ip) if self.contains(*ip) => client = *ip,
                Some(ip) => return *ip,
                None => return client,
            }
        }
        client
    }
}

/// Puts the request's [`ClientAddr`] into its extensions.
pub async fn client_addr_middleware(
    axum::extract::State(proxies): axum::extract::State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
    {
        let client = proxies.client_addr(peer, req.headers());
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The addresses in every header of the kind the proxies write (the `for=` parameters of
/// `Forwarded`, or the entries of `X-Forwarded-For`), in order; `None` for an entry
/// that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap, which: ForwardedHeader) -> Vec<Option<IpAddr>> {
    // Entries are split on the raw bytes and decoded one by one: a proxy appends its
    // entry to the client's on one line, so junk in the client's part (a tab, a byte
    // above 0x7f) must spoil only that part, never the proxy's own entry.
    let entries = |name: &'static str| {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| {
                v.as_bytes()
                    .split(|b| *b == b',')
                    .map(|e| std::str::from_utf8(e).ok())
            })
            .collect::<Vec<Option<&str>>>()
    };
    match which {
        ForwardedHeader::Forwarded => entries("forwarded")
            .into_iter()
            .filter_map(|element| match element {
                None => Some(None),
                Some(element) => element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v))
                }),
            })
            .collect(),
        ForwardedHeader::XForwardedFor => entries("x-forwarded-for")
            .into_iter()
            .map(|e| e.and_then(parse_node))
            .collect(),
    }
}

/// An address as proxies write it: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, optionally in double quotes.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_list_is_parsed_and_bad_entries_are_named() {
        let p: TrustedProxies = "10.0.0.0/8, 127.0.0.1 ::1 fd00::/8".parse().unwrap();
        assert!(p.contains(ip("10.1.2.3")) && p.contains(ip("127.0.0.1")));
        assert!(p.contains(ip("::ffff:127.0.0.1")), "IPv4-mapped");
        assert!(p.contains(ip("fd00::5")) && !p.contains(ip("127.0.0.2")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        let err = "10.0.0.0/8, proxy.local"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_peers() {
        let none = TrustedProxies::default();
        let lb: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "198.51.100.9, 203.0.113.7")]);
        // Untrusted peer: its header is ignored.
        assert_eq!(none.client_addr(ip("127.0.0.1"), &xff), ip("127.0.0.1"));
        assert_eq!(lb.client_addr(ip("192.0.2.1"), &xff), ip("192.0.2.1"));
        // Trusted peer: the rightmost untrusted entry (the left one may be forged).
        assert_eq!(lb.client_addr(ip("127.0.0.1"), &xff), ip("203.0.113.7"));
        // Proxies in the chain are skipped.
        let chain = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.5")]);
        assert_eq!(lb.client_addr(ip("127.0.0.1"), &chain), ip("203.0.113.7"));
        // Several headers count as one list; ports and brackets are dropped.
        let split = headers(&[
            ("x-forwarded-for", "198.51.100.9"),
            ("x-forwarded-for", "203.0.113.7:4711"),
        ]);
        assert_eq!(lb.client_addr(ip("127.0.0.1"), &split), ip("203.0.113.7"));
        // Garbage stops the walk at the proxy that added it.
        let junk = headers(&[("x-forwarded-for", "203.0.113.7, junk, 10.0.0.5")]);
        assert_eq!(lb.client_addr(ip("127.0.0.1"), &junk), ip("10.0.0.5"));
        // Bytes that are not visible ASCII in the client's part spoil only that part: the
        // address the proxy appended still counts.
        let mut raw = HeaderMap::new();
        raw.insert(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"1.2.3.4\xff\t, 203.0.113.7").unwrap(),
        );
        assert_eq!(lb.client_addr(ip("127.0.0.1"), &raw), ip("203.0.113.7"));
        // No header: the peer.
        assert_eq!(
            lb.client_addr(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        let h = headers(&[
            (
                "forwarded",
                r#"for=198.51.100.9;proto=https, for="[2001:db8:cafe::17]:4711";by=127.0.0.1"#,
            ),
            ("x-forwarded-for", "192.0.2.200"),
        ]);
        // nginx appends to X-Forwarded-For and passes a client's `Forwarded` through:
        // that one must not be believed.
        let xff: TrustedProxies = "127.0.0.1".parse().unwrap();
        assert_eq!(xff.client_addr(ip("127.0.0.1"), &h), ip("192.0.2.200"));
        let only_forwarded = headers(&[("forwarded", "for=198.51.100.9")]);
        assert_eq!(
            xff.client_addr(ip("127.0.0.1"), &only_forwarded),
            ip("127.0.0.1")
        );
        // A proxy that writes `Forwarded` instead.
        let rfc = xff.with_header("forwarded".parse().unwrap());
        assert_eq!(
            rfc.client_addr(ip("127.0.0.1"), &h),
            ip("2001:db8:cafe::17")
        );
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(rfc.client_addr(ip("127.0.0.1"), &unknown), ip("127.0.0.1"));
        assert!("via".parse::<ForwardedHeader>().is_err());
    }
}
