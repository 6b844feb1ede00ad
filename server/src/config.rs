//! Configuration from environment variables. Every setting has a default, so the shop
//! starts with none set (README "Configuration" lists them).

use std::time::Duration;

use sessions::SessionConfig;

/// Settings read once at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`, default `sqlite://shop.db` (a file in the working directory,
    /// created if missing); `postgres://…` runs the shop on PostgreSQL.
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`, default 16: the PostgreSQL pool's size per process
    /// (SQLite always has 8 readers and one writer).
    pub postgres: db::PgSettings,
    /// `SEED_DEMO_DATA`, default on: insert the demo catalog (and demo users) if missing.
    pub seed_demo_data: bool,
    /// `SHUTDOWN_GRACE_SECS`, default 10: how long in-flight requests may finish after
    /// Ctrl-C / SIGTERM.
    pub shutdown_grace: Duration,
    /// Session timeouts and cookie policy:
    /// `SESSION_IDLE_TIMEOUT_SECS` (default 1800), `SESSION_ABSOLUTE_TIMEOUT_SECS` (43200),
    /// `SESSION_REMEMBER_SECS` (2592000: idle and absolute for "keep me signed in"),
    /// `COOKIE_SECURE` (default on in release builds, off in debug builds).
    pub sessions: SessionConfig,
    /// `SESSION_GC_INTERVAL_SECS`, default 300: how often expired sessions are deleted.
    pub gc_interval: Duration,
    /// `SERVED_BY`, default none: a name for this process, sent as `X-Served-By` on
    /// every response (so people and tests can see a load balancer spread requests).
    pub served_by: Option<axum::http::HeaderValue>,
    /// `EVENT_STREAMS_PER_SESSION` (default 4), `H2_EVENT_STREAMS_PER_SESSION` (default
    /// 16: a browser on HTTP/2 to a trusted proxy) and `EVENT_STREAMS_MAX` (default
    /// 2000): open `/api/events` streams allowed per session (one browser's tabs) and per
    /// process.
    pub event_streams: app::live::hub::Limits,
    /// `REGISTRATIONS_PER_HOUR`, default 10: accounts that may be created per client
    /// network (an IPv4 /24 or IPv6 /48) per hour.
    pub registrations_per_hour: u32,
    /// `REQUEST_TIMEOUT_SECS`, default 30: a request whose answer has not started by then
    /// is answered 503 (the event stream's starts at once).
    pub request_timeout: Duration,
    /// `HEADER_READ_TIMEOUT_SECS` (default 15: time to send a request head, and the
    /// longest idle keep-alive) and `CONNECTIONS_PER_CLIENT` (default 256: connections
    /// one address may hold; trusted proxies are not limited).
    pub connections: crate::serve::ConnectionLimits,
    /// `METRICS_ADDR`, default none (off): where Prometheus metrics are served
    /// (`http://ADDR/metrics`), apart from the shop so they are never public by accident.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `WEBAUTHN_ORIGIN` (default `http://localhost:<the site address's port>`) and
    /// `WEBAUTHN_RP_ID` (default: the origin's host): where passkeys work. The origin is
    /// what the browser's address bar shows (https, or http for localhost); the id is
    /// that host or a parent domain of it, never an IP address.
    pub webauthn_origin: Option<String>,
    pub webauthn_rp_id: Option<String>,
    /// `MAIL_URL` (default none: mail is written as `.eml` files to `MAIL_DIR`, default
    /// `mail`), `MAIL_FROM` (default `Oxide & Oak <shop@localhost>`) and
    /// `MAIL_TIMEOUT_SECS` (default 30: the longest one send may take). Links in mail
    /// point at the shop's origin, `WEBAUTHN_ORIGIN`.
    pub mail: app::mail::MailSettings,
}

