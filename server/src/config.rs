//! Configuration from environment variables. Every setting has a default, so the shop
//! starts with none set (README "Configuration" lists them).

use std::time::Duration;

/// Settings read once at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`, default `sqlite://shop.db` (a file in the working directory,
    /// created if missing).
    pub database_url: String,
    /// `SEED_DEMO_DATA`, default on: insert the demo catalog (and demo users) if missing.
    pub seed_demo_data: bool,
    /// `SHUTDOWN_GRACE_SECS`, default 10: how long in-flight requests may finish after
    /// Ctrl-C / SIGTERM.
    pub shutdown_grace: Duration,
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
            seed_demo_data: parse_bool("SEED_DEMO_DATA", lookup("SEED_DEMO_DATA"), true)?,
            shutdown_grace: Duration::from_secs(parse_u64(
                "SHUTDOWN_GRACE_SECS",
                lookup("SHUTDOWN_GRACE_SECS"),
                10,
            )?),
        })
    }
}

fn parse_bool(name: &'static str, raw: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
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
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://shop.db");
        assert!(c.seed_demo_data);
        assert_eq!(c.shutdown_grace, Duration::from_secs(10));
    }

    #[test]
    fn values_are_parsed_and_bad_ones_named() {
        let c = cfg(&[("DATABASE_URL", "sqlite::memory:"), ("SEED_DEMO_DATA", "off")]).unwrap();
        assert_eq!(c.database_url, "sqlite::memory:");
        assert!(!c.seed_demo_data);
        let err = cfg(&[("SEED_DEMO_DATA", "maybe")]).unwrap_err();
        assert_eq!(err.to_string(), "invalid value for SEED_DEMO_DATA: expected true/false, got \"maybe\"");
        let err = cfg(&[("SHUTDOWN_GRACE_SECS", "-3")]).unwrap_err();
        assert!(err.to_string().starts_with("invalid value for SHUTDOWN_GRACE_SECS"));
    }
}
