//! The identifiers files (`establishments::identifiers`): which accounts each file of an
//! establishment listed, so that the next one lists only the others.

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;

use super::SqlStore;
use crate::accounts::{AccountState, Profile};
use crate::establishments::model::IdentifierRow;

impl SqlStore {
    pub(super) async fn write_identifiers_file(
        &self,
        uai: &str,
        file_id: &str,
        actor: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<IdentifierRow>> {
        let mut tx = self.begin().await?;
        // The primary key (uai, account_id) and DO NOTHING: of two files produced at once,
        // each account goes to one only.
        let listed = sqlx::query(
            "INSERT INTO identifiers_listed (uai, account_id, file_id)
             SELECT $1, x.account_id, $2 FROM (
                 SELECT e.account_id FROM enrolments e WHERE e.uai = $1 AND e.left_at IS NULL
                 UNION
                 SELECT p.account_id FROM persons p WHERE p.uai = $1 AND p.left_at IS NULL
             ) x
             WHERE NOT EXISTS (SELECT 1 FROM identifiers_listed l
                               WHERE l.uai = $1 AND l.account_id = x.account_id)
             ON CONFLICT (uai, account_id) DO NOTHING",
        )
        .bind(uai)
        .bind(file_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "INSERT INTO identifier_files (id, uai, actor, accounts, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(file_id)
        .bind(uai)
        .bind(actor)
        .bind(i64::try_from(listed)?)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "SELECT a.id, a.login, a.given_name, a.family_name, a.profile, a.state, e.division
             FROM identifiers_listed l
             JOIN accounts a ON a.id = l.account_id
             LEFT JOIN enrolments e ON e.uai = l.uai AND e.account_id = a.id
                                    AND e.left_at IS NULL
             WHERE l.file_id = $1",
        )
        .bind(file_id)
        .fetch_all(&mut *tx)
        .await?;
        let children = sqlx::query(
            "SELECT p.account_id, e.division
             FROM identifiers_listed l
             JOIN persons p ON p.uai = l.uai AND p.account_id = l.account_id
                           AND p.left_at IS NULL
             JOIN links k ON k.uai = p.uai AND k.personne_id = p.personne_id
             JOIN enrolments e ON e.uai = k.uai AND e.eleve_id = k.eleve_id
                              AND e.left_at IS NULL
             WHERE l.file_id = $1",
        )
        .bind(file_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut classes: HashMap<String, BTreeSet<String>> = HashMap::new();
        for row in &children {
            if let Some(class) = row.try_get::<Option<String>, _>("division")? {
                classes
                    .entry(row.try_get("account_id")?)
                    .or_default()
                    .insert(class);
            }
        }
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let profile: String = row.try_get("profile")?;
                let state: String = row.try_get("state")?;
                let class = match row.try_get::<Option<String>, _>("division")? {
                    Some(class) => Some(class),
                    None => classes
                        .get(&id)
                        .map(|c| c.iter().cloned().collect::<Vec<_>>().join(", ")),
                };
                Ok(IdentifierRow {
                    login: row.try_get("login")?,
                    given_name: row.try_get("given_name")?,
                    family_name: row.try_get("family_name")?,
                    class,
                    profile: Profile::parse(&profile)
                        .ok_or_else(|| anyhow::anyhow!("unknown profile {profile}"))?,
                    state: AccountState::parse(&state)
                        .ok_or_else(|| anyhow::anyhow!("unknown state {state}"))?,
                })
            })
            .collect()
    }
}