/// A setting that is present but unusable. Reported as one line at start-up.
#[derive(Debug, thiserror::Error)]
#[error("invalid value for {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    /// Each setting is named once, with its default and the values it accepts.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_settings(&Settings::new(&lookup))
    }

    fn from_settings(env: &Settings<'_>) -> Result<Self, ConfigError> {
        let pg = db::PgSettings::default();
        let streams = app::live::hub::Limits::default();
        let sessions = session_config(env)?;
        let connections = crate::serve::ConnectionLimits {
            header_read: env.secs("HEADER_READ_TIMEOUT_SECS", 15, 1)?,
            per_client: env.number("CONNECTIONS_PER_CLIENT", 256, 1..=1_000_000)?,
            trusted: sessions.trusted_proxies.clone(),
        };
        let config = Config {
            database_url: env
                .text("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://shop.db".to_string()),
            postgres: db::PgSettings {
                max_connections: env.number(
                    "DATABASE_MAX_CONNECTIONS",
                    pg.max_connections,
                    1..=1000,
                )?,
            },
            seed_demo_data: env.flag("SEED_DEMO_DATA", true)?,
            shutdown_grace: env.secs("SHUTDOWN_GRACE_SECS", 10, 0)?,
            sessions,
            connections,
            request_timeout: env.secs("REQUEST_TIMEOUT_SECS", 30, 1)?,
            metrics_addr: env.address("METRICS_ADDR")?,
            webauthn_origin: env.text("WEBAUTHN_ORIGIN"),
            webauthn_rp_id: env.text("WEBAUTHN_RP_ID"),
            served_by: served_by(env.text("SERVED_BY"))?,
            mail: mail_settings(env)?,
            gc_interval: env.secs("SESSION_GC_INTERVAL_SECS", 300, 1)?,
            registrations_per_hour: env.number(
                "REGISTRATIONS_PER_HOUR",
                app::auth::throttle::REGISTRATIONS_PER_HOUR,
                1..=100_000,
            )?,
            event_streams: app::live::hub::Limits {
                per_session: env.number(
                    "EVENT_STREAMS_PER_SESSION",
                    streams.per_session,
                    1..=1_000,
                )?,
                per_session_h2: env.number(
                    "H2_EVENT_STREAMS_PER_SESSION",
                    streams.per_session_h2,
                    1..=1_000,
                )?,
                total: env.number("EVENT_STREAMS_MAX", streams.total, 1..=1_000_000)?,
            },
        };
        // A wrong relying party stops start-up here, with one line (the port is only a
        // placeholder: the default origin is always valid).
        config.relying_party(3000)?;
        Ok(config)
    }

    /// The WebAuthn relying party for a site served on `site_port`.
    pub fn relying_party(
        &self,
        site_port: u16,
    ) -> Result<app::passkeys::server::RelyingParty, ConfigError> {
        app::passkeys::server::RelyingParty::resolve(
            self.webauthn_rp_id.as_deref(),
            self.webauthn_origin.as_deref(),
            site_port,
        )
        .map_err(|(name, reason)| ConfigError { name, reason })
    }
}

/// Session timeouts, cookie policy, proxies and the session cache.
fn session_config(env: &Settings<'_>) -> Result<SessionConfig, ConfigError> {
    let d = SessionConfig::default();
    let remember = env.secs(
        "SESSION_REMEMBER_SECS",
        d.remember_absolute_timeout.as_secs(),
        1,
    )?;
    let proxies: sessions::TrustedProxies = env.parsed("TRUSTED_PROXIES")?;
    Ok(SessionConfig {
        idle_timeout: env.secs("SESSION_IDLE_TIMEOUT_SECS", d.idle_timeout.as_secs(), 1)?,
        absolute_timeout: env.secs(
            "SESSION_ABSOLUTE_TIMEOUT_SECS",
            d.absolute_timeout.as_secs(),
            1,
        )?,
        remember_idle_timeout: remember,
        remember_absolute_timeout: remember,
        // Secure cookies are the default for release builds; a debug build (cargo leptos
        // watch on http://localhost) would otherwise lose them.
        secure: env.flag("COOKIE_SECURE", !cfg!(debug_assertions))?,
        trusted_proxies: proxies.with_header(env.parsed("TRUSTED_PROXY_HEADER")?),
        cache_capacity: env.number("SESSION_CACHE_CAPACITY", d.cache_capacity, 0..=10_000_000)?,
        sudo_window: env.secs("SUDO_SECS", d.sudo_window.as_secs(), 1)?,
        ..d
    })
}

