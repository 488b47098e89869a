//! Upstream identities tied to accounts (`federated_identities`, migration 0015).

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::store::{FederationStore, TieOutcome};

#[async_trait]
impl FederationStore for SqlStore {
    async fn account_of_upstream(
        &self,
        issuer: &str,
        subject: &str,
    ) -> anyhow::Result<Option<String>> {
        let row = self
            .retry(|| {
                sqlx::query(
                    "SELECT account_id FROM federated_identities WHERE issuer = $1 AND subject = $2",
                )
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.pool)
            })
            .await?;
        row.map(|row| row.try_get("account_id"))
            .transpose()
            .map_err(Into::into)
    }

    async fn tie_upstream(
        &self,
        issuer: &str,
        subject: &str,
        account_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<TieOutcome> {
        // Either unique key refuses the row; run twice, the second finds its own row (Tied).
        let inserted = self
            .retry(|| {
                sqlx::query(
                    "INSERT INTO federated_identities (issuer, subject, account_id, tied_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(issuer)
                .bind(subject)
                .bind(account_id)
                .bind(now_ms)
                .execute(&self.pool)
            })
            .await?;
        if inserted.rows_affected() == 1 {
            return Ok(TieOutcome::Tied);
        }
        Ok(match self.account_of_upstream(issuer, subject).await? {
            Some(tied) if tied == account_id => TieOutcome::Tied,
            Some(other) => TieOutcome::IdentityTiedElsewhere { account_id: other },
            None => TieOutcome::AccountTiedToAnother,
        })
    }

    async fn upstream_of_account(
        &self,
        account_id: &str,
        issuer: &str,
    ) -> anyhow::Result<Option<String>> {
        let row = self
            .retry(|| {
                sqlx::query(
                    "SELECT subject FROM federated_identities WHERE account_id = $1 AND issuer = $2",
                )
                .bind(account_id)
                .bind(issuer)
                .fetch_optional(&self.pool)
            })
            .await?;
        row.map(|row| row.try_get("subject"))
            .transpose()
            .map_err(Into::into)
    }

    async fn untie_upstream(&self, account_id: &str, issuer: &str) -> anyhow::Result<bool> {
        let done = self
            .retry(|| {
                sqlx::query(
                    "DELETE FROM federated_identities WHERE account_id = $1 AND issuer = $2",
                )
                .bind(account_id)
                .bind(issuer)
                .execute(&self.pool)
            })
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
