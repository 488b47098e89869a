//! The audit trail's table (`crate::audit`).

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::audit::event::Event;
use crate::store::{AuditQuery, AuditStore};

const COLUMNS: &str = "id, at, actor, action, subject, uai, address, outcome, detail";

fn event_from(row: &AnyRow) -> anyhow::Result<Event> {
    Ok(Event {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        uai: row.try_get("uai")?,
        address: row.try_get("address")?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
    })
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record_event(&self, e: &Event) -> anyhow::Result<()> {
        // An event has its own id: run twice, the second insert does nothing.
        let sql = format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO NOTHING"
        );
        self.retry(|| {
            sqlx::query(&sql)
                .bind(&e.id)
                .bind(e.at)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.subject)
                .bind(&e.uai)
                .bind(&e.address)
                .bind(&e.outcome)
                .bind(&e.detail)
                .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn events(&self, q: &AuditQuery) -> anyhow::Result<Vec<Event>> {
        // Each filter is bound, absent or not, so that the statement is one text whatever is
        // asked; `$n IS NULL` keeps an absent filter out.
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events
             WHERE ($1 IS NULL OR uai = $1) AND ($2 IS NULL OR subject = $2)
               AND at < $3
             ORDER BY at DESC, id DESC LIMIT $4"
        );
        let rows = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(&q.uai)
                    .bind(&q.subject)
                    .bind(q.before.unwrap_or(i64::MAX))
                    .bind(q.limit)
                    .fetch_all(&self.pool)
            })
            .await?;
        rows.iter().map(event_from).collect()
    }

    async fn last_event(&self, subject: &str, action: &str) -> anyhow::Result<Option<i64>> {
        let row = self
            .retry(|| {
                sqlx::query(
                    "SELECT at FROM audit_events WHERE subject = $1 AND action = $2
                       AND outcome = 'ok' ORDER BY at DESC LIMIT 1",
                )
                .bind(subject)
                .bind(action)
                .fetch_optional(&self.pool)
            })
            .await?;
        Ok(row.map(|r| r.try_get("at")).transpose()?)
    }

    async fn purge_events(&self, before_ms: i64, batch: i64) -> anyhow::Result<u64> {
        let mut purged = 0;
        loop {
            let deleted = self
                .retry(|| {
                    sqlx::query(
                        "DELETE FROM audit_events WHERE id IN
                           (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)",
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
}
