//! The key ring: every signing key by `kid`, shared by all replicas through the durable store.
//! Rotation is driven by timestamps so replicas agree without coordination: a key is published
//! from its creation, signs from `signing_from` (the newest such key of its algorithm signs), and
//! leaves the JWKS at `retire_at`, set to the successor's `signing_from` plus the longest token
//! lifetime, so tokens signed before a rotation stay verifiable.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use super::keys::{generate, LoadedKey, SigningAlg, StoredKey};
use crate::clock::Clock;
use crate::store::KeyStore;
use crate::tokens::kek::Kek;

/// How often a replica reloads the key set from the durable store (and at most how stale it is).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// At most this often, an unknown kid triggers a reload.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_millis(100);

struct Snapshot {
    /// When it was read, by the injected clock (ms).
    loaded_ms: i64,
    keys: Vec<Arc<LoadedKey>>,
}

pub struct KeyRing {
    store: Arc<dyn KeyStore>,
    kek: Kek,
    clock: Arc<dyn Clock>,
    snapshot: RwLock<Arc<Snapshot>>,
    reloading: tokio::sync::Mutex<()>,
}

impl KeyRing {
    pub async fn load(
        store: Arc<dyn KeyStore>,
        kek: Kek,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<KeyRing> {
        let loaded_ms = clock.now_ms();
        let ring = KeyRing {
            store,
            kek,
            clock,
            snapshot: RwLock::new(Arc::new(Snapshot {
                loaded_ms,
                keys: Vec::new(),
            })),
            reloading: tokio::sync::Mutex::new(()),
        };
        ring.reload().await?;
        Ok(ring)
    }

    /// The key-encryption key, for what else is sealed at rest (the outbox's message bodies).
    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    /// Reads the key set again from the durable store.
    pub async fn reload(&self) -> anyhow::Result<()> {
        let _guard = self.reloading.lock().await;
        let mut keys = Vec::new();
        for stored in self.store.keys().await? {
            keys.push(Arc::new(self.open(&stored)?));
        }
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Snapshot {
            loaded_ms: self.clock.now_ms(),
            keys,
        });
        Ok(())
    }

    /// How old the snapshot is, by the injected clock (so tests advance it instead of sleeping).
    fn age(&self, snapshot: &Snapshot) -> Duration {
        Duration::from_millis((self.clock.now_ms() - snapshot.loaded_ms).max(0) as u64)
    }

