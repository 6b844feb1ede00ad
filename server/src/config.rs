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
    /// `EVENT_STREAMS_PER_SESSION` (default 4) and `EVENT_STREAMS_MAX` (default 2000):
    /// open `/api/events` streams allowed per session (one browser's tabs) and per process.
    pub event_streams: app::live::hub::Limits,
    /// `REGISTRATIONS_PER_HOUR`, default 10: accounts that may be created per client
    /// network (an IPv4 /24 or IPv6 /48) per hour.
    pub registrations_per_hour: u32,
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
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Config {
            database_url: lookup("DATABASE_URL")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "sqlite://shop.db".to_string()),
            postgres: {
                let max = parse_u64(
                    "DATABASE_MAX_CONNECTIONS",
                    lookup("DATABASE_MAX_CONNECTIONS"),
                    db::PgSettings::default().max_connections.into(),
                )?;
                if !(1..=1000).contains(&max) {
                    return Err(ConfigError {
                        name: "DATABASE_MAX_CONNECTIONS",
                        reason: format!("must be between 1 and 1000, got {max}"),
                    });
                }
                db::PgSettings {
                    max_connections: max as u32,
                }
            },
            seed_demo_data: parse_bool("SEED_DEMO_DATA", lookup("SEED_DEMO_DATA"), true)?,
            shutdown_grace: Duration::from_secs(parse_u64(
                "SHUTDOWN_GRACE_SECS",
                lookup("SHUTDOWN_GRACE_SECS"),
                10,
            )?),
            sessions: {
                let d = SessionConfig::default();
                let secs =
                    |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
                        let v = parse_u64(name, lookup(name), default.as_secs())?;
                        if v == 0 {
                            return Err(ConfigError {
                                name,
                                reason: "must be at least 1 second".into(),
                            });
                        }
                        Ok(Duration::from_secs(v))
                    };
                let remember = secs("SESSION_REMEMBER_SECS", d.remember_absolute_timeout)?;
                SessionConfig {
                    idle_timeout: secs("SESSION_IDLE_TIMEOUT_SECS", d.idle_timeout)?,
                    absolute_timeout: secs("SESSION_ABSOLUTE_TIMEOUT_SECS", d.absolute_timeout)?,
                    remember_idle_timeout: remember,
                    remember_absolute_timeout: remember,
                    // Secure cookies are the default for release builds; a debug build
                    // (cargo leptos watch on http://localhost) would otherwise lose them.
                    secure: parse_bool(
                        "COOKIE_SECURE",
                        lookup("COOKIE_SECURE"),
                        !cfg!(debug_assertions),
                    )?,
                    trusted_proxies: lookup("TRUSTED_PROXIES")
                        .unwrap_or_default()
                        .parse::<sessions::TrustedProxies>()
                        .map_err(|reason| ConfigError {
                            name: "TRUSTED_PROXIES",
                            reason,
                        })?
                        .with_header(
                            lookup("TRUSTED_PROXY_HEADER")
                                .unwrap_or_default()
                                .parse()
                                .map_err(|reason| ConfigError {
                                    name: "TRUSTED_PROXY_HEADER",
                                    reason,
                                })?,
                        ),
                    cache_capacity: parse_u64(
                        "SESSION_CACHE_CAPACITY",
                        lookup("SESSION_CACHE_CAPACITY"),
                        d.cache_capacity as u64,
                    )? as usize,
                    ..d
                }
            },
            served_by: match lookup("SERVED_BY").filter(|s| !s.trim().is_empty()) {
                None => None,
                Some(name) => Some(
                    axum::http::HeaderValue::from_str(name.trim())
                        .ok()
                        .filter(|_| name.len() <= 64)
                        .ok_or_else(|| ConfigError {
                            name: "SERVED_BY",
                            reason: "must be at most 64 visible characters".into(),
                        })?,
                ),
            },
            gc_interval: Duration::from_secs(
                parse_u64(
                    "SESSION_GC_INTERVAL_SECS",
                    lookup("SESSION_GC_INTERVAL_SECS"),
                    300,
                )?
                .max(1),
            ),
            registrations_per_hour: match parse_u64(
                "REGISTRATIONS_PER_HOUR",
                lookup("REGISTRATIONS_PER_HOUR"),
                app::auth::throttle::REGISTRATIONS_PER_HOUR.into(),
            )? {
                n @ 1..=100_000 => n as u32,
                n => {
                    return Err(ConfigError {
                        name: "REGISTRATIONS_PER_HOUR",
                        reason: format!("must be between 1 and 100000, got {n}"),
                    })
                }
            },
            event_streams: {
                let d = app::live::hub::Limits::default();
                let count = |name: &'static str, default: usize| -> Result<usize, ConfigError> {
                    match parse_u64(name, lookup(name), default as u64)? {
                        0 => Err(ConfigError {
                            name,
                            reason: "must be at least 1".into(),
                        }),
                        n => Ok(n as usize),
                    }
                };
                app::live::hub::Limits {
                    per_session: count("EVENT_STREAMS_PER_SESSION", d.per_session)?,
                    total: count("EVENT_STREAMS_MAX", d.total)?,
                }
            },
        })
    }
}

fn parse_bool(name: &'static str, raw: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match raw
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError {
            name,
            reason: format!("expected true/false, got {other:?}"),
        }),
    }
}

pub(crate) fn parse_u64(
    name: &'static str,
    raw: Option<String>,
    default: u64,
) -> Result<u64, ConfigError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => s.parse().map_err(|_| ConfigError {
            name,
            reason: format!("expected a whole number, got {s:?}"),
        }),
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
    }
}
