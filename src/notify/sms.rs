//! SMS about an account (DESIGN.md, "Outgoing messages"): their French texts, and queueing one
//! in the outbox within the caps that bound what SMS can cost (issue #17: fraud and cost).
//!
//! **Caps**, per day of the injected clock (UTC), counted in the ephemeral store *before* the
//! message is queued, so that parallel requests cannot all pass: at most
//! `sms.per_number_per_day` SMS to one number, `sms.per_address_per_day` SMS asked for from one
//! client address, `sms.per_day` SMS in all. A capped SMS is not queued; the caller answers as
//! if it had been (the pages say nothing that tells an existing number from an unknown one).
//! Every outcome is counted in `educonnect_sms_total{result}` (`queued`, `capped_number`,
//! `capped_address`, `capped_day`).

use std::time::Duration;

use crate::clock::Clock;
use crate::config::SmsConfig;
use crate::outbox::{Outgoing, Purpose, Sms};
use crate::secrets::Secret;
use crate::store::{EphemeralStore, OutboxStore};
use crate::tokens::kek::Kek;

/// The text of a code sent by SMS. No link: a code is typed where it was asked for.
pub fn code(to: &str, code: &Secret, minutes: u64) -> Sms {
    Sms {
        to: to.to_owned(),
        text: format!(
            "EduConnect : votre code de vérification est {}. Il est valable {minutes} minutes. \
             Ne le communiquez à personne, pas même à un agent de l'Éducation nationale.",
            code.expose()
        ),
    }
}

/// The text reminding the identifiers of the accounts a number is confirmed for.
pub fn identifiers(to: &str, logins: &[String]) -> Sms {
    let text = match logins {
        [one] => format!("EduConnect : votre identifiant est {one}."),
        many => format!("EduConnect : vos identifiants sont {}.", many.join(", ")),
    };
    Sms {
        to: to.to_owned(),
        text,
    }
}

/// What the outbox and the caps need.
pub struct SmsSender<'a> {
    pub outbox: &'a dyn OutboxStore,
    pub counters: &'a dyn EphemeralStore,
    pub kek: &'a Kek,
    pub clock: &'a dyn Clock,
    pub config: &'a SmsConfig,
}

/// Which cap stopped an SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    Number,
    Address,
    Day,
}

impl Cap {
    fn metric(self) -> &'static str {
        match self {
            Cap::Number => "capped_number",
            Cap::Address => "capped_address",
            Cap::Day => "capped_day",
        }
    }
}

/// What became of an SMS.
#[derive(Debug, PartialEq, Eq)]
pub enum Queued {
    /// In the outbox, under this message id.
    Queued(String),
    Capped(Cap),
}

impl SmsSender<'_> {
    /// Queues `sms` about `account_id`, asked for from `address`, unless a cap is reached
    /// (then nothing is queued and the counters are left as they were).
    pub async fn queue(
        &self,
        sms: &Sms,
        purpose: Purpose,
        account_id: Option<&str>,
        address: &str,
    ) -> anyhow::Result<Queued> {
        let day = self.clock.now_ms().div_euclid(86_400_000);
        let ttl = Duration::from_secs(2 * 86_400);
        let counters = [
            (
                format!("sms-cap:number:{}:{day}", sms.to),
                self.config.per_number_per_day,
                Cap::Number,
            ),
            (
                format!("sms-cap:address:{address}:{day}"),
                self.config.per_address_per_day,
                Cap::Address,
            ),
            (format!("sms-cap:day:{day}"), self.config.per_day, Cap::Day),
        ];
        let mut counted = Vec::new();
        for (key, cap, which) in &counters {
            let sent = self.counters.incr(key, ttl).await?;
            counted.push(key);
            if sent > *cap {
                for key in counted {
                    self.counters.decr(key).await?;
                }
                metrics::counter!("educonnect_sms_total", "result" => which.metric()).increment(1);
                tracing::warn!(cap = ?which, "SMS not sent: daily cap reached");
                return Ok(Queued::Capped(*which));
            }
        }
        let message = Outgoing::sms(self.kek, sms, purpose, account_id, self.clock.now_ms())?;
        self.outbox.enqueue(&message).await?;
        metrics::counter!("educonnect_sms_total", "result" => "queued").increment(1);
        Ok(Queued::Queued(message.id))
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;
    use crate::clock::OffsetClock;
    use crate::store::ephemeral::MemoryStore;
    use crate::store::sql::SqlStore;

    async fn store(dir: &std::path::Path) -> SqlStore {
        let url = format!("sqlite://{}", dir.join("caps.db").display());
        let store = SqlStore::connect(&url, 1).await.unwrap();
        crate::store::DurableStore::migrate(&store).await.unwrap();
        store
    }

    #[tokio::test]
    async fn caps_per_number_per_address_and_per_day_hold_until_the_next_day() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = store(dir.path()).await;
        let counters = MemoryStore::new();
        let kek = Kek::from_b64(&URL_SAFE_NO_PAD.encode([3u8; 32])).unwrap();
        let clock = OffsetClock::default();
        let config = SmsConfig {
            per_number_per_day: 2,
            per_address_per_day: 3,
            per_day: 4,
            ..SmsConfig::default()
        };
        let sender = SmsSender {
            outbox: &outbox,
            counters: &counters,
            kek: &kek,
            clock: &clock,
            config: &config,
        };
        let to = |n: &str| Sms {
            to: n.into(),
            text: "x".into(),
        };
        let send = |n: &'static str, address: &'static str| {
            let sms = to(n);
            let sender = &sender;
            async move {
                sender
                    .queue(&sms, Purpose::SmsCode, None, address)
                    .await
                    .unwrap()
            }
        };
        assert!(matches!(send("0600000001", "a").await, Queued::Queued(_)));
        assert!(matches!(send("0600000001", "a").await, Queued::Queued(_)));
        assert_eq!(send("0600000001", "a").await, Queued::Capped(Cap::Number));
        assert!(matches!(send("0600000002", "a").await, Queued::Queued(_)));
        assert_eq!(send("0600000003", "a").await, Queued::Capped(Cap::Address));
        assert!(matches!(send("0600000003", "b").await, Queued::Queued(_)));
        assert_eq!(send("0600000004", "c").await, Queued::Capped(Cap::Day));
        assert_eq!(outbox.recent_messages(10).await.unwrap().len(), 4);
        // The next day, every cap starts again.
        clock.advance(Duration::from_secs(86_400));
        assert!(matches!(send("0600000001", "a").await, Queued::Queued(_)));
    }
}