/// Where mail goes and who it is from.
fn mail_settings(env: &Settings<'_>) -> Result<app::mail::MailSettings, ConfigError> {
    let url = env.text("MAIL_URL");
    if let Some(url) = &url {
        app::mail::transport::check_url(url).map_err(|reason| ConfigError {
            name: "MAIL_URL",
            reason,
        })?;
    }
    let dir = env.text("MAIL_DIR").unwrap_or_else(|| "mail".into());
    let from = match env.text("MAIL_FROM") {
        Some(text) => app::mail::transport::parse_from(&text).map_err(|reason| ConfigError {
            name: "MAIL_FROM",
            reason,
        })?,
        None => app::mail::MailSettings::default_from(),
    };
    let timeout = env.secs("MAIL_TIMEOUT_SECS", 30, 1)?;
    Ok(app::mail::MailSettings::new(url, dir.into(), from, timeout))
}

/// `SERVED_BY`: at most 64 visible characters, sent as a header.
fn served_by(name: Option<String>) -> Result<Option<axum::http::HeaderValue>, ConfigError> {
    let Some(name) = name else {
        return Ok(None);
    };
    axum::http::HeaderValue::from_str(&name)
        .ok()
        .filter(|_| name.len() <= 64)
        .map(Some)
        .ok_or_else(|| ConfigError {
            name: "SERVED_BY",
            reason: "must be at most 64 visible characters".into(),
        })
}

/// The environment, read one named setting at a time. Remembers the names it was asked
/// for (the README's list is checked against them).
struct Settings<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    read: std::cell::RefCell<Vec<&'static str>>,
}

