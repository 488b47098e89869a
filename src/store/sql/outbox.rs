//! The outbox table (`crate::outbox`): messages queued, and their delivery status.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Dialect, SqlStore};
use crate::outbox::{Attempt, Channel, Outgoing, Purpose, Queued, Status};
use crate::store::{DeliveryLock, OutboxStore};

/// The outbox worker's advisory lock: a fixed class (arbitrary; the purge job's lock is another
/// key) and the schema's hash, so that deployments, or test runs, sharing a database in
/// schemas of their own do not wait for each other.
const DELIVERY_LOCK: &str =
    "SELECT pg_try_advisory_xact_lock(1701077877, hashtext(current_schema())) AS locked";

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

    async fn try_lock_delivery(&self) -> anyhow::Result<Option<Box<dyn DeliveryLock>>> {
        if self.dialect == Dialect::Sqlite {
            return Ok(self
                .delivery
                .clone()
                .try_lock_owned()
                .ok()
                .map(|guard| Box::new(ProcessLock(guard)) as Box<dyn DeliveryLock>));
        }
        let mut tx = self.begin().await?;
        let locked: bool = sqlx::query(DELIVERY_LOCK)
            .fetch_one(&mut *tx)
            .await?
            .try_get("locked")?;
        if !locked {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(Box::new(AdvisoryLock(tx))))
    }

    async fn due_messages(
        &self,
        now_ms: i64,
        channels: &[Channel],
        limit: i64,
    ) -> anyhow::Result<Vec<Queued>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        // The channels are this program's names (`Channel::as_str`), never input.
        let names: Vec<String> = channels
            .iter()
            .map(|c| format!("'{}'", c.as_str()))
            .collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
               AND channel IN ({})
             ORDER BY next_attempt_at, id LIMIT $2",
            names.join(", ")
        );
        let rows = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(now_ms)
                    .bind(limit)
                    .fetch_all(&self.pool)
            })
            .await?;
        rows.iter().map(queued_from).collect()
    }

    async fn record_attempt(
        &self,
        id: &str,
        attempts_before: i64,
        attempt: &Attempt,
    ) -> anyhow::Result<bool> {
        // Guarded by the state it was read in: run twice, the second run matches nothing.
        const GUARD: &str = "WHERE id = $1 AND status = 'pending' AND attempts = $2";
        let done = match attempt {
            Attempt::Sent { at } => {
                let sql = format!(
                    "UPDATE outbox SET status = 'sent', attempts = $2 + 1, sent_at = $3 {GUARD}"
                );
                self.retry(|| {
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(attempts_before)
                        .bind(*at)
                        .execute(&self.pool)
                })
                .await?
            }
            Attempt::Retry {
                next_attempt_at,
                error,
            } => {
                let sql = format!(
                    "UPDATE outbox SET attempts = $2 + 1, next_attempt_at = $3, last_error = $4 \
                     {GUARD}"
                );
                self.retry(|| {
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(attempts_before)
                        .bind(*next_attempt_at)
                        .bind(error)
                        .execute(&self.pool)
                })
                .await?
            }
            Attempt::Failed { error } => {
                let sql = format!(
                    "UPDATE outbox SET status = 'failed', attempts = $2 + 1, last_error = $3 \
                     {GUARD}"
                );
                self.retry(|| {
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(attempts_before)
                        .bind(error)
                        .execute(&self.pool)
                })
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    async fn purge_settled_messages(&self, before_ms: i64, batch: i64) -> anyhow::Result<u64> {
        let mut purged = 0;
        loop {
            // Settled: sent (sent_at) or given up (the last attempt's time is next_attempt_at's
            // neighbour; created_at bounds both, and a message settles within hours).
            let deleted = self
                .retry(|| {
                    sqlx::query(
                        "DELETE FROM outbox WHERE id IN
                           (SELECT id FROM outbox
                            WHERE status IN ('sent', 'failed') AND created_at < $1 LIMIT $2)",
                    )
                    .bind(before_ms)
                    .bind(batch)
                    .execute(&self.pool)
                })
                .await?
                .rows_affected();
            purged += deleted;
            if (deleted as i64) < batch {
                return Ok(purged);
            }
        }
    }

    async fn pending_messages(&self) -> anyhow::Result<i64> {
        let row = self
            .retry(|| {
                sqlx::query("SELECT COUNT(*) AS pending FROM outbox WHERE status = 'pending'")
                    .fetch_one(&self.pool)
            })
            .await?;
        Ok(row.try_get("pending")?)
    }
}

/// PostgreSQL: the transaction that holds `pg_try_advisory_xact_lock`; it writes nothing, and
/// ending it releases the lock.
struct AdvisoryLock(sqlx::Transaction<'static, sqlx::Any>);

#[async_trait]
impl DeliveryLock for AdvisoryLock {
    async fn release(self: Box<Self>) -> anyhow::Result<()> {
        self.0.rollback().await?;
        Ok(())
    }
}

/// SQLite: one process, one store: a mutex of the store's.
struct ProcessLock(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

#[async_trait]
impl DeliveryLock for ProcessLock {
    async fn release(self: Box<Self>) -> anyhow::Result<()> {
        Ok(())
    }
}
