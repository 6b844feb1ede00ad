//! Throttling of sign-in failures and registrations (ssr only).
//!
//! Failed sign-ins count per account (the name as typed, known or not, so the throttle
//! reveals nothing about which names exist) and per client network (the coarse address
//! of `sessions::coarse_ip`). From the `limit`-th failure on, a key waits before its next
//! attempt: 1 minute, then 2, 4, 8, capped at 15; quiet for an hour, it starts afresh.
//! A blocked attempt is answered at once (429 + `Retry-After`) and never reaches argon2,
//! so it neither costs CPU nor extends the block. An account is therefore never locked
//! for more than 15 minutes at a time: once the wait is over the right password works.
//!
//! Registrations count per client network: at most `REGISTRATIONS_PER_HOUR`.
//!
//! Time comes from the session store's clock, so tests move it instead of sleeping.
//! Counters live in memory: a restart forgets them, which errs on the side of the user.
//! (A crate such as governor limits the *rate of all requests*; what is needed here is a
//! count of *failures* with a backoff that grows, on the app's own clock.)

use std::collections::HashMap;
use std::sync::Mutex;

/// Failed sign-ins per account before the backoff starts.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failed sign-ins per client network before the backoff starts (higher: offices and
/// mobile carriers put many people behind one address).
pub const NETWORK_LIMIT: u32 = 20;
/// First wait, doubled with each further failure, and its cap.
pub const BASE_WAIT_SECS: i64 = 60;
pub const MAX_WAIT_SECS: i64 = 15 * 60;
/// A key quiet (no failure) for this long starts afresh. Longer than the longest wait,
/// so a guesser who waits out each block keeps the maximum wait: at most four guesses
/// an hour per account.
pub const QUIET_RESET_SECS: i64 = 60 * 60;
/// Accounts created per client network per hour.
pub const REGISTRATIONS_PER_HOUR: u32 = 10;
/// Entries kept before stale ones are pruned (bounds memory under a flood of names).
const PRUNE_ABOVE: usize = 10_000;
/// Hard bound: past it, only keys that are blocked right now are kept.
const HARD_CAP: usize = 100_000;

#[derive(Debug, Clone, Copy, Default)]
struct Failures {
    count: u32,
    last_at: i64,
    blocked_until: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    count: u32,
    started_at: i64,
}

/// The throttle state of one server process.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
    registrations: Mutex<HashMap<String, Window>>,
}

/// Key of an account: the name as typed, without regard to case or surrounding space.
pub fn account_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

/// Key of a client network.
pub fn network_key(coarse_ip: &str) -> String {
    format!("net:{coarse_ip}")
}

