//! The key ring: every signing key by `kid`, shared by all replicas through the durable store.
//! Rotation is driven by timestamps so replicas agree without coordination: a key is published
//! from its creation, signs from `signing_from` (the newest such key of its algorithm signs), and
//! leaves the JWKS at `retire_at`, set to the successor's `signing_from` plus the longest token
//! lifetime, so tokens signed before a rotation stay verifiable.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::Clock;
use crate::store::KeyStore;
use crate::tokens::kek::Kek;

/// How often a replica reloads the key set from the durable store (and at most how stale it is).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// At most this often, an unknown kid triggers a reload.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::RS256, SigningAlg::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    pub fn parse(value: &str) -> Option<SigningAlg> {
        match value {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }

    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

/// A key as the durable store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// PKCS#8 DER sealed with the KEK (label: the kid).
    pub sealed_private_key: String,
    /// The public JWK, JSON.
    pub public_jwk: String,
    pub created_at: i64,
    pub signing_from: i64,
    pub retire_at: Option<i64>,
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A usable key: its signer, its public JWK and the matching verification key.
pub struct LoadedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub jwk: serde_json::Value,
    pub decoding: DecodingKey,
    pub signing_from: i64,
    pub retire_at: Option<i64>,
    signer: Signer,
}

impl LoadedKey {
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
                Ok(signature)
            }
            Signer::Ec(pair) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?
                .as_ref()
                .to_vec()),
        }
    }

    /// A fresh key that lives in memory only, never stored nor published: for measuring the
    /// signature cost (benchmarks), not for issuing tokens.
    pub fn generate_unpublished(alg: SigningAlg) -> anyhow::Result<LoadedKey> {
        let (der, mut jwk) = generate_pair(alg)?;
        let kid = thumbprint(&jwk)?;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.as_str());
        LoadedKey::from_der(kid, alg, &der, jwk, 0, None)
    }

    fn from_der(
        kid: String,
        alg: SigningAlg,
        der: &[u8],
        jwk: serde_json::Value,
        signing_from: i64,
        retire_at: Option<i64>,
    ) -> anyhow::Result<LoadedKey> {
        let signer = match alg {
            SigningAlg::RS256 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(der).map_err(|e| anyhow::anyhow!("key {kid}: {e}"))?,
            ),
            SigningAlg::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| anyhow::anyhow!("key {kid}: {e}"))?,
            ),
        };
        let decoding = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone())?)
            .with_context(|| format!("public key of {kid}"))?;
        Ok(LoadedKey {
            kid,
            alg,
            jwk,
            decoding,
            signing_from,
            retire_at,
            signer,
        })
    }

    fn is_published(&self, now_ms: i64) -> bool {
        self.retire_at.is_none_or(|at| at > now_ms)
    }
}

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

/// Generates a key pair on the blocking pool and seals its private half.
async fn generate(
    kek: &Kek,
    alg: SigningAlg,
    now: i64,
    signing_from: i64,
) -> anyhow::Result<StoredKey> {
    let (der, mut jwk) = tokio::task::spawn_blocking(move || generate_pair(alg)).await??;
    let kid = thumbprint(&jwk)?;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    Ok(StoredKey {
        sealed_private_key: kek.seal(&format!("signing key {kid}"), &der)?,
        kid,
        alg,
        public_jwk: jwk.to_string(),
        created_at: now,
        signing_from,
        retire_at: None,
    })
}

fn generate_pair(alg: SigningAlg) -> anyhow::Result<(Vec<u8>, serde_json::Value)> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match alg {
        SigningAlg::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                .map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
            let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            Ok((
                der.as_ref().to_vec(),
                json!({"kty": "RSA", "n": b64(&public.n), "e": b64(&public.e)}),
            ))
        }
        SigningAlg::ES256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| anyhow::anyhow!("EC key generation failed"))?;
            let der = pair
                .to_pkcs8v1()
                .map_err(|_| anyhow::anyhow!("EC key encoding failed"))?;
            let point = pair.public_key().as_ref();
            if point.len() != 65 || point[0] != 4 {
                bail!("unexpected EC public key encoding");
            }
            Ok((
                der.as_ref().to_vec(),
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])}),
            ))
        }
    }
}

/// RFC 7638 JWK thumbprint (SHA-256): the kid.
fn thumbprint(jwk: &serde_json::Value) -> anyhow::Result<String> {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => bail!("unsupported key type"),
    };
    let canonical: serde_json::Map<String, serde_json::Value> = members
        .iter()
        .map(|m| (m.to_string(), jwk[*m].clone()))
        .collect();
    Ok(crate::secrets::digest(
        serde_json::to_string(&canonical)?.as_bytes(),
    ))
}
