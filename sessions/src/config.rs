//! Session policy: timeouts and cookie attributes.

use std::time::Duration;

/// How sessions live and how their cookie looks. `Default` is the production policy
/// (see docs/ARCHITECTURE.md §4): 30 min idle, 12 h absolute, 30 days for "keep me signed in".
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// A session unused this long is dead.
    pub idle_timeout: Duration,
    /// A session this old is dead, however busy (counted from creation or last login).
    pub absolute_timeout: Duration,
    /// Idle timeout of a "keep me signed in" session.
    pub remember_idle_timeout: Duration,
    /// Absolute timeout of a "keep me signed in" session (also its cookie's Max-Age).
    pub remember_absolute_timeout: Duration,
    /// `last_seen_at`/`idle_expires_at` are written at most this often per session
    /// (capped by the idle timeout: see [`SessionConfig::touch_every`]).
    pub touch_interval: Duration,
    /// Served over https: adds `Secure` and the `__Host-` name prefix.
    pub secure: bool,
    /// Sessions kept in memory in front of the lookup (see `cache.rs`); 0 turns the cache
    /// off.
    pub cache_capacity: usize,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` are believed (see `client.rs`).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// How long the account's security log keeps a row (see `events.rs`).
    pub security_log_retention: Duration,
    /// Sudo mode: how recent a proof of identity a sensitive action needs.
    pub sudo_window: Duration,
    /// How long after a rotation a request with the token it replaced is taken for one
    /// sent before the browser got the new token: anonymous, but its answer leaves the
    /// cookie alone ([`crate::Lookup::Replaced`]). Longer than any request takes.
    pub replaced_token_grace: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            remember_idle_timeout: Duration::from_secs(30 * 24 * 60 * 60),
            remember_absolute_timeout: Duration::from_secs(30 * 24 * 60 * 60),
            touch_interval: Duration::from_secs(60),
            secure: true,
            cache_capacity: crate::cache::DEFAULT_CAPACITY,
            trusted_proxies: Default::default(),
            security_log_retention: Duration::from_secs(90 * 24 * 60 * 60),
            sudo_window: Duration::from_secs(15 * 60),
            replaced_token_grace: Duration::from_secs(60),
        }
    }
}

impl SessionConfig {
    /// The cookie's name: `__Host-sid` over https (browsers then insist on `Secure`,
    /// `Path=/` and no `Domain`, so a sibling subdomain cannot plant it), else `sid`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-sid"
        } else {
            "sid"
        }
    }

    /// How often (seconds) a busy session's idle deadline is written: the configured
    /// `touch_interval`, but at most a quarter of the shorter idle timeout, so a session
    /// used more often than its idle timeout never dies however short that timeout is
    /// (with 3 s, every request writes). Also how long a cached copy is trusted.
    pub fn touch_every(&self) -> i64 {
        let quarter = |d: Duration| (d.as_secs() / 4) as i64;
        (self.touch_interval.as_secs() as i64)
            .min(quarter(self.idle_timeout))
            .min(quarter(self.remember_idle_timeout))
    }

    /// (idle, absolute) timeouts in seconds for a session of this kind.
    pub(crate) fn timeouts(&self, persistent: bool) -> (i64, i64) {
        let (idle, abs) = if persistent {
            (self.remember_idle_timeout, self.remember_absolute_timeout)
        } else {
            (self.idle_timeout, self.absolute_timeout)
        };
        (idle.as_secs() as i64, abs.as_secs() as i64)
    }
}
