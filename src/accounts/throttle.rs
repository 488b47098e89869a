//! Throttling of checks that guess at a secret (passwords, attachment codes, administration
//! tokens), in the ephemeral store so every replica counts together. The same answer is given
//! whether or not the login exists.
//!
//! Review #13.1: an attempt is counted *before* its check runs, with one atomic increment per
//! counter, and the check runs only if every counter stayed within its limit. Of any number of
//! parallel attempts, at most the limit are ever checked in a window (reading the counters and
//! increasing them after the check let 99 parallel guesses all be checked). An attempt whose
//! check passed is given back, so successes never count as failures.

use std::time::Duration;

use crate::config::ThrottleConfig;
use crate::secrets::digest;
use crate::store::EphemeralStore;

/// One counter an attempt is counted on, and the most attempts it allows in a window.
pub struct Counter {
    key: String,
    limit: u64,
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
pub async fn exhausted(store: &dyn EphemeralStore, counters: &[Counter]) -> anyhow::Result<bool> {
    for counter in counters {
        if store.counter(&counter.key).await? >= counter.limit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An attempt counted on its counters, whose check may run.
#[must_use = "an attempt is either failed or given back"]
pub struct Attempt {
    counters: Vec<Counter>,
}

/// Counts an attempt on every counter; `None` (and nothing left counted) when one of them is
/// past its limit: the check must not run, so no argon2 cost is paid either.
pub async fn begin(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    counters: Vec<Counter>,
) -> anyhow::Result<Option<Attempt>> {
    let window = Duration::from_secs(config.window_seconds);
    for (i, counter) in counters.iter().enumerate() {
        if store.incr(&counter.key, window).await? > counter.limit {
            // Refused attempts are given back: they were never checked, and counting them
            // would let one throttled account use up its address's allowance too.
            for counted in &counters[..=i] {
                store.decr(&counted.key).await?;
            }
            return Ok(None);
        }
    }
    Ok(Some(Attempt { counters }))
}

impl Attempt {
    /// The check failed: the attempt stays counted until the window ends.
    pub fn failed(self) {}

    /// The check passed: the attempt is given back.
    pub async fn passed(self, store: &dyn EphemeralStore) -> anyhow::Result<()> {
        for counter in &self.counters {
            store.decr(&counter.key).await?;
        }
        Ok(())
    }
}

/// A successful login clears the account's counter (not the address's: one good password must
/// not reset a guessing campaign from that address).
pub async fn clear_account(store: &dyn EphemeralStore, login: &str) -> anyhow::Result<()> {
    store.delete(&account_key(login)).await
}
