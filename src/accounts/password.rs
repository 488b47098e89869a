//! Password hashing with argon2id on the blocking pool, with a bound on concurrent hashes so a
//! morning peak queues instead of exhausting memory (each hash holds `argon2_memory_kib`).

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::config::PasswordConfig;
use crate::secrets::Secret;

/// Result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    /// The stored hash used other parameters than the configured ones: store a new hash.
    pub needs_rehash: bool,
}

pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so both cases cost the same.
    dummy_hash: OnceCell<String>,
}

impl PasswordHasher {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<PasswordHasher> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let permits = match config.max_concurrent_hashes {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(permits)),
            dummy_hash: OnceCell::new(),
        })
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hashes on the blocking pool, waiting for a permit first.
    pub async fn hash(&self, password: &Secret) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let params = self.params.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Self::argon2(params)
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await?
    }

    /// Verifies `password` against `stored`; with no stored hash, burns the same time and fails.
    pub async fn verify(
        &self,
        password: &Secret,
        stored: Option<&str>,
    ) -> anyhow::Result<Verification> {
        let (hash, exists) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?.to_owned(), false),
        };
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let params = self.params.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            let ok = Self::argon2(params.clone())
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            let needs_rehash = ok && !same_params(&parsed, &params);
            Ok(Verification {
                ok: ok && exists,
                needs_rehash,
            })
        })
        .await?
    }

    async fn dummy_hash(&self) -> anyhow::Result<&str> {
        self.dummy_hash
            .get_or_try_init(|| async { self.hash(&Secret::generate()).await })
            .await
            .map(String::as_str)
    }
}

fn same_params(hash: &PasswordHash<'_>, params: &Params) -> bool {
    hash.algorithm.as_str() == "argon2id"
        && Params::try_from(hash).is_ok_and(|p| {
            p.m_cost() == params.m_cost()
                && p.t_cost() == params.t_cost()
                && p.p_cost() == params.p_cost()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(iterations: u32) -> PasswordConfig {
        PasswordConfig {
            argon2_memory_kib: 1024,
            argon2_iterations: iterations,
            argon2_parallelism: 1,
            max_concurrent_hashes: 1,
        }
    }

    #[tokio::test]
    async fn right_password_verifies_and_wrong_one_does_not() {
        let hasher = PasswordHasher::new(&config(1)).unwrap();
        let hash = hasher
            .hash(&Secret::from_presented("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let ok = hasher
            .verify(&Secret::from_presented("correct horse"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                ok: true,
                needs_rehash: false
            }
        );
        let bad = hasher
            .verify(&Secret::from_presented("wrong"), Some(&hash))
            .await
            .unwrap();
        assert!(!bad.ok);
    }

    #[tokio::test]
    async fn missing_account_never_verifies() {
        let hasher = PasswordHasher::new(&config(1)).unwrap();
        assert!(
            !hasher
                .verify(&Secret::from_presented("x"), None)
                .await
                .unwrap()
                .ok
        );
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_a_rehash() {
        let old = PasswordHasher::new(&config(1)).unwrap();
        let hash = old.hash(&Secret::from_presented("pw")).await.unwrap();
        let new = PasswordHasher::new(&config(2)).unwrap();
        let v = new
            .verify(&Secret::from_presented("pw"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verification {
                ok: true,
                needs_rehash: true
            }
        );
    }
}