impl<'a> Settings<'a> {
    fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Settings {
            lookup,
            read: Default::default(),
        }
    }

    /// The trimmed value; `None` when unset or blank.
    fn text(&self, name: &'static str) -> Option<String> {
        self.read.borrow_mut().push(name);
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// `true`/`false` (or 1/0, yes/no, on/off).
    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError {
                name,
                reason: format!("expected true/false, got {other:?}"),
            }),
        }
    }

    /// A whole number within `range`.
    fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<T, ConfigError>
    where
        T: TryFrom<u64>,
    {
        let Some(raw) = self.text(name) else {
            return Ok(default);
        };
        let n: u64 = raw.parse().map_err(|_| ConfigError {
            name,
            reason: format!("expected a whole number, got {raw:?}"),
        })?;
        let out_of_range = || ConfigError {
            name,
            reason: match (range.start(), range.end()) {
                (min, &u64::MAX) => format!("must be at least {min}, got {n}"),
                (min, max) => format!("must be between {min} and {max}, got {n}"),
            },
        };
        if !range.contains(&n) {
            return Err(out_of_range());
        }
        T::try_from(n).map_err(|_| out_of_range())
    }

    /// A number of seconds, at least `min`.
    fn secs(&self, name: &'static str, default: u64, min: u64) -> Result<Duration, ConfigError> {
        self.number(name, default, min..=u64::MAX)
            .map(Duration::from_secs)
    }

    /// An `IP:PORT` to listen on; `None` when unset.
    fn address(&self, name: &'static str) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        self.text(name)
            .map(|v| {
                v.parse().map_err(|_| ConfigError {
                    name,
                    reason: format!("expected IP:PORT (e.g. 127.0.0.1:9100), got {v:?}"),
                })
            })
            .transpose()
    }

    /// A value with its own syntax (empty when unset).
    fn parsed<T: std::str::FromStr<Err = String>>(
        &self,
        name: &'static str,
    ) -> Result<T, ConfigError> {
        self.text(name)
            .unwrap_or_default()
            .parse()
            .map_err(|reason| ConfigError { name, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://shop.db");
        assert!(c.seed_demo_data);
        assert_eq!(c.shutdown_grace, Duration::from_secs(10));
        assert_eq!(c.sessions.idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.sessions.absolute_timeout, Duration::from_secs(12 * 3600));
        assert_eq!(
            c.sessions.remember_idle_timeout,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(c.gc_interval, Duration::from_secs(300));
        assert_eq!(c.postgres.max_connections, 16);
    }

    #[test]
    fn the_relying_party_defaults_to_localhost_and_a_wrong_one_stops_start_up() {
        let c = cfg(&[]).unwrap();
        let rp = c.relying_party(8080).unwrap();
        assert_eq!(rp.id, "localhost");
        assert_eq!(rp.origin.as_str(), "http://localhost:8080/");
        let c = cfg(&[("WEBAUTHN_ORIGIN", "https://shop.example.com")]).unwrap();
        assert_eq!(c.relying_party(80).unwrap().id, "shop.example.com");
        let c = cfg(&[
            ("WEBAUTHN_ORIGIN", "https://shop.example.com:8443"),
            ("WEBAUTHN_RP_ID", "example.com"),
        ])
        .unwrap();
        let rp = c.relying_party(80).unwrap();
        assert_eq!(
            (rp.id.as_str(), rp.origin.port()),
            ("example.com", Some(8443))
        );
        for (pairs, name) in [
            (
                &[("WEBAUTHN_ORIGIN", "http://127.0.0.1:3000")][..],
                "WEBAUTHN_ORIGIN",
            ),
            (
                &[("WEBAUTHN_ORIGIN", "http://shop.example.com")][..],
                "WEBAUTHN_ORIGIN",
            ),
            (
                &[("WEBAUTHN_ORIGIN", "https://shop.example.com/shop")][..],
                "WEBAUTHN_ORIGIN",
            ),
            (
                &[("WEBAUTHN_ORIGIN", "shop.example.com")][..],
                "WEBAUTHN_ORIGIN",
            ),
            (&[("WEBAUTHN_RP_ID", "127.0.0.1")][..], "WEBAUTHN_RP_ID"),
            (
                &[
                    ("WEBAUTHN_ORIGIN", "https://shop.example.com"),
                    ("WEBAUTHN_RP_ID", "other.example"),
                ][..],
                "WEBAUTHN_RP_ID",
            ),
        ] {
            let err = cfg(pairs).unwrap_err();
            assert_eq!(err.name, name, "{pairs:?}: {err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn values_are_parsed_and_bad_ones_named() {
        let c = cfg(&[
            ("DATABASE_URL", "sqlite::memory:"),
            ("SEED_DEMO_DATA", "off"),
        ])
        .unwrap();
        assert_eq!(c.database_url, "sqlite::memory:");
        assert!(!c.seed_demo_data);
        let err = cfg(&[("SEED_DEMO_DATA", "maybe")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value for SEED_DEMO_DATA: expected true/false, got \"maybe\""
        );
        let c = cfg(&[
            ("SESSION_IDLE_TIMEOUT_SECS", "60"),
            ("COOKIE_SECURE", "true"),
        ])
        .unwrap();
        assert_eq!(c.sessions.idle_timeout, Duration::from_secs(60));
        assert!(c.sessions.secure);
        assert_eq!(c.sessions.cookie_name(), "__Host-sid");
        assert!(cfg(&[("SESSION_ABSOLUTE_TIMEOUT_SECS", "0")]).is_err());
        let err = cfg(&[("SHUTDOWN_GRACE_SECS", "-3")]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("invalid value for SHUTDOWN_GRACE_SECS"));
        assert_eq!(
            cfg(&[("DATABASE_MAX_CONNECTIONS", "4")])
                .unwrap()
                .postgres
                .max_connections,
            4
        );
        assert!(cfg(&[("DATABASE_MAX_CONNECTIONS", "0")]).is_err());
        assert!(cfg(&[]).unwrap().sessions.trusted_proxies.is_empty());
        let c = cfg(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).unwrap();
        assert!(c
            .sessions
            .trusted_proxies
            .contains("10.9.8.7".parse().unwrap()));
        let err = cfg(&[("TRUSTED_PROXIES", "10.0.0.0/8, lb")]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("invalid value for TRUSTED_PROXIES"));
        assert!(cfg(&[("TRUSTED_PROXY_HEADER", "forwarded")]).is_ok());
        assert!(cfg(&[("TRUSTED_PROXY_HEADER", "x-real-ip")]).is_err());
        let err = cfg(&[("EVENT_STREAMS_PER_SESSION", "0")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value for EVENT_STREAMS_PER_SESSION: must be between 1 and 1000, got 0"
        );
        let err = cfg(&[("SESSION_IDLE_TIMEOUT_SECS", "0")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value for SESSION_IDLE_TIMEOUT_SECS: must be at least 1, got 0"
        );
    }

    #[test]
    fn every_setting_is_read_once_and_documented_in_the_readme() {
        let lookup = |_: &str| None;
        let env = Settings::new(&lookup);
        Config::from_settings(&env).unwrap();
        let names = env.read.into_inner();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "a setting is read twice: {names:?}"
        );
        let readme = include_str!("../../README.md");
        for name in names {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README does not list {name}"
            );
        }
    }
}
