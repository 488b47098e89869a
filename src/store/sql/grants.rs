//! Refresh grants and their token chains. Consumption is one conditional `UPDATE ... RETURNING`:
//! of concurrent presentations of one token, the database lets exactly one match.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{flag, Dialect, SqlStore};
use crate::oidc::grants::{Grant, RefreshToken};
use crate::store::{GrantStore, Rotation};

const GRANT_COLUMNS: &str =
    "id, account_id, client_id, scope, sid, offline, auth_time, acr, amr, created_at, expires_at";

fn grant_from(row: &AnyRow) -> anyhow::Result<Grant> {
    let amr: String = row.try_get("amr")?;
    Ok(Grant {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        client_id: row.try_get("client_id")?,
        scope: row.try_get("scope")?,
        sid: row.try_get("sid")?,
        offline: row.try_get::<i64, _>("offline")? != 0,
        auth_time: row.try_get("auth_time")?,
        acr: row.try_get("acr")?,
        amr: amr
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

async fn insert_token(
    tx: &mut Transaction<'_, Any>,
    token: &RefreshToken,
    grant_id: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (digest, grant_id, parent_digest, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&token.digest)
    .bind(grant_id)
    .bind(&token.parent_digest)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn active_grant(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Grant>> {
    let row = sqlx::query(&format!(
        "SELECT {GRANT_COLUMNS} FROM grants WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2"
    ))
    .bind(id)
    .bind(now_ms)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(grant_from).transpose()
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn insert_grant(&self, g: &Grant, first: &RefreshToken) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&g.id)
        .bind(&g.account_id)
        .bind(&g.client_id)
        .bind(&g.scope)
        .bind(&g.sid)
        .bind(flag(g.offline))
        .bind(g.auth_time)
        .bind(&g.acr)
        .bind(g.amr.join(" "))
        .bind(g.created_at)
        .bind(g.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_token(&mut tx, first, &g.id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn grant(&self, id: &str) -> anyhow::Result<Option<Grant>> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(id).fetch_optional(&self.pool))
            .await?;
        row.as_ref().map(grant_from).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        client_id: &str,
        presented: &str,
        successor: &RefreshToken,
        now_ms: i64,
        grace_ms: i64,
    ) -> anyhow::Result<Rotation> {
        if self.dialect == Dialect::Postgres {
            // The common case in one statement (one round trip, one commit): consume the token
            // if it and its grant are active, chain the successor, return the grant. Anything
            // else (reuse, grace, invalid) falls through to the transaction below.
            let sql = format!(
                "WITH consumed AS (
                   UPDATE refresh_tokens SET used_at = $1
                   WHERE digest = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3
                     AND grant_id IN (SELECT id FROM grants WHERE client_id = $4
                                      AND revoked_at IS NULL AND expires_at > $5)
                   RETURNING grant_id
                 ), chained AS (
                   INSERT INTO refresh_tokens (digest, grant_id, parent_digest, created_at, expires_at)
                   SELECT $6, grant_id, $7, $8, $9 FROM consumed
                   RETURNING grant_id
                 )
                 SELECT {GRANT_COLUMNS} FROM grants WHERE id = (SELECT grant_id FROM chained)"
            );
            // RFC 9700 §4.14.2: consuming twice would answer `Reused` to a first use.
            let rotate = || {
                sqlx::query(&sql)
                    .bind(now_ms)
                    .bind(presented)
                    .bind(now_ms)
                    .bind(client_id)
                    .bind(now_ms)
                    .bind(&successor.digest)
                    .bind(presented)
                    .bind(successor.created_at)
                    .bind(successor.expires_at)
                    .fetch_optional(&self.pool)
            };
            if let Some(row) = self.retry_if_not_run(rotate).await? {
                return Ok(Rotation::Rotated(grant_from(&row)?));
            }
        }
        let mut tx = self.begin().await?;
        // RFC 9700 §4.14.2: the presented token is consumed at most once.
        let consumed = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1
             WHERE digest = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3
               AND grant_id IN (SELECT id FROM grants WHERE client_id = $4)
             RETURNING grant_id",
        )
        .bind(now_ms)
        .bind(presented)
        .bind(now_ms)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = consumed {
            let grant_id: String = row.try_get("grant_id")?;
            let Some(grant) = active_grant(&mut tx, &grant_id, now_ms).await? else {
                tx.rollback().await?;
                return Ok(Rotation::Invalid);
            };
            insert_token(&mut tx, successor, &grant_id).await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated(grant));
        }
        let known = sqlx::query(
            "SELECT t.grant_id, t.used_at, t.revoked_at FROM refresh_tokens t
             JOIN grants g ON g.id = t.grant_id WHERE t.digest = $1 AND g.client_id = $2",
        )
        .bind(presented)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(known) = known else {
            return Ok(Rotation::Invalid);
        };
        let grant_id: String = known.try_get("grant_id")?;
        let used_at: Option<i64> = known.try_get("used_at")?;
        let revoked_at: Option<i64> = known.try_get("revoked_at")?;
        let Some(used_at) = used_at.filter(|_| revoked_at.is_none()) else {
            return Ok(Rotation::Invalid);
        };
        if grace_ms > 0 && now_ms - used_at <= grace_ms {
            // A lost response: replace the unused child, so one valid child remains.
            let replaced = sqlx::query(
                "UPDATE refresh_tokens SET revoked_at = $1
                 WHERE parent_digest = $2 AND used_at IS NULL AND revoked_at IS NULL
                 RETURNING digest",
            )
            .bind(now_ms)
            .bind(presented)
            .fetch_optional(&mut *tx)
            .await?;
            if replaced.is_some() {
                if let Some(grant) = active_grant(&mut tx, &grant_id, now_ms).await? {
                    let successor = RefreshToken {
                        parent_digest: Some(presented.to_owned()),
                        ..successor.clone()
                    };
                    insert_token(&mut tx, &successor, &grant_id).await?;
                    tx.commit().await?;
                    return Ok(Rotation::ReissuedWithinGrace(grant));
                }
                tx.rollback().await?;
                return Ok(Rotation::Invalid);
            }
        }
        tx.rollback().await?;
        Ok(Rotation::Reused { grant_id })
    }

    async fn refresh_token_grant(
        &self,
        client_id: &str,
        digest: &str,
    ) -> anyhow::Result<Option<Grant>> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM grants
             WHERE client_id = $1 AND id = (SELECT grant_id FROM refresh_tokens WHERE digest = $2)"
        );
        let row = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(client_id)
                    .bind(digest)
                    .fetch_optional(&self.pool)
            })
            .await?;
        row.as_ref().map(grant_from).transpose()
    }

    async fn active_refresh_token(
        &self,
        digest: &str,
        now_ms: i64,
    ) -> anyhow::Result<Option<(RefreshToken, Grant)>> {
        let read = || {
            sqlx::query(
            "SELECT t.digest, t.parent_digest, t.created_at AS token_created_at,
                    t.expires_at AS token_expires_at, g.id, g.account_id, g.client_id, g.scope, g.sid,
                    g.offline, g.auth_time, g.acr, g.amr, g.created_at, g.expires_at
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
             WHERE t.digest = $1 AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
               AND g.revoked_at IS NULL",
        )
        .bind(digest)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        };
        let row = self.retry(read).await?;
        let Some(row) = row else { return Ok(None) };
        let grant = grant_from(&row)?;
        let token = RefreshToken {
            digest: row.try_get("digest")?,
            grant_id: grant.id.clone(),
            parent_digest: row.try_get("parent_digest")?,
            created_at: row.try_get("token_created_at")?,
            expires_at: row.try_get("token_expires_at")?,
        };
        Ok(Some((token, grant)))
    }

    async fn revoke_grant(&self, id: &str, now_ms: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_account_grants(
        &self,
        account_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<String>> {
        let rows = self
            .retry(|| {
                sqlx::query("SELECT id FROM grants WHERE account_id = $1 AND revoked_at IS NULL")
                    .bind(account_id)
                    .fetch_all(&self.pool)
            })
            .await?;
        self.revoke_each(rows, now_ms).await
    }

    async fn revoke_session_grants(&self, sid: &str, now_ms: i64) -> anyhow::Result<Vec<String>> {
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT id FROM grants WHERE sid = $1 AND offline = 0 AND revoked_at IS NULL",
                )
                .bind(sid)
                .fetch_all(&self.pool)
            })
            .await?;
        self.revoke_each(rows, now_ms).await
    }

    async fn revoke_client_grants(
        &self,
        account_id: &str,
        client_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<String>> {
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT id FROM grants WHERE account_id = $1 AND client_id = $2 \
                     AND revoked_at IS NULL",
                )
                .bind(account_id)
                .bind(client_id)
                .fetch_all(&self.pool)
            })
            .await?;
        self.revoke_each(rows, now_ms).await
    }
}

impl SqlStore {
    /// Revokes the grants of `rows` (an `id` column); returns those that were active.
    async fn revoke_each(&self, rows: Vec<AnyRow>, now_ms: i64) -> anyhow::Result<Vec<String>> {
        let mut revoked = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            if self.revoke_grant(&id, now_ms).await? {
                revoked.push(id);
            }
        }
        Ok(revoked)
    }
}
