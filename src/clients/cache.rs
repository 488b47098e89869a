//! Relying parties kept in memory by each replica for `client_cache_seconds`.

use super::Client;
use crate::store::ClientStore;

/// Relying parties read on every token request: each replica keeps them `ttl` in memory, so a
/// token endpoint under load does not query the database for its callers. Unknown ids are not
/// cached (a flood of invented ids must not fill memory), and the map is bounded.
pub struct ClientCache {
    ttl: std::time::Duration,
    entries: std::sync::RwLock<std::collections::HashMap<String, (std::time::Instant, Client)>>,
}

/// More distinct clients than any deployment has: past it the cache starts over.
const CLIENT_CACHE_CAPACITY: usize = 10_000;

impl ClientCache {
    pub fn new(ttl: std::time::Duration) -> ClientCache {
        ClientCache {
            ttl,
            entries: Default::default(),
        }
    }

    pub async fn get(&self, store: &dyn ClientStore, id: &str) -> anyhow::Result<Option<Client>> {
        if let Some((at, client)) = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            if at.elapsed() < self.ttl {
                return Ok(Some(client.clone()));
            }
        }
        let client = store.client(id).await?;
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        match &client {
            Some(c) if !self.ttl.is_zero() => {
                if entries.len() >= CLIENT_CACHE_CAPACITY {
                    entries.clear();
                }
                entries.insert(id.to_owned(), (std::time::Instant::now(), c.clone()));
            }
            _ => {
                entries.remove(id);
            }
        }
        Ok(client)
    }
}
