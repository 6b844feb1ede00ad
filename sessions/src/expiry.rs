//! Expiry, its own part of the engine: when a session dies. Every session has an idle
//! deadline (slid forward by use, at most once per touch interval) and an absolute one
//! (never moved; a sign-in sets both anew). Past either, the session is dead: a lookup
//! deletes it on sight, and the collector ([`crate::gc`]) deletes the rest.

use crate::config::SessionConfig;
use crate::session::Session;
use crate::sql::Deadlines;

/// The deadlines of a session of this kind (`persistent`: "keep me signed in") that
/// starts, or signs in, at `now`.
pub(crate) fn deadlines(config: &SessionConfig, persistent: bool, now: i64) -> Deadlines {
    let (idle, absolute) = config.timeouts(persistent);
    Deadlines {
        idle: (now + idle).min(now + absolute),
        absolute: now + absolute,
    }
}

/// Whether a request at `now` should slide `session`'s idle deadline: only if the last
/// write is at least a touch interval old, so a busy session costs one write a minute,
/// not one per request.
pub(crate) fn touch_due(config: &SessionConfig, session: &Session, now: i64) -> bool {
    now - session.last_seen_at >= config.touch_every()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_deadline_never_passes_the_absolute_one() {
        let config = SessionConfig {
            idle_timeout: std::time::Duration::from_secs(100),
            absolute_timeout: std::time::Duration::from_secs(60),
            ..Default::default()
        };
        let d = deadlines(&config, false, 1_000);
        assert_eq!((d.idle, d.absolute), (1_060, 1_060));
        let d = deadlines(&SessionConfig::default(), false, 1_000);
        assert_eq!((d.idle, d.absolute), (1_000 + 30 * 60, 1_000 + 12 * 3600));
    }
}
