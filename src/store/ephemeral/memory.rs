//! In-process ephemeral store for the embedded default: one replica only, lost at restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{EphemeralStore, Taken};

enum Value {
    Bytes(Vec<u8>),
    Counter(u64),
    Set(BTreeSet<String>),
}

struct Entry {
    value: Value,
    expires: Instant,
}

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    writes: AtomicU64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Entry>, Instant) -> R) -> R {
        let now = Instant::now();
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Bounded growth: sweep expired entries every 4096 operations.
        if self
            .writes
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(4096)
        {
            entries.retain(|_, e| e.expires > now);
        }
        f(&mut entries, now)
    }
}

fn live<'a>(
    entries: &'a mut HashMap<String, Entry>,
    key: &str,
    now: Instant,
) -> Option<&'a mut Entry> {
    match entries.get(key) {
        Some(e) if e.expires <= now => {
            entries.remove(key);
            None
        }
        _ => entries.get_mut(key),
    }
}

#[async_trait]
impl EphemeralStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<()> {
        self.with(|m, now| {
            m.insert(
                key.to_owned(),
                Entry {
                    value: Value::Bytes(value.to_vec()),
                    expires: now + ttl,
                },
            )
        });
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<bool> {
        Ok(self.with(|m, now| {
            if live(m, key, now).is_some() {
                return false;
            }
            m.insert(
                key.to_owned(),
                Entry {
                    value: Value::Bytes(value.to_vec()),
                    expires: now + ttl,
                },
            );
            true
        }))
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.with(|m, now| match live(m, key, now) {
            Some(Entry {
                value: Value::Bytes(b),
                ..
            }) => Some(b.clone()),
            _ => None,
        }))
    }

    async fn take(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.with(|m, now| {
            live(m, key, now)?;
            match m.remove(key) {
                Some(Entry {
                    value: Value::Bytes(b),
                    ..
                }) => Some(b),
                _ => None,
            }
        }))
    }

    async fn take_leaving_tombstone(
        &self,
        key: &str,
        tombstone: &str,
        tombstone_value: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<Taken> {
        Ok(self.with(|m, now| {
            if live(m, key, now).is_some() {
                let taken = m.remove(key);
                m.insert(
                    tombstone.to_owned(),
                    Entry {
                        value: Value::Bytes(tombstone_value.to_vec()),
                        expires: now + ttl,
                    },
                );
                if let Some(Entry {
                    value: Value::Bytes(b),
                    ..
                }) = taken
                {
                    return Taken::Value(b);
                }
                return Taken::Missing;
            }
            match live(m, tombstone, now) {
                Some(Entry {
                    value: Value::Bytes(b),
                    ..
                }) => Taken::Tombstone(b.clone()),
                _ => Taken::Missing,
            }
        }))
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.with(|m, now| live(m, key, now).is_some()))
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.with(|m, _| m.remove(key));
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> anyhow::Result<u64> {
        Ok(self.with(|m, now| match live(m, key, now) {
            Some(Entry {
                value: Value::Counter(n),
                ..
            }) => {
                *n += 1;
                *n
            }
            _ => {
                m.insert(
                    key.to_owned(),
                    Entry {
                        value: Value::Counter(1),
                        expires: now + ttl,
                    },
                );
                1
            }
        }))
    }

    async fn decr(&self, key: &str) -> anyhow::Result<()> {
        self.with(|m, now| {
            if let Some(Entry {
                value: Value::Counter(n),
                ..
            }) = live(m, key, now)
            {
                *n = n.saturating_sub(1);
            }
        });
        Ok(())
    }

    async fn counter(&self, key: &str) -> anyhow::Result<u64> {
        Ok(self.with(|m, now| match live(m, key, now) {
            Some(Entry {
                value: Value::Counter(n),
                ..
            }) => *n,
            _ => 0,
        }))
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> anyhow::Result<()> {
        self.with(|m, now| match live(m, key, now) {
            Some(Entry {
                value: Value::Set(s),
                expires,
            }) => {
                s.insert(member.to_owned());
                *expires = now + ttl;
            }
            _ => {
                let set = BTreeSet::from([member.to_owned()]);
                m.insert(
                    key.to_owned(),
                    Entry {
                        value: Value::Set(set),
                        expires: now + ttl,
                    },
                );
            }
        });
        Ok(())
    }

    async fn set_members(&self, key: &str) -> anyhow::Result<Vec<String>> {
        Ok(self.with(|m, now| match live(m, key, now) {
            Some(Entry {
                value: Value::Set(s),
                ..
            }) => s.iter().cloned().collect(),
            _ => Vec::new(),
        }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
