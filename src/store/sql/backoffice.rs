//! The back-office's reads of an establishment's accounts (`BackofficeQueries`): who it
//! records, with their classes there; a pupil's guardians; the correction of the contact
//! details Siècle gives.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use sqlx::Row;

use super::accounts::{account_from, READ_COLUMNS};
use super::SqlStore;
use crate::accounts::Profile;
use crate::establishments::account_model::{EstablishmentAccount, PupilGuardian};
use crate::store::BackofficeQueries;

#[async_trait]
impl BackofficeQueries for SqlStore {
    async fn establishment_accounts(&self, uai: &str) -> anyhow::Result<Vec<EstablishmentAccount>> {
        let columns = prefixed("a", READ_COLUMNS);
        // A pupil once per enrolment (one current enrolment per establishment), a guardian once
        // per child there (or once, childless); folded into one entry per account below.
        let sql = format!(
            "SELECT {columns}, e.division AS class
             FROM enrolments e JOIN accounts a ON a.id = e.account_id
             WHERE e.uai = $1 AND e.left_at IS NULL AND a.profile = 'pupil'
             UNION ALL
             SELECT {columns}, c.division AS class
             FROM persons p
             JOIN accounts a ON a.id = p.account_id
             LEFT JOIN links l ON l.uai = p.uai AND l.personne_id = p.personne_id
             LEFT JOIN enrolments c ON c.uai = l.uai AND c.eleve_id = l.eleve_id
                                   AND c.left_at IS NULL
             WHERE p.uai = $2 AND p.left_at IS NULL AND a.profile <> 'pupil'
               AND a.merged_into IS NULL"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(uai).bind(uai).fetch_all(&self.pool))
            .await?;
        let mut found: Vec<EstablishmentAccount> = Vec::new();
        let mut classes: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            let account = account_from(row)?;
            let id = account.id.clone();
            if let Some(class) = row.try_get::<Option<String>, _>("class")? {
                classes.entry(id.clone()).or_default().insert(class);
            }
            index.entry(id).or_insert_with(|| {
                found.push(EstablishmentAccount {
                    account,
                    classes: Vec::new(),
                });
                found.len() - 1
            });
        }
        for entry in &mut found {
            if let Some(set) = classes.remove(&entry.account.id) {
                entry.classes = set.into_iter().collect();
            }
        }
        Ok(found)
    }

    async fn pupil_guardians(&self, pupil_id: &str) -> anyhow::Result<Vec<PupilGuardian>> {
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT a.id, a.login, a.given_name, a.family_name, a.profile, p.uai, l.legal
                     FROM enrolments e
                     JOIN links l ON l.uai = e.uai AND l.eleve_id = e.eleve_id
                     JOIN persons p ON p.uai = l.uai AND p.personne_id = l.personne_id
                                   AND p.left_at IS NULL
                     JOIN accounts a ON a.id = p.account_id
                     WHERE e.account_id = $1 AND e.left_at IS NULL
                     ORDER BY p.uai, a.family_name, a.given_name, a.id",
                )
                .bind(pupil_id)
                .fetch_all(&self.pool)
            })
            .await?;
        let mut guardians: Vec<PupilGuardian> = Vec::new();
        for row in &rows {
            let profile: String = row.try_get("profile")?;
            let guardian = PupilGuardian {
                account_id: row.try_get("id")?,
                login: row.try_get("login")?,
                given_name: row.try_get("given_name")?,
                family_name: row.try_get("family_name")?,
                profile: Profile::parse(&profile)
                    .ok_or_else(|| anyhow::anyhow!("unknown profile {profile}"))?,
                uai: row.try_get("uai")?,
                legal: row.try_get::<i64, _>("legal")? != 0,
            };
            // Two records of one person in one establishment show once.
            if !guardians
                .iter()
                .any(|g| g.account_id == guardian.account_id && g.uai == guardian.uai)
            {
                guardians.push(guardian);
            }
        }
        Ok(guardians)
    }

    async fn set_siecle_contact(
        &self,
        id: &str,
        email: Option<&str>,
        phone: Option<&str>,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        // Given values: the same state when run twice.
        self.retry(|| {
            sqlx::query("UPDATE accounts SET email = $1, phone = $2, updated_at = $3 WHERE id = $4")
                .bind(email)
                .bind(phone)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
        })
        .await?;
        Ok(())
    }
}

/// `a.id, a.login, ...` for the columns of one table aliased `alias`.
fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
