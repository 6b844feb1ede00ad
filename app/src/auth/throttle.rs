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
//! Registrations count per client network: at most `REGISTRATIONS_PER_HOUR`. New guest
//! sessions too: at most `GUESTS_PER_WINDOW` per `GUEST_WINDOW_SECS`.
//!
//! Time comes from the session store's clock, so tests move it instead of sleeping.
//! Counters live in the database (`throttle_failures`, `throttle_windows`), so
//! every server process on it counts the same attempts and a restart forgets nothing;
//! the collector prunes quiet rows. The rules are pure functions on one key's counters
//! ([`Failures::fail`]) applied in one transaction per attempt, and one statement per
//! registration, so an attempt cancelled half-way leaves nothing half-counted.
//! (A crate such as governor limits the *rate of all requests*, in memory; what is needed
//! here is a count of *failures* with a backoff that grows, on the app's own clock,
//! shared by every process.)

use db::{on, Db};

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
const REGISTRATION_WINDOW_SECS: i64 = 60 * 60;
/// New guest sessions (carts of anonymous visitors) per client network per window.
/// Generous for people: 200 different visitors starting a cart within 10 minutes from
/// one /24 (or IPv6 /48) is a very busy office, campus or carrier NAT. Tight for a flood:
/// a client that starts a session per request gets 200 rows per 10 minutes instead of
/// thousands a second, and since guest sessions expire after the idle timeout (30
/// minutes), a network can hold at most about 600 live guest sessions.
pub const GUESTS_PER_WINDOW: u32 = 200;
pub const GUEST_WINDOW_SECS: i64 = 10 * 60;
/// "Forgot your password?" forms per client network per hour (`forgot:<network>`).
pub const FORGOT_PER_HOUR: u32 = 20;
/// Mails with a link one account may be sent per hour: reset links (`reset:<user>`) and
/// verification links (`verify:<user>`), each counted apart.
pub const LINK_MAILS_PER_HOUR: u32 = 3;
const MAIL_WINDOW_SECS: i64 = 60 * 60;

/// One key's failure counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Failures {
    pub count: i64,
    pub last_at: i64,
    pub blocked_until: i64,
}

impl Failures {
    /// Seconds this key must still wait at `now`, if any.
    pub fn wait(&self, now: i64) -> Option<u64> {
        (self.blocked_until > now).then(|| (self.blocked_until - now) as u64)
    }

    /// The counters after one more failure at `now`: from the `limit`-th failure on, a
    /// wait of 1 minute, doubling with each further failure, at most 15; a key quiet for
    /// an hour starts afresh.
    pub fn fail(self, limit: u32, now: i64) -> Failures {
        let mut f = if now - self.last_at >= QUIET_RESET_SECS {
            Failures::default()
        } else {
            self
        };
        f.count += 1;
        f.last_at = now;
        if f.count >= i64::from(limit) {
            let doublings = (f.count - i64::from(limit)).min(10);
            f.blocked_until = now + (BASE_WAIT_SECS << doublings).min(MAX_WAIT_SECS);
        }
        f
    }
}

/// Key of an account: the name as typed, without regard to case or surrounding space.
pub fn account_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

/// Key of a client network.
pub fn network_key(coarse_ip: &str) -> String {
    format!("net:{coarse_ip}")
}

/// The throttle, over the shop's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Throttle {
    db: Db,
    registrations_per_hour: u32,
}

impl Throttle {
    pub fn new(db: Db) -> Self {
        Throttle {
            db,
            registrations_per_hour: REGISTRATIONS_PER_HOUR,
        }
    }

    /// The same, allowing `n` registrations per client network per hour (a campus or a
    /// test suite behind one address may need more than [`REGISTRATIONS_PER_HOUR`]).
    pub fn with_registrations_per_hour(mut self, n: u32) -> Self {
        self.registrations_per_hour = n;
        self
    }

