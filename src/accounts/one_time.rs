//! Single-use codes sent to a person (DESIGN.md: "one mechanism for single-use secrets"): the
//! six-digit code that confirms an e-mail address, a recovery's SMS code, and a recovery link's
//! token (`issue_with` a longer lifetime and `link_token`; `peek` shows it unspent). A
//! code is kept only as a digest, in the ephemeral store, with a TTL; what it proves (the address
//! it was sent to) is stored with it, so a code only ever confirms what it was sent for.
//!
//! - **Few attempts**: each code allows `attempts_per_code` tries, counted *before* the check
//!   (of parallel tries, no more than that many are ever checked); then it is gone.
//! - **Throttled**: every try is also counted on the subject's and the client address's
//!   throttle counters (`accounts::throttle`), like a password.
//! - **Single use**: the code is taken atomically (`take`): of two right answers at once, one
//!   wins and the other finds it spent.
//! - **Bounded sending**: a subject gets at most `sends_per_hour` codes, so nobody can make the
//!   service mail an address over and over.
//!
//! Attachment codes (`accounts::linking::codes`) live thirty days in the durable store, but are
//! tried through the same throttle.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::accounts::throttle;
use crate::config::{CodeConfig, ThrottleConfig};
use crate::secrets::{constant_time_eq, digest, random_b64, Secret};
use crate::store::EphemeralStore;

/// What a code is for, and whose: one code per purpose and subject at a time (a new one
/// replaces it).
#[derive(Clone, Debug)]
pub struct Subject {
    /// `email-confirmation`, …
    pub purpose: &'static str,
    /// The account, or whatever the code is tied to.
    pub id: String,
}

impl Subject {
    // `{…}`: a Redis Cluster hash tag, so the code and its tries stay on one slot.
    fn code_key(&self) -> String {
        format!("otc:{{{}:{}}}", self.purpose, self.id)
    }

    fn tries_key(&self) -> String {
        format!("otc:{{{}:{}}}:tries", self.purpose, self.id)
    }

    /// The subject's sends in the hour of `now_ms`, by the service's clock.
    fn sends_key(&self, now_ms: i64) -> String {
        let hour = now_ms.div_euclid(3_600_000);
        format!("otc-sent:{}:{}:{hour}", self.purpose, self.id)
    }