impl Throttle {
    /// Seconds to wait before `keys` may try again (the longest of them), or `None`.
    pub fn wait(&self, keys: &[&str], now: i64) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| map.get(*k))
            .map(|f| f.blocked_until - now)
            .filter(|w| *w > 0)
            .max()
            .map(|w| w as u64)
    }

    /// Starts an attempt for `keys` (each with its limit): `Err(wait)` if one of them must
    /// wait; otherwise the attempt is counted as a failure of every key at once, under the
    /// same lock as the check, so attempts sent in parallel cannot all slip past it. A
    /// successful attempt takes its count back with [`Throttle::succeeded`].
    pub fn attempt(&self, keys: &[(&str, u32)], now: i64) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let wait = keys
            .iter()
            .filter_map(|(k, _)| map.get(*k))
            .map(|f| f.blocked_until - now)
            .filter(|w| *w > 0)
            .max();
        if let Some(wait) = wait {
            return Err(wait as u64);
        }
        for (key, limit) in keys {
            Self::fail_locked(&mut map, key, *limit, now);
        }
        Ok(())
    }

    /// Takes back a successful attempt: the account's failures are forgotten; the
    /// network keeps its earlier ones (one good account must not launder the failures of
    /// a client guessing at others) but not this attempt's.
    pub fn succeeded(&self, account: Option<&str>, network: &str, network_limit: u32) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(account) = account {
            map.remove(account);
        }
        if let Some(f) = map.get_mut(network) {
            f.count = f.count.saturating_sub(1);
            if f.count < network_limit {
                f.blocked_until = 0;
            }
        }
    }

    /// Records a failed attempt for `key`; from the `limit`-th failure on it must wait.
    pub fn fail(&self, key: &str, limit: u32, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        Self::fail_locked(&mut map, key, limit, now);
    }

    fn fail_locked(map: &mut HashMap<String, Failures>, key: &str, limit: u32, now: i64) {
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, f| now - f.last_at < QUIET_RESET_SECS || f.blocked_until > now);
            if map.len() > HARD_CAP {
                map.retain(|_, f| f.blocked_until > now);
            }
            if map.len() > HARD_CAP {
                tracing::warn!("sign-in throttle full of blocked keys: forgetting them");
                map.clear();
            }
        }
        let f = map.entry(key.to_string()).or_default();
        if now - f.last_at >= QUIET_RESET_SECS {
            *f = Failures::default();
        }
        f.count += 1;
        f.last_at = now;
        if f.count >= limit {
            let doublings = (f.count - limit).min(10);
            f.blocked_until = now + (BASE_WAIT_SECS << doublings).min(MAX_WAIT_SECS);
        }
    }

    /// Forgets the failures of `key` (after a successful sign-in to that account).
    pub fn clear(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    /// Counts a registration attempt from `network`; `Err(wait)` once the hourly quota is
    /// used up.
    pub fn register(&self, network: &str, now: i64) -> Result<(), u64> {
        let mut map = self.registrations.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, w| now - w.started_at < 3600);
        }
        let w = map.entry(network.to_string()).or_default();
        if now - w.started_at >= 3600 {
            *w = Window {
                count: 0,
                started_at: now,
            };
        }
        if w.count >= REGISTRATIONS_PER_HOUR {
            return Err((w.started_at + 3600 - now).max(1) as u64);
        }
        w.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    #[test]
    fn the_fifth_failure_starts_a_doubling_wait_capped_at_fifteen_minutes() {
        let t = Throttle::default();
        for i in 0..4 {
            t.fail("user:alice", ACCOUNT_LIMIT, T + i);
            assert_eq!(t.wait(&["user:alice"], T + i), None);
        }
        t.fail("user:alice", ACCOUNT_LIMIT, T + 4);
        assert_eq!(t.wait(&["user:alice"], T + 4), Some(60));
        assert_eq!(t.wait(&["user:alice"], T + 64), None, "the wait ends");
        let mut now = T + 64;
        for expected in [120, 240, 480, 900, 900] {
            t.fail("user:alice", ACCOUNT_LIMIT, now);
            assert_eq!(t.wait(&["user:alice"], now), Some(expected));
            now += expected as i64;
        }
        assert_eq!(t.wait(&["other", "user:alice"], now - 1), Some(1));
    }

    #[test]
    fn quiet_for_fifteen_minutes_starts_afresh_and_success_clears() {
        let t = Throttle::default();
        for i in 0..4 {
            t.fail("k", 5, T + i);
        }
        t.fail("k", 5, T + 3 + QUIET_RESET_SECS);
        assert_eq!(t.wait(&["k"], T + 3 + QUIET_RESET_SECS), None);
        for _ in 0..4 {
            t.fail("k", 5, T + 4000);
        }
        assert!(t.wait(&["k"], T + 4000).is_some());
        t.clear("k");
        assert_eq!(t.wait(&["k"], T + 4000), None);
    }

    #[test]
    fn parallel_attempts_cannot_all_pass_the_check() {
        let t = Throttle::default();
        let keys = [("user:alice", ACCOUNT_LIMIT), ("net:a", NETWORK_LIMIT)];
        // 300 attempts arrive before any has been verified: only 5 get through.
        let passed = (0..300).filter(|_| t.attempt(&keys, T).is_ok()).count();
        assert_eq!(passed, 5);
        // A success takes its own count back, and only its own.
        let t = Throttle::default();
        for _ in 0..3 {
            t.attempt(&keys, T).unwrap();
        }
        t.succeeded(Some("user:alice"), "net:a", NETWORK_LIMIT);
        assert_eq!(t.wait(&["user:alice"], T), None);
        for _ in 0..(NETWORK_LIMIT - 2) {
            t.attempt(&[("net:a", NETWORK_LIMIT)], T).unwrap();
        }
        assert!(
            t.attempt(&[("net:a", NETWORK_LIMIT)], T).is_err(),
            "2 + 18 = 20"
        );
    }

    #[test]
    fn registrations_are_counted_per_network_per_hour() {
        let t = Throttle::default();
        for _ in 0..REGISTRATIONS_PER_HOUR {
            assert!(t.register("net:a", T).is_ok());
        }
        assert_eq!(t.register("net:a", T + 600), Err(3000));
        assert!(t.register("net:b", T + 600).is_ok());
        assert!(t.register("net:a", T + 3600).is_ok());
    }

    #[test]
    fn names_are_keyed_without_case_or_spaces() {
        assert_eq!(account_key(" Alice "), account_key("alice"));
    }
}