    /// Starts an attempt for `keys` (each with its limit, checked in this order):
    /// `Err(wait)` if one of them must wait, and then nothing is counted; otherwise the
    /// attempt is counted as a failure of every key at once, in the same transaction as
    /// the check, with the keys' rows locked (on SQLite, the database's write lock), so
    /// attempts sent in parallel, to any process, cannot all slip past it. A successful
    /// attempt takes its count back with [`Throttle::succeeded`].
    pub async fn attempt(
        &self,
        keys: &[(&str, u32)],
        now: i64,
    ) -> Result<Result<(), u64>, sqlx::Error> {
        let begin = self.db.pick("BEGIN IMMEDIATE", "BEGIN");
        let lock = self.db.pick(
            "SELECT count, last_at, blocked_until FROM throttle_failures WHERE key = $1",
            "SELECT count, last_at, blocked_until FROM throttle_failures WHERE key = $1 FOR UPDATE",
        );
        on!(self.db.writer(), p => {
            let mut tx = p.begin_with(begin).await?;
            let mut counted = Vec::with_capacity(keys.len());
            for (key, limit) in keys {
                // The row exists before it is locked (a lock cannot hold a missing row).
                // A refused attempt rolls this back, so refusals leave no rows behind.
                sqlx::query(
                    "INSERT INTO throttle_failures (key, count, last_at, blocked_until)
                     VALUES ($1, 0, 0, 0) ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .execute(&mut *tx)
                .await?;
                let f: Failures = sqlx::query_as(lock).bind(key).fetch_one(&mut *tx).await?;
                if let Some(wait) = f.wait(now) {
                    return Ok(Err(wait));
                }
                counted.push((key, f.fail(*limit, now)));
            }
            for (key, f) in counted {
                sqlx::query(
                    "UPDATE throttle_failures SET count = $2, last_at = $3, blocked_until = $4
                      WHERE key = $1",
                )
                .bind(key)
                .bind(f.count)
                .bind(f.last_at)
                .bind(f.blocked_until)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    /// Takes back a successful attempt: the account's failures are forgotten; the
    /// network keeps its earlier ones (one good account must not launder the failures of
    /// a client guessing at others) but not this attempt's.
    pub async fn succeeded(
        &self,
        account: Option<&str>,
        network: &str,
        network_limit: u32,
    ) -> Result<(), sqlx::Error> {
        if let Some(account) = account {
            self.clear(account).await?;
        }
        on!(self.db.writer(), p => {
            sqlx::query(
                "UPDATE throttle_failures
                    SET count = CASE WHEN count > 0 THEN count - 1 ELSE 0 END,
                        blocked_until = CASE WHEN count - 1 < $2 THEN 0 ELSE blocked_until END
                  WHERE key = $1",
            )
            .bind(network)
            .bind(i64::from(network_limit))
            .execute(p)
            .await
            .map(|_| ())
        })
    }

    /// Forgets the failures of `key` (after a successful sign-in to that account).
    pub async fn clear(&self, key: &str) -> Result<(), sqlx::Error> {
        on!(self.db.writer(), p => {
            sqlx::query("DELETE FROM throttle_failures WHERE key = $1")
                .bind(key)
                .execute(p)
                .await
                .map(|_| ())
        })
    }

    /// Counts a registration attempt from `network`; `Err(wait)` once the hourly quota is
    /// used up.
    pub async fn register(&self, network: &str, now: i64) -> Result<Result<(), u64>, sqlx::Error> {
        self.window(
            &format!("register:{network}"),
            self.registrations_per_hour,
            REGISTRATION_WINDOW_SECS,
            now,
        )
        .await
    }

    /// Counts a new guest session (an anonymous visitor's first add to cart) from
    /// `network`; `Err(wait)` once the quota of the current window is used up.
    pub async fn new_guest(&self, network: &str, now: i64) -> Result<Result<(), u64>, sqlx::Error> {
        self.window(
            &format!("guest:{network}"),
            GUESTS_PER_WINDOW,
            GUEST_WINDOW_SECS,
            now,
        )
        .await
    }

    /// Counts a "forgot your password?" form from `network`; `Err(wait)` past the hourly
    /// quota.
    pub async fn forgot(&self, network: &str, now: i64) -> Result<Result<(), u64>, sqlx::Error> {
        let key = format!("forgot:{network}");
        self.window(&key, FORGOT_PER_HOUR, MAIL_WINDOW_SECS, now)
            .await
    }

    /// Counts a mail with a link (`purpose` "reset" or "verify") to account `user_id`;
    /// `Err(wait)` past the hourly quota.
    pub async fn link_mail(
        &self,
        purpose: &str,
        user_id: i64,
        now: i64,
    ) -> Result<Result<(), u64>, sqlx::Error> {
        let key = format!("{purpose}:{user_id}");
        self.window(&key, LINK_MAILS_PER_HOUR, MAIL_WINDOW_SECS, now)
            .await
    }

    /// Counts one event of `key` in a fixed window of `secs` seconds that starts at its
    /// first event; `Err(wait)` once `limit` events were counted in the current window.
    /// One statement: concurrent events, on any process, cannot overshoot the limit.
    async fn window(
        &self,
        key: &str,
        limit: u32,
        secs: i64,
        now: i64,
    ) -> Result<Result<(), u64>, sqlx::Error> {
        let counted: Option<i64> = on!(self.db.writer(), p => {
            sqlx::query_scalar(
                "INSERT INTO throttle_windows (key, count, started_at)
                 VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE
                    SET count = CASE WHEN $2 - throttle_windows.started_at >= $3 THEN 1
                                     ELSE throttle_windows.count + 1 END,
                        started_at = CASE WHEN $2 - throttle_windows.started_at >= $3 THEN $2
                                          ELSE throttle_windows.started_at END
                  WHERE $2 - throttle_windows.started_at >= $3
                     OR throttle_windows.count < $4
                 RETURNING count",
            )
            .bind(key)
            .bind(now)
            .bind(secs)
            .bind(i64::from(limit))
            .fetch_optional(p)
            .await
        })?;
        if counted.is_some() {
            return Ok(Ok(()));
        }
        let started: Option<i64> = on!(self.db.writer(), p => {
            sqlx::query_scalar("SELECT started_at FROM throttle_windows WHERE key = $1")
                .bind(key)
                .fetch_optional(p)
                .await
        })?;
        let started = started.unwrap_or(now);
        Ok(Err((started + secs - now).max(1) as u64))
    }

    /// Seconds `key` must still wait (for tests and the account page).
    pub async fn wait(&self, key: &str, now: i64) -> Result<Option<u64>, sqlx::Error> {
        let f: Option<Failures> = on!(self.db.reader(), p => {
            sqlx::query_as(
                "SELECT count, last_at, blocked_until FROM throttle_failures WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(p)
            .await
        })?;
        Ok(f.and_then(|f| f.wait(now)))
    }

    /// Deletes the counters that no longer matter at `now`: failures quiet for the reset
    /// period and not blocking, registration windows that are over. Returns how many.
    pub async fn prune(&self, now: i64) -> Result<u64, sqlx::Error> {
        on!(self.db.writer(), p => {
            let a = sqlx::query(
                "DELETE FROM throttle_failures WHERE last_at <= $1 AND blocked_until <= $2",
            )
            .bind(now - QUIET_RESET_SECS)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected();
            // The longest window is an hour.
            let longest = REGISTRATION_WINDOW_SECS.max(GUEST_WINDOW_SECS).max(MAIL_WINDOW_SECS);
            let b = sqlx::query("DELETE FROM throttle_windows WHERE started_at <= $1")
                .bind(now - longest)
                .execute(p)
                .await?
                .rows_affected();
            Ok(a + b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    #[test]
    fn the_fifth_failure_starts_a_doubling_wait_capped_at_fifteen_minutes() {
        let mut f = Failures::default();
        for i in 0..4 {
            f = f.fail(ACCOUNT_LIMIT, T + i);
            assert_eq!(f.wait(T + i), None);
        }
        f = f.fail(ACCOUNT_LIMIT, T + 4);
        assert_eq!(f.wait(T + 4), Some(60));
        assert_eq!(f.wait(T + 64), None, "the wait ends");
        let mut now = T + 64;
        for expected in [120, 240, 480, 900, 900] {
            f = f.fail(ACCOUNT_LIMIT, now);
            assert_eq!(f.wait(now), Some(expected));
            now += expected as i64;
        }
        assert_eq!(f.wait(now - 1), Some(1));
    }

    #[test]
    fn quiet_for_an_hour_starts_afresh() {
        let mut f = Failures::default();
        for i in 0..4 {
            f = f.fail(5, T + i);
        }
        f = f.fail(5, T + 3 + QUIET_RESET_SECS);
        assert_eq!(f.count, 1);
        assert_eq!(f.wait(T + 3 + QUIET_RESET_SECS), None);
    }

    #[test]
    fn names_are_keyed_without_case_or_spaces() {
        assert_eq!(account_key(" Alice "), account_key("alice"));
    }
}