    fn throttle_subject(&self) -> String {
        format!("code:{}:{}", self.purpose, self.id)
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    digest: String,
    /// What the code proves once typed (the address it was sent to).
    proves: String,
    /// Until when it may be used, by the service's (injected) clock: the store's TTL drops it
    /// about then, this decides exactly (and lets tests move time instead of sleeping).
    #[serde(default)]
    expires_at_ms: i64,
}

impl Stored {
    fn expired(&self, now_ms: i64) -> bool {
        self.expires_at_ms != 0 && now_ms >= self.expires_at_ms
    }
}

/// A code just issued: six digits, for the message only.
pub struct Issued {
    pub code: Secret,
}

/// Issues a new code for `subject`, proving `proves`, at `now_ms`; the previous one stops
/// working. `None` when the subject was sent too many codes in this hour of the service's clock
/// (nothing issued).
pub async fn issue(
    store: &dyn EphemeralStore,
    config: &CodeConfig,
    subject: &Subject,
    proves: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Issued>> {
    let ttl = Duration::from_secs(config.ttl_seconds);
    issue_with(store, config, ttl, six_digits, subject, proves, now_ms).await
}

/// Six digits: what a person types from an e-mail or an SMS.
pub fn six_digits() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// 32 random bytes, URL-safe: a secret carried in a link (a recovery link), never typed.
pub fn link_token() -> String {
    random_b64(32)
}

/// `issue`, with its own lifetime and secret (`link_token` for a link): the same digest, the
/// same tries, the same cap on sending, the same atomic taking.
pub async fn issue_with(
    store: &dyn EphemeralStore,
    config: &CodeConfig,
    ttl: Duration,
    secret: fn() -> String,
    subject: &Subject,
    proves: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Issued>> {
    let sends_key = subject.sends_key(now_ms);
    let sent = store.incr(&sends_key, Duration::from_secs(7200)).await?;
    if sent > config.sends_per_hour {
        store.decr(&sends_key).await?;
        return Ok(None);
    }
    let code = secret();
    let stored = Stored {
        digest: digest(code.as_bytes()),
        proves: proves.to_owned(),
        expires_at_ms: now_ms.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)),
    };
    store.delete(&subject.tries_key()).await?;
    store
        .put(&subject.code_key(), &serde_json::to_vec(&stored)?, ttl)
        .await?;
    Ok(Some(Issued {
        code: Secret::from_presented(&code),
    }))
}

/// Whether `typed` is `subject`'s current secret, without spending it or one of its tries:
/// what a page opened from a link shows before the person answers (mail scanners open links;
/// only the answer, through `try_code`, spends it). Throttled like a try; a wrong secret counts
/// as a failure on the subject's and the address's counters.
pub async fn peek(
    store: &dyn EphemeralStore,
    throttle_config: &ThrottleConfig,
    subject: &Subject,
    typed: &str,
    address: &str,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let counters = throttle::subject(throttle_config, &subject.throttle_subject(), address);
    let Some(attempt) = throttle::begin(store, throttle_config, now_ms, counters).await? else {
        return Ok(None);
    };
    let Some(raw) = store.get(&subject.code_key()).await? else {
        attempt.failed();
        return Ok(None);
    };
    let stored: Stored = serde_json::from_slice(&raw)?;
    if stored.expired(now_ms) {
        attempt.passed(store).await?;
        return Ok(None);
    }
    if !constant_time_eq(&stored.digest, &digest(typed.as_bytes())) {
        attempt.failed();
        return Ok(None);
    }
    attempt.passed(store).await?;
    Ok(Some(stored.proves))
}

/// What the subject's live code would prove (the address or number it was sent to), if one
/// is waiting: so a page can say where the code went without keeping that anywhere else.
pub async fn pending(
    store: &dyn EphemeralStore,
    subject: &Subject,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let Some(raw) = store.get(&subject.code_key()).await? else {
        return Ok(None);
    };
    let stored: Stored = serde_json::from_slice(&raw)?;
    Ok((!stored.expired(now_ms)).then_some(stored.proves))
}

/// Withdraws the subject's live code, if any (it could not be sent, or the person gave up).
pub async fn withdraw(store: &dyn EphemeralStore, subject: &Subject) -> anyhow::Result<()> {
    store.delete(&subject.code_key()).await?;
    store.delete(&subject.tries_key()).await
}

/// What trying a code found.
#[derive(Debug, PartialEq, Eq)]
pub enum Tried {
    /// The right code: spent now; what it proves.
    Valid(String),
    /// Not the code; it may be tried `left` more times.
    Wrong { left: u64 },
    /// No code to try: never sent, expired, used, or out of tries. A new one must be asked for.
    Spent,
    /// Too many tries for this subject or from this address: nothing was checked.
    Throttled,
}

/// Tries `typed` (spaces ignored) as `subject`'s code, from `address`, at `now_ms`.
pub async fn try_code(
    store: &dyn EphemeralStore,
    config: &CodeConfig,
    throttle_config: &ThrottleConfig,
    subject: &Subject,
    typed: &str,
    address: &str,
    now_ms: i64,
) -> anyhow::Result<Tried> {
    let counters = throttle::subject(throttle_config, &subject.throttle_subject(), address);
    let Some(attempt) = throttle::begin(store, throttle_config, now_ms, counters).await? else {
        return Ok(Tried::Throttled);
    };
    let ttl = Duration::from_secs(config.ttl_seconds);
    // Counted before the check: parallel tries cannot all be checked.
    let tries = store.incr(&subject.tries_key(), ttl).await?;
    if tries > config.attempts_per_code {
        store.delete(&subject.code_key()).await?;
        attempt.failed();
        return Ok(Tried::Spent);
    }
    let Some(raw) = store.get(&subject.code_key()).await? else {
        attempt.passed(store).await?;
        return Ok(Tried::Spent);
    };
    let stored: Stored = serde_json::from_slice(&raw)?;
    if stored.expired(now_ms) {
        // Past its lifetime: gone, whatever was typed (a new code must be asked for).
        store.delete(&subject.code_key()).await?;
        attempt.passed(store).await?;
        return Ok(Tried::Spent);
    }
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if !constant_time_eq(&stored.digest, &digest(typed.as_bytes())) {
        attempt.failed();
        if tries == config.attempts_per_code {
            store.delete(&subject.code_key()).await?;
            return Ok(Tried::Spent);
        }
        return Ok(Tried::Wrong {
            left: config.attempts_per_code - tries,
        });
    }
    // Taken, not deleted: of two right answers at once only one finds it; and it must still
    // be the code just checked (not one issued meanwhile).
    let taken = store.take(&subject.code_key()).await?;
    attempt.passed(store).await?;
    match taken {
        Some(value) if value == raw => {
            store.delete(&subject.tries_key()).await?;
            Ok(Tried::Valid(stored.proves))
        }
        _ => Ok(Tried::Spent),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const NOW: i64 = 1_000;
    use crate::store::ephemeral::MemoryStore;

    fn configs() -> (CodeConfig, ThrottleConfig) {
        (
            CodeConfig::default(),
            ThrottleConfig {
                window_seconds: 900,
                failures_per_account: 10,
                failures_per_address: 100,
                trusted_device_days: 0,
            },
        )
    }

    fn subject() -> Subject {
        Subject {
            purpose: "email-confirmation",
            id: "account-1".into(),
        }
    }

    #[tokio::test]
    async fn a_code_proves_what_it_was_sent_for_once() {
        let store = MemoryStore::new();
        let (codes, throttle) = configs();
        let issued = issue(&store, &codes, &subject(), "lea@example.org", NOW)
            .await
            .unwrap()
            .unwrap();
        let code = issued.code.expose().to_owned();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        let tried = try_code(&store, &codes, &throttle, &subject(), &spaced, "a", NOW).await;
        assert_eq!(tried.unwrap(), Tried::Valid("lea@example.org".into()));
        let again = try_code(&store, &codes, &throttle, &subject(), &code, "a", NOW).await;
        assert_eq!(again.unwrap(), Tried::Spent);
    }

    #[tokio::test]
    async fn a_code_allows_few_tries_then_is_gone() {
        let store = MemoryStore::new();
        let (codes, throttle) = configs();
        let issued = issue(&store, &codes, &subject(), "x", NOW)
            .await
            .unwrap()
            .unwrap();
        let wrong = if issued.code.expose() == "000000" {
            "111111"
        } else {
            "000000"
        };
        for left in (1..codes.attempts_per_code).rev() {
            let tried = try_code(&store, &codes, &throttle, &subject(), wrong, "a", NOW).await;
            assert_eq!(tried.unwrap(), Tried::Wrong { left });
        }
        let last = try_code(&store, &codes, &throttle, &subject(), wrong, "a", NOW).await;
        assert_eq!(last.unwrap(), Tried::Spent);
        // Even the right code is too late now.
        let right = issued.code.expose();
        let after = try_code(&store, &codes, &throttle, &subject(), right, "a", NOW).await;
        assert_eq!(after.unwrap(), Tried::Spent);
    }

    #[tokio::test]
    async fn a_new_code_replaces_the_previous_one_and_sending_is_capped() {
        let store = MemoryStore::new();
        let (codes, throttle) = configs();
        let first = issue(&store, &codes, &subject(), "x", NOW)
            .await
            .unwrap()
            .unwrap();
        let second = issue(&store, &codes, &subject(), "y", NOW)
            .await
            .unwrap()
            .unwrap();
        let s = subject();
        if first.code.expose() != second.code.expose() {
            let old = try_code(&store, &codes, &throttle, &s, first.code.expose(), "a", NOW).await;
            assert!(matches!(old.unwrap(), Tried::Wrong { .. }));
        }
        let new = try_code(
            &store,
            &codes,
            &throttle,
            &s,
            second.code.expose(),
            "a",
            NOW,
        )
        .await;
        assert_eq!(new.unwrap(), Tried::Valid("y".into()));
        for _ in 2..codes.sends_per_hour {
            assert!(issue(&store, &codes, &subject(), "z", NOW)
                .await
                .unwrap()
                .is_some());
        }
        assert!(issue(&store, &codes, &subject(), "z", NOW)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn the_cap_on_sending_lets_go_when_the_clock_enters_the_next_hour() {
        let store = MemoryStore::new();
        let (codes, _) = configs();
        let hour = 3_600_000;
        let start = 10 * hour + 1_000;
        for _ in 0..codes.sends_per_hour {
            assert!(issue(&store, &codes, &subject(), "z", start)
                .await
                .unwrap()
                .is_some());
        }
        // Later in the same hour of the service's clock: still capped.
        let same_hour = 11 * hour - 1;
        assert!(issue(&store, &codes, &subject(), "z", same_hour)
            .await
            .unwrap()
            .is_none());
        // The next hour: sending starts again, without any time passing for the store.
        assert!(issue(&store, &codes, &subject(), "z", 11 * hour)
            .await
            .unwrap()
            .is_some());
    }

    #[tokio::test]
    async fn a_link_secret_is_seen_without_being_spent_then_taken_once() {
        let store = MemoryStore::new();
        let (codes, throttle) = configs();
        let ttl = Duration::from_secs(1800);
        let s = subject();
        let issued = issue_with(&store, &codes, ttl, link_token, &s, "account-1", NOW)
            .await
            .unwrap()
            .unwrap();
        let token = issued.code.expose().to_owned();
        assert!(token.len() >= 43);
        for _ in 0..(codes.attempts_per_code + 2) {
            let seen = peek(&store, &throttle, &s, &token, "a", NOW).await.unwrap();
            assert_eq!(seen.as_deref(), Some("account-1"));
        }
        assert_eq!(
            peek(&store, &throttle, &s, "x", "a", NOW).await.unwrap(),
            None
        );
        let tried = try_code(&store, &codes, &throttle, &s, &token, "a", NOW).await;
        assert_eq!(tried.unwrap(), Tried::Valid("account-1".into()));
        assert_eq!(
            peek(&store, &throttle, &s, &token, "a", NOW).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn of_parallel_right_answers_one_wins() {
        let store = Arc::new(MemoryStore::new());
        let (codes, throttle) = configs();
        let issued = issue(&*store, &codes, &subject(), "x", NOW)
            .await
            .unwrap()
            .unwrap();
        let code = issued.code.expose().to_owned();
        let tries = (0..4).map(|_| {
            let (store, codes, throttle, code) =
                (store.clone(), codes.clone(), throttle.clone(), code.clone());
            tokio::spawn(async move {
                try_code(&*store, &codes, &throttle, &subject(), &code, "a", NOW)
                    .await
                    .unwrap()
            })
        });
        let mut valid = 0;
        for t in tries {
            if matches!(t.await.unwrap(), Tried::Valid(_)) {
                valid += 1;
            }
        }
        assert_eq!(valid, 1);
    }

    #[tokio::test]
    async fn tries_are_throttled_per_subject_across_codes() {
        let store = MemoryStore::new();
        let (codes, mut throttle) = configs();
        throttle.failures_per_account = 3;
        for _ in 0..3 {
            let issued = issue(&store, &codes, &subject(), "x", NOW)
                .await
                .unwrap()
                .unwrap();
            let wrong = if issued.code.expose() == "000000" {
                "111111"
            } else {
                "000000"
            };
            let tried = try_code(&store, &codes, &throttle, &subject(), wrong, "a", NOW).await;
            assert!(matches!(tried.unwrap(), Tried::Wrong { .. }));
        }
        let issued = issue(&store, &codes, &subject(), "x", NOW)
            .await
            .unwrap()
            .unwrap();
        let right = issued.code.expose();
        let tried = try_code(&store, &codes, &throttle, &subject(), right, "a", NOW).await;
        assert_eq!(tried.unwrap(), Tried::Throttled);
    }

    #[tokio::test]
    async fn a_code_past_its_lifetime_by_the_service_clock_is_spent() {
        let store = MemoryStore::new();
        let (codes, throttle) = configs();
        let issued = issue(&store, &codes, &subject(), "x", NOW)
            .await
            .unwrap()
            .unwrap();
        let code = issued.code.expose().to_owned();
        let later = NOW + codes.ttl_seconds as i64 * 1000;
        assert_eq!(pending(&store, &subject(), later).await.unwrap(), None);
        let tried = try_code(&store, &codes, &throttle, &subject(), &code, "a", later).await;
        assert_eq!(tried.unwrap(), Tried::Spent);
        // Gone for good: even at an earlier time it does not come back.
        let again = try_code(&store, &codes, &throttle, &subject(), &code, "a", NOW).await;
        assert_eq!(again.unwrap(), Tried::Spent);
    }
}
