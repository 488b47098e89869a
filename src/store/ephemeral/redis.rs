//! Redis ephemeral store (production). Every key is written with a TTL; single-use artefacts are
//! consumed with `GETDEL` or a Lua script, never read-then-delete.
//!
//! A Redis restart breaks the connection, and `ConnectionManager` replaces it only when a command
//! fails. The rule (issue #13): a command that may run twice (`GET`, `SET ... PX` of a given
//! value, `DEL`, `SADD`) is sent once more after a connection failure; one that must not
//! (`GETDEL`, `SET NX`, the increment and take scripts) only when the failure proves it was not
//! sent (the connection was refused). Every command and connection attempt gives up after the
//! store's timeout, so a request gets its 503 quickly while Redis is down.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError, RedisResult, Script};

use super::{EphemeralStore, Taken};
use crate::store::StoreUnavailable;

/// A multiplexed, self-reconnecting connection; `prefix` namespaces every key (a deployment, or
/// one test).
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    take_with_tombstone: Script,
    incr_with_ttl: Script,
    decr_if_positive: Script,
    /// When Redis last answered (ms since the epoch), shared by every clone.
    last_answer: Arc<AtomicU64>,
}

/// A connection quiet for longer than this may have been closed by a Redis restart without
/// anyone noticing: a command that must not be sent twice is preceded by a `PING`, which finds
/// out (and reconnects) at no risk. Under load the connection is never this quiet, so no `PING`
/// is sent.
const QUIET: Duration = Duration::from_secs(1);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

const TAKE_WITH_TOMBSTONE: &str = r"
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return {1, v}
end
local t = redis.call('GET', KEYS[2])
if t then return {2, t} end
return {0, ''}
";

const INCR_WITH_TTL: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

const DECR_IF_POSITIVE: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]))
if n and n > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

/// What may be sent again after a connection failure.
#[derive(Clone, Copy)]
enum Replay {
    /// Running it twice leaves the same state and gives the same answer.
    Safe,
    /// Only if it was not sent.
    IfNotSent,
}

/// Redis did not answer: I/O (a refused or broken connection, a timeout), or it is loading its
/// data after a restart.
pub fn is_connection_failure(error: &RedisError) -> bool {
    error.is_io_error() || error.kind() == redis::ErrorKind::BusyLoadingError
}

fn may_send_again(replay: Replay, error: &RedisError) -> bool {
    match replay {
        // A timeout is not retried: Redis is slow, not gone, and the request would wait twice.
        Replay::Safe => error.is_io_error() && !error.is_timeout(),
        // The reconnection was refused: nothing reached Redis.
        Replay::IfNotSent => error.is_connection_refusal(),
    }
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<RedisStore> {
        Self::connect_with_timeout(url, prefix, crate::store::sql::DEFAULT_TIMEOUT).await
    }

    /// Like `connect`; a command or a connection attempt gives up after `timeout`.
    pub async fn connect_with_timeout(
        url: &str,
        prefix: &str,
        timeout: Duration,
    ) -> anyhow::Result<RedisStore> {
        let client = redis::Client::open(url).context("invalid REDIS_URL")?;
        // One attempt per reconnection (the default retries with delays growing to a minute,
        // and every command waits for them): the next command tries again.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .context("cannot reach Redis")?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_owned(),
            take_with_tombstone: Script::new(TAKE_WITH_TOMBSTONE),
            incr_with_ttl: Script::new(INCR_WITH_TTL),
            decr_if_positive: Script::new(DECR_IF_POSITIVE),
            last_answer: Arc::new(AtomicU64::new(now_ms())),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// Sends a command (`send` gets its own handle on the connection), once more if `replay`
    /// allows it after a failure.
    async fn run<T, F, Fut>(&self, replay: Replay, send: F) -> anyhow::Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let quiet = now_ms().saturating_sub(self.last_answer.load(Ordering::Relaxed));
        if matches!(replay, Replay::IfNotSent) && quiet > QUIET.as_millis() as u64 {
            // Its failure is the command's to report: if Redis is down, the command fails too.
            let mut conn = self.conn.clone();
            let _ = redis::cmd("PING").query_async::<()>(&mut conn).await;
        }
        let result = match send(self.conn.clone()).await {
            Err(error) if may_send_again(replay, &error) => {
                tracing::info!(%error, "Redis connection failed: command sent again");
                send(self.conn.clone()).await
            }
            result => result,
        };
        if result.is_ok() {
            self.last_answer.store(now_ms(), Ordering::Relaxed);
        }
        result.map_err(|error| {
            if is_connection_failure(&error) {
                StoreUnavailable::new("ephemeral store", error).into()
            } else {
                error.into()
            }
        })
    }

    async fn query<T: FromRedisValue>(
        &self,
        replay: Replay,
        cmd: &redis::Cmd,
    ) -> anyhow::Result<T> {
        self.run(replay, |mut conn| async move {
            cmd.query_async(&mut conn).await
        })
        .await
    }
}

fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

#[async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<()> {
        let cmd = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .to_owned();
        self.query(Replay::Safe, &cmd).await
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<bool> {
        let cmd = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .to_owned();
        // Sent twice, the second would find the first's value: a first use taken for a replay.
        let stored: Option<String> = self.query(Replay::IfNotSent, &cmd).await?;
        Ok(stored.is_some())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.query(Replay::Safe, redis::cmd("GET").arg(self.key(key)))
            .await
    }

    async fn take(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.query(Replay::IfNotSent, redis::cmd("GETDEL").arg(self.key(key)))
            .await
    }

    async fn take_leaving_tombstone(
        &self,
        key: &str,
        tombstone: &str,
        tombstone_value: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<Taken> {
        let mut invocation = self.take_with_tombstone.key(self.key(key));
        invocation
            .key(self.key(tombstone))
            .arg(tombstone_value)
            .arg(millis(ttl));
        let invocation = &invocation;
        let (kind, value): (u8, Vec<u8>) = self
            .run(Replay::IfNotSent, |mut conn| async move {
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        Ok(match kind {
            1 => Taken::Value(value),
            2 => Taken::Tombstone(value),
            _ => Taken::Missing,
        })
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        self.query(Replay::Safe, redis::cmd("EXISTS").arg(self.key(key)))
            .await
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.query(Replay::Safe, redis::cmd("DEL").arg(self.key(key)))
            .await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> anyhow::Result<u64> {
        let mut invocation = self.incr_with_ttl.key(self.key(key));
        invocation.arg(millis(ttl));
        let invocation = &invocation;
        // Sent twice, one failure would count two.
        self.run(Replay::IfNotSent, |mut conn| async move {
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    async fn decr(&self, key: &str) -> anyhow::Result<()> {
        let invocation = self.decr_if_positive.key(self.key(key));
        let invocation = &invocation;
        // Sent twice, one attempt would be given back twice.
        self.run(Replay::IfNotSent, |mut conn| async move {
            invocation.invoke_async::<i64>(&mut conn).await
        })
        .await?;
        Ok(())
    }

    async fn counter(&self, key: &str) -> anyhow::Result<u64> {
        let value: Option<u64> = self
            .query(Replay::Safe, redis::cmd("GET").arg(self.key(key)))
            .await?;
        Ok(value.unwrap_or(0))
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> anyhow::Result<()> {
        let key = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SADD")
            .arg(&key)
            .arg(member)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(ttl))
            .ignore();
        let pipe = &pipe;
        self.run(Replay::Safe, |mut conn| async move {
            pipe.query_async::<()>(&mut conn).await
        })
        .await
    }

    async fn set_members(&self, key: &str) -> anyhow::Result<Vec<String>> {
        self.query(Replay::Safe, redis::cmd("SMEMBERS").arg(self.key(key)))
            .await
    }

    async fn ping(&self) -> anyhow::Result<()> {
        // Sent once: readiness reports what Redis does now.
        self.query(Replay::IfNotSent, &redis::cmd("PING")).await
    }
}
