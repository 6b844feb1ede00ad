//! The account's security log, as the account side keeps it (ssr only): reading it,
//! counting refused sign-ins, and pruning what is past its retention.
//!
//! The rows for what happens to sessions (sign-ins, sign-outs, revocations, password
//! changes) are written by the session engine, in the same transaction as the change
//! itself (`sessions::events`); a refused sign-in changes no session and is counted here.

use db::{on, Db};
use sessions::{truncate, Event, EventKind, SessionStore};

use super::model::LogKind;

/// One row of an account's security log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub kind: LogKind,
    /// When it (first) happened, unix seconds.
    pub at: i64,
    /// When it last happened (differs from `at` for counted kinds).
    pub last_at: i64,
    /// How many times (refused sign-ins are counted per network and day).
    pub count: i64,
    /// The device's user agent, as it sent it (empty if unknown).
    pub user_agent: String,
    /// The coarse network (`203.0.113.x`, or an IPv6 /48), empty if unknown.
    pub network: String,
}

/// The kind a logged event is shown as; `None` for kinds the log does not keep. Every
/// event kind is matched here, so a new one must be decided on.
pub fn log_kind(kind: EventKind) -> Option<LogKind> {
    Some(match kind {
        EventKind::SignedIn => LogKind::SignedIn,
        EventKind::SignedOut => LogKind::SignedOut,
        EventKind::Revoked => LogKind::Revoked,
        EventKind::RevokedOthers => LogKind::RevokedOthers,
        EventKind::PasswordChanged => LogKind::PasswordChanged,
        EventKind::SignInRefused => LogKind::SignInRefused,
        EventKind::SignedInWithPasskey => LogKind::SignedInWithPasskey,
        EventKind::PasskeyAdded => LogKind::PasskeyAdded,
        EventKind::PasskeyRemoved => LogKind::PasskeyRemoved,
        EventKind::PasskeyRefused => LogKind::PasskeyRefused,
        EventKind::Expired
        | EventKind::CartChanged
        | EventKind::OrderPlaced
        | EventKind::Resync => return None,
    })
}

/// Counts a refused sign-in as `user_id` from `network` (the coarse address): one row
/// per network and day, its count going up, never one row per guess. Published so the
/// user's open account page can show it.
pub async fn count_refused(
    db: &Db,
    sessions: &SessionStore,
    user_id: i64,
    network: &str,
) -> Result<(), sqlx::Error> {
    let now = sessions.now();
    on!(db.writer(), p => {
        sqlx::query(
            "INSERT INTO security_events (user_id, kind, at, last_at, network, bucket)
             VALUES ($1, $2, $3, $3, $4, $5)
             ON CONFLICT (user_id, kind, network, bucket)
             DO UPDATE SET count = security_events.count + 1, last_at = $3",
        )
        .bind(user_id)
        .bind(EventKind::SignInRefused.name())
        .bind(now)
        .bind(truncate(network, 64))
        .bind(now.div_euclid(86_400))
        .execute(p)
        .await
        .map(|_| ())
    })?;
    sessions.publish(Event::new(EventKind::SignInRefused, Some(user_id), None));
    Ok(())
}

/// The security log of `user_id` since `since` (unix seconds), newest first, at most
/// `limit` rows. A row of a kind this build does not know (written by a newer one) is
/// skipped.
pub async fn read(
    db: &Db,
    user_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<LogEntry>, sqlx::Error> {
    type Row = (String, i64, i64, i64, String, String);
    let rows: Vec<Row> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT kind, at, last_at, count, user_agent, network FROM security_events
              WHERE user_id = $1 AND last_at >= $2
              ORDER BY last_at DESC, id DESC
              LIMIT $3",
        )
        .bind(user_id)
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, at, last_at, count, user_agent, network)| {
            let kind = EventKind::from_name(&kind).and_then(log_kind)?;
            Some(LogEntry {
                kind,
                at,
                last_at,
                count,
                user_agent,
                network,
            })
        })
        .collect())
}

/// Deletes the rows last touched before `before`. Returns how many went.
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    on!(db.writer(), p => {
        sqlx::query("DELETE FROM security_events WHERE last_at < $1")
            .bind(before)
            .execute(p)
            .await
            .map(|done| done.rows_affected())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_exactly_the_kinds_the_engine_logs() {
        for &kind in EventKind::ALL {
            let shown = log_kind(kind);
            assert_eq!(shown.is_some(), kind.is_logged(), "{kind:?}");
            if let Some(shown) = shown {
                assert_eq!(shown.name(), kind.name(), "{kind:?}");
            }
        }
    }
}
