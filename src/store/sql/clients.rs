//! Relying parties: id, secret digest, and the rest of the registration as JSON.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::clients::Client;
use crate::store::ClientStore;

fn client_from(row: &AnyRow) -> anyhow::Result<Client> {
    let mut client: Client = serde_json::from_str(&row.try_get::<String, _>("metadata")?)?;
    client.id = row.try_get("id")?;
    client.secret_digest = row.try_get("secret_digest")?;
    client.created_at = row.try_get("created_at")?;
    Ok(client)
}

#[async_trait]
impl ClientStore for SqlStore {
    async fn client(&self, id: &str) -> anyhow::Result<Option<Client>> {
        let row = self
            .retry(|| {
                sqlx::query(
                    "SELECT id, secret_digest, metadata, created_at FROM clients WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
            })
            .await?;
        row.as_ref().map(client_from).transpose()
    }

    async fn put_client(&self, client: &Client) -> anyhow::Result<()> {
        let metadata = serde_json::to_string(client)?;
        // An upsert: run twice, the same row.
        self.retry(|| {
            sqlx::query(
            "INSERT INTO clients (id, secret_digest, metadata, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET secret_digest = excluded.secret_digest,
                 metadata = excluded.metadata",
        )
        .bind(&client.id)
        .bind(&client.secret_digest)
        .bind(&metadata)
        .bind(client.created_at)
        .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn clients(&self) -> anyhow::Result<Vec<Client>> {
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT id, secret_digest, metadata, created_at FROM clients ORDER BY id",
                )
                .fetch_all(&self.pool)
            })
            .await?;
        rows.iter().map(client_from).collect()
    }

    async fn delete_client(&self, id: &str) -> anyhow::Result<bool> {
        let done = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
