//! Short-lived artefacts with a TTL: SSO sessions, authorization codes, login transactions,
//! access tokens, rate-limit counters. One small adapter contract, two implementations.
//!
//! Keys that an operation touches together share a Redis Cluster hash tag (`code:{d}` and
//! `code:{d}:used`), so each operation stays on one slot.

mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use self::redis::{is_connection_failure, RedisStore};
pub use memory::MemoryStore;

/// What `take_leaving_tombstone` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// The value, now gone; the tombstone is in its place.
    Value(Vec<u8>),
    /// The key had already been taken: the tombstone's value.
    Tombstone(Vec<u8>),
    Missing,
}

/// Contract: every key has a TTL and disappears after it; `take` and
/// `take_leaving_tombstone` are atomic (of concurrent callers, exactly one gets the value).
#[async_trait]
pub trait EphemeralStore: Send + Sync {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<()>;
    /// Stores only if absent; true if stored (single-use identifiers such as assertion `jti`s).
    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<bool>;
    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Atomically reads and deletes.
    async fn take(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Atomically takes `key` and stores `tombstone_value` under `tombstone` for `ttl`, so that
    /// a later take can tell a replay from an unknown key.
    async fn take_leaving_tombstone(
        &self,
        key: &str,
        tombstone: &str,
        tombstone_value: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<Taken>;
    async fn exists(&self, key: &str) -> anyhow::Result<bool>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Increments a counter; the TTL starts at the first increment (a fixed window).
    async fn incr(&self, key: &str, ttl: Duration) -> anyhow::Result<u64>;
    /// Takes one back from a counter that still exists (never below zero; its TTL is kept): an
    /// attempt counted before its check, given back when the check passed or was not run.
    async fn decr(&self, key: &str) -> anyhow::Result<()>;
    /// Reads a counter (0 when absent).
    async fn counter(&self, key: &str) -> anyhow::Result<u64>;
    /// Adds to a set and (re)sets the set's TTL.
    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> anyhow::Result<()>;
    async fn set_members(&self, key: &str) -> anyhow::Result<Vec<String>>;
    async fn ping(&self) -> anyhow::Result<()>;
}

/// JSON helpers over the byte-level contract.
pub async fn put_json<T: Serialize + Sync>(
    store: &dyn EphemeralStore,
    key: &str,
    value: &T,
    ttl: Duration,
) -> anyhow::Result<()> {
    store.put(key, &serde_json::to_vec(value)?, ttl).await
}

pub async fn get_json<T: DeserializeOwned>(
    store: &dyn EphemeralStore,
    key: &str,
) -> anyhow::Result<Option<T>> {
    store
        .get(key)
        .await?
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(Into::into)
}

pub async fn take_json<T: DeserializeOwned>(
    store: &dyn EphemeralStore,
    key: &str,
) -> anyhow::Result<Option<T>> {
    store
        .take(key)
        .await?
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(Into::into)
}
