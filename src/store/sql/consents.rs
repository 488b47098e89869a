//! Consents, and the clients an account gave access to (Mon compte's connected services).

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::store::{ConnectedClient, ConsentStore};

#[async_trait]
impl ConsentStore for SqlStore {
    async fn consented_scopes(
        &self,
        account_id: &str,
        client_id: &str,
    ) -> anyhow::Result<Vec<String>> {
        let row = self
            .retry(|| {
                sqlx::query("SELECT scopes FROM consents WHERE account_id = $1 AND client_id = $2")
                    .bind(account_id)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
            })
            .await?;
        Ok(match row {
            Some(row) => row
                .try_get::<String, _>("scopes")?
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        })
    }

    async fn put_consent(
        &self,
        account_id: &str,
        client_id: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let scopes = scopes.join(" ");
        // An upsert: run twice, the same row.
        self.retry(|| {
            sqlx::query(
            "INSERT INTO consents (account_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes,
                 granted_at = excluded.granted_at",
        )
        .bind(account_id)
        .bind(client_id)
        .bind(&scopes)
        .bind(now_ms)
        .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn delete_consent(&self, account_id: &str, client_id: &str) -> anyhow::Result<bool> {
        let done = self
            .retry(|| {
                sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
                    .bind(account_id)
                    .bind(client_id)
                    .execute(&self.pool)
            })
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn connected_clients(
        &self,
        account_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<ConnectedClient>> {
        let consents = self
            .retry(|| {
                sqlx::query(
                    "SELECT client_id, scopes, granted_at FROM consents WHERE account_id = $1",
                )
                .bind(account_id)
                .fetch_all(&self.pool)
            })
            .await?;
        let grants = self
            .retry(|| {
                sqlx::query(
                    "SELECT client_id, scope, created_at FROM grants WHERE account_id = $1 \
                     AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(account_id)
                .bind(now_ms)
                .fetch_all(&self.pool)
            })
            .await?;
        let words = |raw: String| -> Vec<String> {
            raw.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut by_client: std::collections::BTreeMap<String, (Vec<String>, i64, bool)> =
            std::collections::BTreeMap::new();
        for row in consents {
            let client_id: String = row.try_get("client_id")?;
            let scopes = words(row.try_get("scopes")?);
            let at: i64 = row.try_get("granted_at")?;
            by_client.insert(client_id, (scopes, at, true));
        }
        for row in grants {
            let client_id: String = row.try_get("client_id")?;
            let scopes = words(row.try_get("scope")?);
            let at: i64 = row.try_get("created_at")?;
            let entry = by_client
                .entry(client_id)
                .or_insert((Vec::new(), at, false));
            entry.1 = entry.1.min(at);
            // Without a consent, what the grants give is what the client holds.
            if !entry.2 {
                for scope in scopes {
                    if !entry.0.contains(&scope) {
                        entry.0.push(scope);
                    }
                }
            }
        }
        Ok(by_client
            .into_iter()
            .map(|(client_id, (scopes, since_ms, _))| ConnectedClient {
                client_id,
                scopes,
                since_ms,
            })
            .collect())
    }
}
