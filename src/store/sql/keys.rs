//! Signing keys.

use anyhow::Context;
use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::store::KeyStore;
use crate::tokens::keys::{SigningAlg, StoredKey};

#[async_trait]
impl KeyStore for SqlStore {
    async fn keys(&self) -> anyhow::Result<Vec<StoredKey>> {
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT kid, alg, sealed_private_key, public_jwk, created_at, signing_from, retire_at
                     FROM signing_keys ORDER BY signing_from, kid",
                )
                .fetch_all(&self.pool)
            })
            .await?;
        rows.iter()
            .map(|row| {
                let alg: String = row.try_get("alg")?;
                Ok(StoredKey {
                    kid: row.try_get("kid")?,
                    alg: SigningAlg::parse(&alg).with_context(|| format!("unknown alg {alg}"))?,
                    sealed_private_key: row.try_get("sealed_private_key")?,
                    public_jwk: row.try_get("public_jwk")?,
                    created_at: row.try_get("created_at")?,
                    signing_from: row.try_get("signing_from")?,
                    retire_at: row.try_get("retire_at")?,
                })
            })
            .collect()
    }

    async fn insert_key(&self, key: &StoredKey) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, sealed_private_key, public_jwk, created_at, signing_from, retire_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(key.alg.as_str())
        .bind(&key.sealed_private_key)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .bind(key.signing_from)
        .bind(key.retire_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_key_retire_at(&self, kid: &str, retire_at_ms: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE signing_keys SET retire_at = $1 WHERE kid = $2")
            .bind(retire_at_ms)
            .bind(kid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_retired_keys(&self, now_ms: i64) -> anyhow::Result<u64> {
        let done =
            sqlx::query("DELETE FROM signing_keys WHERE retire_at IS NOT NULL AND retire_at <= $1")
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}
