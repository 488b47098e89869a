//! The outbox worker's pass: the due messages sent, one at a time, under the store's delivery
//! lock, so that two replicas never send the same message.
//!
//! - **Once in the normal case.** A message is marked `sent` right after the server accepted
//!   it, before the next one is sent. Only a replica that stops between the server's
//!   acceptance and that mark (a crash, a lost database connection) leaves it pending: the next
//!   pass sends it again, with the same `Message-ID`. At least once, then, never zero times.
//! - **Nothing lost.** A message leaves `pending` only when the server accepted it, or refused
//!   it for good (SMTP 5xx), or after `max_attempts` transient failures; the time of the next
//!   attempt doubles from `backoff_base_seconds` up to `backoff_max_seconds`.
//! - Time is the injected clock's, so the backoff is tested by moving it.

use std::time::Duration;

use super::{Attempt, Channel, Mailer, Message, Queued, SendError, SmsGateway};
use crate::clock::Clock;
use crate::config::OutboxConfig;
use crate::store::OutboxStore;
use crate::tokens::kek::Kek;

/// What a pass needs: the outbox, a sender per channel (a channel without one keeps its messages
/// pending: the embedded default's SMS, shown by the demo page), the key that opens the
/// bodies, the time.
pub struct Worker<'a> {
    pub store: &'a dyn OutboxStore,
    pub mailer: Option<&'a dyn Mailer>,
    pub sms: Option<&'a dyn SmsGateway>,
    pub kek: &'a Kek,
    pub clock: &'a dyn Clock,
    pub settings: &'a OutboxConfig,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Another replica holds the delivery lock: nothing was tried.
    pub skipped: bool,
    pub sent: u64,
    /// Transient failures, tried again later.
    pub retried: u64,
    /// Given up: refused for good, or out of attempts.
    pub failed: u64,
}

impl Worker<'_> {
    /// Sends the messages due now (at most `batch_size`), each once, and records each outcome.
    pub async fn deliver_due(&self) -> anyhow::Result<Pass> {
        let Some(lock) = self.store.try_lock_delivery().await? else {
            return Ok(Pass {
                skipped: true,
                ..Pass::default()
            });
        };
        // Read under the lock: every message the previous holder sent is marked by now.
        let delivered = self.deliver(self.clock.now_ms()).await;
        lock.release().await?;
        delivered
    }

    async fn deliver(&self, now_ms: i64) -> anyhow::Result<Pass> {
        let mut pass = Pass::default();
        let channels: Vec<Channel> = [
            self.mailer.map(|_| Channel::Email),
            self.sms.map(|_| Channel::Sms),
        ]
        .into_iter()
        .flatten()
        .collect();
        let due = self
            .store
            .due_messages(now_ms, &channels, i64::from(self.settings.batch_size))
            .await?;
        for queued in &due {
            let attempt = self.attempt(queued).await;
            match &attempt {
                Attempt::Sent { .. } => pass.sent += 1,
                Attempt::Retry { .. } => pass.retried += 1,
                Attempt::Failed { .. } => pass.failed += 1,
            }
            let id = &queued.message.id;
            if !self
                .store
                .record_attempt(id, queued.attempts, &attempt)
                .await?
            {
                tracing::warn!(id, "outbox message changed during its delivery");
            }
            log(queued, &attempt);
        }
        Ok(pass)
    }

    /// One attempt at one message, and what it comes to.
    async fn attempt(&self, queued: &Queued) -> Attempt {
        let id = &queued.message.id;
        let result = match queued.message.open(self.kek) {
            Ok(Message::Email(email)) => match self.mailer {
                Some(mailer) => mailer.send(id, &email).await,
                None => Err(SendError::Transient("pas de serveur SMTP".into())),
            },
            Ok(Message::Sms(sms)) => match self.sms {
                Some(gateway) => gateway.send(id, &sms).await,
                None => Err(SendError::Transient("pas d'opérateur SMS".into())),
            },
            // A body this key cannot open will not open later either.
            Err(error) => Err(SendError::Permanent(format!("corps illisible : {error}"))),
        };
        let attempts = queued.attempts + 1;
        let now = self.clock.now_ms();
        match result {
            Ok(()) => Attempt::Sent { at: now },
            Err(SendError::Permanent(error)) => Attempt::Failed { error },
            Err(SendError::Transient(error))
                if attempts >= i64::from(self.settings.max_attempts) =>
            {
                Attempt::Failed {
                    error: format!("{error} (abandon après {attempts} tentatives)"),
                }
            }
            Err(SendError::Transient(error)) => Attempt::Retry {
                next_attempt_at: now + backoff(self.settings, attempts).as_millis() as i64,
                error,
            },
        }
    }
}

/// The pause after the `attempts`-th failed attempt: the base, doubled at each further
/// failure, capped.
pub fn backoff(settings: &OutboxConfig, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(32);
    let seconds = settings
        .backoff_base_seconds
        .saturating_mul(1u64 << doublings)
        .min(settings.backoff_max_seconds);
    Duration::from_secs(seconds)
}

/// The outcome in the log and the metrics: recipient and subject are not secrets, the body is
/// never logged.
fn log(queued: &Queued, attempt: &Attempt) {
    let m = &queued.message;
    let purpose = m.purpose.as_str();
    match attempt {
        Attempt::Sent { .. } => {
            metrics::counter!("educonnect_outbox_messages_total", "result" => "sent").increment(1);
            tracing::info!(id = %m.id, purpose, "outbox message sent");
        }
        Attempt::Retry {
            next_attempt_at,
            error,
        } => {
            metrics::counter!("educonnect_outbox_messages_total", "result" => "retried")
                .increment(1);
            tracing::warn!(id = %m.id, purpose, %error, next_attempt_at, "outbox message not sent: will try again");
        }
        Attempt::Failed { error } => {
            metrics::counter!("educonnect_outbox_messages_total", "result" => "failed")
                .increment(1);
            tracing::warn!(id = %m.id, purpose, %error, "outbox message given up");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let settings = OutboxConfig {
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            ..OutboxConfig::default()
        };
        let pauses: Vec<u64> = (1..=9).map(|n| backoff(&settings, n).as_secs()).collect();
        assert_eq!(pauses, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(&settings, 10_000).as_secs(), 3600);
    }
}
