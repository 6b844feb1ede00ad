//! The shop's WebAuthn relying party (ssr only): where passkeys are valid, checked once
//! at start-up. A leaf: the state holds it, the flows in `server` use it.

use std::sync::Arc;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// How long a ceremony may take, from its options to its answer.
pub const CEREMONY_SECS: i64 = 300;

/// Where passkeys are valid: the relying party id (a domain, never an IP address) and
/// the exact origin (scheme, host and port) the browser reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origin: Url,
}

impl RelyingParty {
    /// The relying party from `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGIN`, each optional: the
    /// origin defaults to `http://localhost:<port of the site address>`, the id to the
    /// origin's host. `Err((setting, reason))` for a value WebAuthn cannot work with.
    pub fn resolve(
        id: Option<&str>,
        origin: Option<&str>,
        site_port: u16,
    ) -> Result<Self, (&'static str, String)> {
        let origin = match origin {
            Some(text) => parse_origin(text).map_err(|r| ("WEBAUTHN_ORIGIN", r))?,
            None => Url::parse(&format!("http://localhost:{site_port}"))
                .map_err(|e| ("WEBAUTHN_ORIGIN", e.to_string()))?,
        };
        let host = origin.host_str().unwrap_or_default().to_string();
        let id = match id {
            Some(text) => {
                let id = text.trim().trim_end_matches('.').to_ascii_lowercase();
                if id.is_empty()
                    || id.parse::<std::net::IpAddr>().is_ok()
                    || id.contains(['/', ':'])
                {
                    return Err((
                        "WEBAUTHN_RP_ID",
                        format!("{text:?} is not a domain name (an IP address cannot be one)"),
                    ));
                }
                if host != id && !host.ends_with(&format!(".{id}")) {
                    return Err((
                        "WEBAUTHN_RP_ID",
                        format!("{id:?} is neither the origin's host {host:?} nor a parent domain of it"),
                    ));
                }
                id
            }
            None => host,
        };
        Ok(RelyingParty { id, origin })
    }
}

/// `WEBAUTHN_ORIGIN`: `https://host[:port]` (`http` only for localhost), no path.
fn parse_origin(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let domain = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if domain.is_empty() {
        return Err(format!("{text:?} has no host"));
    }
    if domain
        .trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .is_ok()
    {
        return Err(format!(
            "{text:?}: WebAuthn needs a domain name, not an IP address (use localhost)"
        ));
    }
    let local = domain == "localhost" || domain.ends_with(".localhost");
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        "http" => return Err(format!("{text:?}: only localhost may use http; use https")),
        other => return Err(format!("{text:?}: the scheme must be https, not {other}")),
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?}: an origin is scheme, host and port only, without a path"
        ));
    }
    Ok(url)
}

/// The shop's WebAuthn relying party, ready for ceremonies.
#[derive(Clone)]
pub struct Passkeys {
    pub(super) webauthn: Arc<Webauthn>,
    pub rp: RelyingParty,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys").field("rp", &self.rp).finish()
    }
}

impl Passkeys {
    pub fn new(rp: RelyingParty) -> Result<Self, String> {
        let webauthn = WebauthnBuilder::new(&rp.id, &rp.origin)
            .and_then(|b| {
                b.rp_name("Oxide & Oak")
                    .timeout(std::time::Duration::from_secs(CEREMONY_SECS as u64))
                    .build()
            })
            .map_err(|e| {
                format!(
                    "WebAuthn refuses relying party {:?} at {}: {e}",
                    rp.id, rp.origin
                )
            })?;
        Ok(Passkeys {
            webauthn: Arc::new(webauthn),
            rp,
        })
    }
}
