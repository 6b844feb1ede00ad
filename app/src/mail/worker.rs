//! The mail worker: one task per process, sending what the outbox holds.

use std::sync::Arc;

use lettre::message::Mailbox;

use super::outbox::{Outbox, Outcome, Queued};
use super::render::render;
use super::transport::{MailSettings, SendError, Transport};

/// Mails claimed at once: one, so that a claim lasts only as long as one send may take
/// (a mail claimed by a process that died waits that long, not a batch's time, before
/// another process sends it).
const BATCH: i64 = 1;
/// A claim's margin beyond the send's own limit (recording the outcome, a slow database).
const LEASE_MARGIN_SECS: i64 = 5;

/// What the worker needs besides the outbox.
pub struct Worker {
    pub outbox: Outbox,
    pub transport: Transport,
    pub settings: MailSettings,
    /// The shop's origin, for links (`https://shop.example.com`).
    pub origin: String,
    /// The shop's clock (a fake one in tests, so a retry comes due when a test says).
    pub clock: Arc<dyn sessions::Clock>,
}

impl Worker {
    /// Runs until the task is aborted: looks for due mail when woken (this process
    /// queued one) or every `poll`, and sends it. A database error is logged and tried
    /// again at the next look; a mail claimed when the process dies is sent by the next
    /// worker whose look comes after its claim ran out.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let more = match self.round().await {
                    Ok(n) => n == BATCH as usize,
                    Err(e) => {
                        tracing::error!(
                            error = &e as &dyn std::error::Error,
                            "mail: cannot read the outbox; trying again shortly"
                        );
                        false
                    }
                };
                if !more {
                    let _ = tokio::time::timeout(self.settings.poll, self.outbox.rung()).await;
                }
            }
        })
    }

    /// Claims one batch of due mail and sends it; returns how many were claimed.
    pub async fn round(&self) -> sqlx::Result<usize> {
        let now = self.clock.now();
        // A claim lasts while its mails may take to send, and then some.
        let lease = (self.settings.timeout.as_secs() as i64) * BATCH + LEASE_MARGIN_SECS;
        let batch = self.outbox.claim(now, BATCH, lease).await?;
        for row in &batch {
            let (outcome, error) = self.send(row).await;
            self.outbox
                .finish(row.id, outcome, self.clock.now(), &error)
                .await?;
        }
        Ok(batch.len())
    }

    /// One try of one mail. Logs what happened by id, kind and reason: never the
    /// recipient, the token or the text.
    async fn send(&self, row: &Queued) -> (Outcome, String) {
        let from: &Mailbox = &self.settings.from;
        let message = match render(row, from, &self.origin) {
            Ok(m) => m,
            Err(reason) => {
                tracing::error!(mail = row.id, kind = %row.kind, reason, "mail: cannot be made; given up");
                metrics::counter!("shop_mail_total", "result" => "failed").increment(1);
                return (Outcome::Failed, reason);
            }
        };
        match self.transport.send(message, self.settings.timeout).await {
            Ok(where_to) => {
                tracing::info!(mail = row.id, kind = %row.kind, attempt = row.attempts, "mail sent: {where_to}");
                metrics::counter!("shop_mail_total", "result" => "sent").increment(1);
                (Outcome::Sent, String::new())
            }
            Err(SendError::Permanent(reason)) => {
                tracing::error!(mail = row.id, kind = %row.kind, attempt = row.attempts, reason, "mail refused for good; given up");
                metrics::counter!("shop_mail_total", "result" => "failed").increment(1);
                (Outcome::Failed, reason)
            }
            Err(SendError::Transient(reason)) if row.attempts >= self.settings.max_attempts => {
                tracing::error!(mail = row.id, kind = %row.kind, attempt = row.attempts, reason, "mail still not sent after its last try; given up");
                metrics::counter!("shop_mail_total", "result" => "failed").increment(1);
                (Outcome::Failed, reason)
            }
            Err(SendError::Transient(reason)) => {
                let wait = retry_wait(self.settings.retry_base_secs, row.attempts);
                tracing::warn!(mail = row.id, kind = %row.kind, attempt = row.attempts, retry_in_secs = wait, reason, "mail not sent; will retry");
                metrics::counter!("shop_mail_total", "result" => "retried").increment(1);
                (Outcome::Retry(self.clock.now() + wait), reason)
            }
        }
    }
}

/// The wait before try `attempts + 1`: `base`, doubled with each try, at most an hour.
pub fn retry_wait(base: i64, attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    base.saturating_mul(1 << doublings).min(60 * 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_back_off_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|n| super::retry_wait(30, n)).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