    async fn current(&self) -> anyhow::Result<Arc<Snapshot>> {
        let snapshot = self
            .snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if self.age(&snapshot) < RELOAD_INTERVAL {
            return Ok(snapshot);
        }
        self.reload().await?;
        Ok(self
            .snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    fn open(&self, stored: &StoredKey) -> anyhow::Result<LoadedKey> {
        let der = self.kek.open(
            &format!("signing key {}", stored.kid),
            &stored.sealed_private_key,
        )?;
        let jwk: serde_json::Value = serde_json::from_str(&stored.public_jwk)?;
        LoadedKey::from_der(
            stored.kid.clone(),
            stored.alg,
            &der,
            jwk,
            stored.signing_from,
            stored.retire_at,
        )
    }

    /// The key that signs now for `alg`: the newest whose `signing_from` has passed.
    pub async fn signing_key(&self, alg: SigningAlg) -> anyhow::Result<Arc<LoadedKey>> {
        let now = self.clock.now_ms();
        let snapshot = self.current().await?;
        signer_among(&snapshot.keys, alg, now).with_context(|| {
            format!(
                "no {} signing key: run `educonnect keys generate`",
                alg.as_str()
            )
        })
    }

    /// A published key by `kid`; an unknown kid triggers one reload (another replica may have
    /// rotated since our last one).
    pub async fn verification_key(&self, kid: &str) -> anyhow::Result<Option<Arc<LoadedKey>>> {
        let now = self.clock.now_ms();
        let find = |snapshot: &Snapshot| {
            snapshot
                .keys
                .iter()
                .find(|k| k.kid == kid && k.is_published(now))
                .cloned()
        };
        let snapshot = self.current().await?;
        if let Some(key) = find(&snapshot) {
            return Ok(Some(key));
        }
        // Bounded so that tokens with made-up kids cannot turn into a query flood.
        if self.age(&snapshot) > MISS_RELOAD_INTERVAL {
            self.reload().await?;
            let reloaded = self.current().await?;
            return Ok(find(&reloaded));
        }
        Ok(None)
    }

    /// The JWKS document: every published key.
    pub async fn jwks(&self) -> anyhow::Result<serde_json::Value> {
        let now = self.clock.now_ms();
        let snapshot = self.current().await?;
        let keys: Vec<_> = snapshot
            .keys
            .iter()
            .filter(|k| k.is_published(now))
            .map(|k| k.jwk.clone())
            .collect();
        Ok(json!({ "keys": keys }))
    }

    /// Creates a signing key for every algorithm that has none (first start, `keys generate`).
    /// Returns the kids created.
    pub async fn ensure_signing_keys(&self) -> anyhow::Result<Vec<String>> {
        self.reload().await?;
        let now = self.clock.now_ms();
        let mut created = Vec::new();
        for alg in SigningAlg::ALL {
            let has_one = signer_among(&self.current().await?.keys, alg, now).is_some();
            if !has_one {
                let key = generate(&self.kek, alg, now, now).await?;
                self.store.insert_key(&key).await?;
                created.push(key.kid);
            }
        }
        if !created.is_empty() {
            self.reload().await?;
        }
        Ok(created)
    }

    /// Rotation: a new key is published now and signs from `now + publish_ahead`; every older key
    /// of the algorithm still without a retirement leaves the JWKS `longest_token` after that.
    /// Returns the new kid.
    pub async fn rotate(
        &self,
        alg: SigningAlg,
        publish_ahead: Duration,
        longest_token: Duration,
    ) -> anyhow::Result<String> {
        self.reload().await?;
        let now = self.clock.now_ms();
        let signing_from = now + publish_ahead.as_millis() as i64;
        let older: Vec<String> = self
            .current()
            .await?
            .keys
            .iter()
            .filter(|k| k.alg == alg && k.retire_at.is_none())
            .map(|k| k.kid.clone())
            .collect();
        let key = generate(&self.kek, alg, now, signing_from).await?;
        self.store.insert_key(&key).await?;
        // Not only the signer: a key published ahead by a rotation a moment ago (still waiting
        // to sign) is replaced too, or it would stay published forever. Keys already given a
        // retirement keep theirs (it is earlier).
        let retire_at = signing_from + longest_token.as_millis() as i64;
        for kid in older {
            self.store.set_key_retire_at(&kid, retire_at).await?;
        }
        self.reload().await?;
        Ok(key.kid)
    }

    /// Every key with its state, for `keys list`.
    pub async fn describe(
        &self,
    ) -> anyhow::Result<Vec<(String, SigningAlg, &'static str, i64, Option<i64>)>> {
        self.reload().await?;
        let now = self.clock.now_ms();
        let snapshot = self.current().await?;
        Ok(snapshot
            .keys
            .iter()
            .map(|k| {
                let state = if !k.is_published(now) {
                    "retired"
                } else if signer_among(&snapshot.keys, k.alg, now).is_some_and(|s| s.kid == k.kid) {
                    "signing"
                } else if k.signing_from > now {
                    "published (next)"
                } else {
                    "published (previous)"
                };
                (k.kid.clone(), k.alg, state, k.signing_from, k.retire_at)
            })
            .collect())
    }
}

fn signer_among(keys: &[Arc<LoadedKey>], alg: SigningAlg, now: i64) -> Option<Arc<LoadedKey>> {
    keys.iter()
        .filter(|k| k.alg == alg && k.signing_from <= now && k.is_published(now))
        .max_by(|a, b| {
            a.signing_from
                .cmp(&b.signing_from)
                .then_with(|| a.kid.cmp(&b.kid))
        })
        .cloned()
}
