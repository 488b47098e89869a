//! Bounded growth: expired and revoked grants, old used refresh tokens and retired keys are
//! deleted in small batches, each in its own transaction, so a purge never holds long locks.
//! On PostgreSQL each batch takes a transaction-level advisory lock: a replica that finds it
//! taken stops (another one is purging). SQLite is single-process.

use sqlx::Row;

use super::{Dialect, SqlStore};
use crate::store::{KeyStore, Purged};

/// Arbitrary, fixed: the advisory lock key of the purge job.
const PURGE_LOCK: i64 = 0x6564_7563_6f6e;

pub async fn purge(
    store: &SqlStore,
    now_ms: i64,
    used_before_ms: i64,
    batch: i64,
) -> anyhow::Result<Purged> {
    let mut purged = Purged::default();
    loop {
        let mut tx = store.begin().await?;
        if store.dialect == Dialect::Postgres {
            let locked: bool = sqlx::query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind(PURGE_LOCK)
                .fetch_one(&mut *tx)
                .await?
                .try_get("locked")?;
            if !locked {
                purged.skipped = true;
                return Ok(purged);
            }
        }
        let ids: Vec<String> = sqlx::query(
            "SELECT id FROM grants WHERE expires_at <= $1 OR revoked_at <= $2 ORDER BY expires_at LIMIT $3",
        )
        .bind(now_ms)
        .bind(now_ms)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in &ids {
            // Explicit, not ON DELETE CASCADE: SQLite enforces foreign keys only when asked.
            let tokens = sqlx::query("DELETE FROM refresh_tokens WHERE grant_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            purged.refresh_tokens += tokens.rows_affected();
            sqlx::query("DELETE FROM grants WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        purged.grants += ids.len() as u64;
        // Used tokens of live grants: kept a while so a late reuse still revokes its grant.
        let used = sqlx::query(
            "DELETE FROM refresh_tokens WHERE digest IN
               (SELECT digest FROM refresh_tokens WHERE used_at <= $1 LIMIT $2)",
        )
        .bind(used_before_ms)
        .bind(batch)
        .execute(&mut *tx)
        .await?;
        purged.refresh_tokens += used.rows_affected();
        tx.commit().await?;
        if (ids.len() as i64) < batch && (used.rows_affected() as i64) < batch {
            break;
        }
    }
    purged.keys = store.delete_retired_keys(now_ms).await?;
    Ok(purged)
}
