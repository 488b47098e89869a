//! Consents.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::store::ConsentStore;

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
}
