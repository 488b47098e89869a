//! The outbox table (`crate::outbox`): messages queued, and their delivery status.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::outbox::{Channel, Outgoing, Purpose, Queued, Status};
use crate::store::OutboxStore;

const COLUMNS: &str = "id, channel, recipient, subject, purpose, account_id, sealed_body, status, \
                       attempts, next_attempt_at, last_error, created_at, sent_at";

/// Writes `m` as a pending message, due at once, on `executor` (the pool, or the transaction
/// of what caused it).
pub(super) async fn insert<'e, E>(executor: E, m: &Outgoing) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, purpose, account_id, sealed_body,
                             status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9)",
    )
    .bind(&m.id)
    .bind(m.channel.as_str())
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(m.purpose.as_str())
    .bind(&m.account_id)
    .bind(&m.sealed_body)
    .bind(m.created_at)
    .bind(m.created_at)
    .execute(executor)
    .await?;
    Ok(())
}

pub(super) fn queued_from(row: &AnyRow) -> anyhow::Result<Queued> {
    let channel: String = row.try_get("channel")?;
    let purpose: String = row.try_get("purpose")?;
    let status: String = row.try_get("status")?;
    Ok(Queued {
        message: Outgoing {
            id: row.try_get("id")?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| anyhow::anyhow!("unknown channel {channel}"))?,
            recipient: row.try_get("recipient")?,
            subject: row.try_get("subject")?,
            purpose: Purpose::parse(&purpose)
                .ok_or_else(|| anyhow::anyhow!("unknown purpose {purpose}"))?,
            account_id: row.try_get("account_id")?,
            sealed_body: row.try_get("sealed_body")?,
            created_at: row.try_get("created_at")?,
        },
        status: Status::parse(&status).ok_or_else(|| anyhow::anyhow!("unknown status {status}"))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: row.try_get("sent_at")?,
    })
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue(&self, message: &Outgoing) -> anyhow::Result<()> {
        self.retry_if_not_run(|| insert(&self.pool, message))
            .await?;
        Ok(())
    }

    async fn message(&self, id: &str) -> anyhow::Result<Option<Queued>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(id).fetch_optional(&self.pool))
            .await?;
        row.as_ref().map(queued_from).transpose()
    }

    async fn recent_messages(&self, limit: i64) -> anyhow::Result<Vec<Queued>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id LIMIT $1");
        let rows = self
            .retry(|| sqlx::query(&sql).bind(limit).fetch_all(&self.pool))
            .await?;
        rows.iter().map(queued_from).collect()
    }

    async fn account_messages(&self, account_id: &str) -> anyhow::Result<Vec<Queued>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE account_id = $1 ORDER BY created_at DESC, id"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(account_id).fetch_all(&self.pool))
            .await?;
        rows.iter().map(queued_from).collect()
    }
}
