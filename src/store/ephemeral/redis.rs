//! Redis ephemeral store (production). Every key is written with a TTL; single-use artefacts are
//! consumed with `GETDEL` or a Lua script, never read-then-delete.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::Script;

use super::{EphemeralStore, Taken};

/// A multiplexed, self-reconnecting connection; `prefix` namespaces every key (a deployment, or
/// one test).
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    take_with_tombstone: Script,
    incr_with_ttl: Script,
    decr_if_positive: Script,
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

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<RedisStore> {
        let client = redis::Client::open(url).context("invalid REDIS_URL")?;
        let conn = ConnectionManager::new(client)
            .await
            .context("cannot reach Redis")?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_owned(),
            take_with_tombstone: Script::new(TAKE_WITH_TOMBSTONE),
            incr_with_ttl: Script::new(INCR_WITH_TTL),
            decr_if_positive: Script::new(DECR_IF_POSITIVE),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

#[async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(stored.is_some())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    async fn take(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    async fn take_leaving_tombstone(
        &self,
        key: &str,
        tombstone: &str,
        tombstone_value: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<Taken> {
        let mut conn = self.conn.clone();
        let (kind, value): (u8, Vec<u8>) = self
            .take_with_tombstone
            .key(self.key(key))
            .key(self.key(tombstone))
            .arg(tombstone_value)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await?;
        Ok(match kind {
            1 => Taken::Value(value),
            2 => Taken::Tombstone(value),
            _ => Taken::Missing,
        })
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("EXISTS")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> anyhow::Result<u64> {
        let mut conn = self.conn.clone();
        Ok(self
            .incr_with_ttl
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await?)
    }

    async fn decr(&self, key: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        self.decr_if_positive
            .key(self.key(key))
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    async fn counter(&self, key: &str) -> anyhow::Result<u64> {
        let mut conn = self.conn.clone();
        let value: Option<u64> = redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?;
        Ok(value.unwrap_or(0))
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        redis::pipe()
            .atomic()
            .cmd("SADD")
            .arg(&key)
            .arg(member)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(ttl))
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn set_members(&self, key: &str) -> anyhow::Result<Vec<String>> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("SMEMBERS")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }
}
