//! Throttling of failed logins, per account and per client address, in the ephemeral store so
//! every replica counts together. The same answer is given whether or not the login exists.

use std::time::Duration;

use crate::config::ThrottleConfig;
use crate::secrets::digest;
use crate::store::EphemeralStore;

fn account_key(login: &str) -> String {
    format!("throttle:login:{}", digest(login.as_bytes()))
}

fn address_key(address: &str) -> String {
    format!("throttle:addr:{address}")
}

/// True when either counter has reached its bound: the attempt must be refused before any
/// password is checked (and so before any argon2 cost is paid).
pub async fn is_throttled(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    login: &str,
    address: &str,
) -> anyhow::Result<bool> {
    let by_account = store.counter(&account_key(login)).await?;
    if by_account >= config.failures_per_account {
        return Ok(true);
    }
    Ok(store.counter(&address_key(address)).await? >= config.failures_per_address)
}

pub async fn record_failure(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    login: &str,
    address: &str,
) -> anyhow::Result<()> {
    let window = Duration::from_secs(config.window_seconds);
    store.incr(&account_key(login), window).await?;
    store.incr(&address_key(address), window).await?;
    Ok(())
}

/// A successful login clears the account's counter (not the address's: one good password must
/// not reset a guessing campaign from that address).
pub async fn record_success(store: &dyn EphemeralStore, login: &str) -> anyhow::Result<()> {
    store.delete(&account_key(login)).await
}

/// A count of failures of some other check (an administration token), on its own key: true once
/// it reached `failures_per_account` within the window.
pub async fn is_blocked(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    key: &str,
) -> anyhow::Result<bool> {
    Ok(store.counter(&format!("throttle:{key}")).await? >= config.failures_per_account)
}

pub async fn count_failure(
    store: &dyn EphemeralStore,
    config: &ThrottleConfig,
    key: &str,
) -> anyhow::Result<()> {
    let window = Duration::from_secs(config.window_seconds);
    store.incr(&format!("throttle:{key}"), window).await?;
    Ok(())
}
