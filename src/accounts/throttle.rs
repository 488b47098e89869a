//! Throttling of checks that guess at a secret (passwords, attachment codes, administration
//! tokens), in the ephemeral store so every replica counts together. The same answer is given
//! whether or not the login exists.
//!
//! Review #13.1: an attempt is counted *before* its check runs, with one atomic increment per
//! counter, and the check runs only if every counter stayed within its limit. Of any number of
//! parallel attempts, at most the limit are ever checked in a window (reading the counters and
//! increasing them after the check let 99 parallel guesses all be checked). An attempt whose
//! check passed is given back, so successes never count as failures.
//!
//! Windows follow the service's injected clock, not the store's: a counter's key names its
//! window (`now / window`), so a window ends when the clock passes it, and tests move time
//! instead of sleeping. The store's TTL (two windows) only bounds growth. Fixed windows let at
//! most twice a limit through across one boundary, which the limits are set for.

use std::time::Duration;

use crate::config::ThrottleConfig;
use crate::secrets::digest;
use crate::store::EphemeralStore;

/// One counter an attempt is counted on, and the most attempts it allows in a window.
pub struct Counter {
    key: String,
    limit: u64,
}

/// The window `now_ms` falls in, by the injected clock.
#[derive(Clone, Copy)]
struct Window {
    index: i64,
    length: Duration,
}

impl Window {
    fn at(config: &ThrottleConfig, now_ms: i64) -> Window {
        let length_ms = i64::try_from(config.window_seconds.max(1))
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        Window {
            index: now_ms.div_euclid(length_ms),
            length: Duration::from_secs(config.window_seconds.max(1)),
        }
    }

    fn key(&self, counter: &Counter) -> String {
        format!("{}:w{}", counter.key, self.index)
    }
}

fn account_key(login: &str) -> String {
    format!("throttle:login:{}", digest(login.as_bytes()))
}

/// The counters of a password attempt on `login` from `address` in an unrecognized browser.
pub fn login(config: &ThrottleConfig, login: &str, address: &str) -> Vec<Counter> {
    vec![
        Counter {
            key: account_key(login),
            limit: config.failures_per_account,
        },
        by_address(config, address),
    ]
}

/// The counter of a password attempt from a browser that recently logged in to the account
/// (ADR 0008): its own, so failures elsewhere never lock it out.
pub fn trusted_device(config: &ThrottleConfig, device: &str) -> Vec<Counter> {
    vec![Counter {
        key: format!("throttle:device:{device}"),
        limit: config.failures_per_account,
    }]
}

/// The counters of another check guarded like a password: `subject` (e.g. an attachment code
/// tried by one guardian) and the client address.
pub fn subject(config: &ThrottleConfig, subject: &str, address: &str) -> Vec<Counter> {
    vec![
        Counter {
            key: format!("throttle:{subject}"),
            limit: config.failures_per_account,
        },
        by_address(config, address),
    ]
}

/// A counter of its own (wrong administration tokens from one address).
pub fn single(config: &ThrottleConfig, key: &str) -> Vec<Counter> {
    vec![Counter {
        key: format!("throttle:{key}"),
        limit: config.failures_per_account,
    }]
}

fn by_address(config: &ThrottleConfig, address: &str) -> Counter {
    Counter {
        key: format!("throttle:addr:{address}"),
        limit: config.failures_per_address,
    }
}

/// True when one of `counters` has no attempt left in this window. A reading only (for tests
/// and operators): a check goes through `begin`, which counts and decides in one step.
pub async fn exhausted(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    now_ms: i64,
    counters: &[Counter],
) -> anyhow::Result<bool> {
    let window = Window::at(config, now_ms);
    for counter in counters {
        if store.counter(&window.key(counter)).await? >= counter.limit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An attempt counted on its counters, whose check may run.
#[must_use = "an attempt is either failed or given back"]
pub struct Attempt {
    keys: Vec<String>,
}

/// Counts an attempt on every counter, in the window of `now_ms`; `None` (and nothing left
/// counted) when one of them is past its limit: the check must not run, so no argon2 cost is
/// paid either.
pub async fn begin(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    now_ms: i64,
    counters: Vec<Counter>,
) -> anyhow::Result<Option<Attempt>> {
    let window = Window::at(config, now_ms);
    let keys: Vec<String> = counters.iter().map(|c| window.key(c)).collect();
    for (i, counter) in counters.iter().enumerate() {
        if store.incr(&keys[i], window.length * 2).await? > counter.limit {
            // Refused attempts are given back: they were never checked, and counting them
            // would let one throttled account use up its address's allowance too.
            for counted in &keys[..=i] {
                store.decr(counted).await?;
            }
            return Ok(None);
        }
    }
    Ok(Some(Attempt { keys }))
}

impl Attempt {
    /// The check failed: the attempt stays counted until the window ends.
    pub fn failed(self) {}

    /// The check passed: the attempt is given back.
    pub async fn passed(self, store: &dyn EphemeralStore) -> anyhow::Result<()> {
        for key in &self.keys {
            store.decr(key).await?;
        }
        Ok(())
    }
}

/// A successful login clears the account's counter in the current window (not the address's:
/// one good password must not reset a guessing campaign from that address).
pub async fn clear_account(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    now_ms: i64,
    login: &str,
) -> anyhow::Result<()> {
    let window = Window::at(config, now_ms);
    let counter = Counter {
        key: account_key(login),
        limit: 0,
    };
    store.delete(&window.key(&counter)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ephemeral::MemoryStore;

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            window_seconds: 900,
            failures_per_account: 3,
            failures_per_address: 100,
            trusted_device_days: 0,
        }
    }

    async fn fail(store: &MemoryStore, config: &ThrottleConfig, now_ms: i64) -> bool {
        match begin(store, config, now_ms, login(config, "a.b01", "10.0.0.1"))
            .await
            .unwrap()
        {
            Some(attempt) => {
                attempt.failed();
                true
            }
            None => false,
        }
    }

    #[tokio::test]
    async fn a_window_holds_until_the_service_clock_passes_it() {
        let store = MemoryStore::new();
        let config = config();
        let window_ms = 900_000;
        let start = 40 * window_ms + 5;
        for _ in 0..config.failures_per_account {
            assert!(fail(&store, &config, start).await, "within the limit");
        }
        let counters = login(&config, "a.b01", "10.0.0.1");
        assert!(!fail(&store, &config, start).await, "past the limit");
        assert!(
            !fail(&store, &config, 41 * window_ms - 1).await,
            "same window"
        );
        assert!(exhausted(&store, &config, 41 * window_ms - 1, &counters)
            .await
            .unwrap());
        // The clock enters the next window: the account may be tried again.
        assert!(!exhausted(&store, &config, 41 * window_ms, &counters)
            .await
            .unwrap());
        assert!(fail(&store, &config, 41 * window_ms).await, "next window");
    }

    #[tokio::test]
    async fn clearing_the_account_frees_the_current_window_only_for_the_account() {
        let store = MemoryStore::new();
        let mut config = config();
        config.failures_per_address = 4;
        let now = 7 * 900_000;
        for _ in 0..config.failures_per_account {
            assert!(fail(&store, &config, now).await);
        }
        assert!(!fail(&store, &config, now).await);
        clear_account(&store, &config, now, "a.b01").await.unwrap();
        // The account's counter is free, the address's still counts: one more, then refused.
        assert!(fail(&store, &config, now).await);
        assert!(!fail(&store, &config, now).await);
    }
}
