//! One establishment's Siècle import as one transaction (`SqlImport`): the snapshot it is
//! compared with, the lookups of the matching, and the bulk writes of the difference.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};

use super::batch::{select_in, with_rows, Val};
use crate::accounts::Account;
use crate::provisioning::model::{
    Changes, EnrolmentState, EstablishmentRow, KnownRecord, LinkState, LookupKeys, PersonState,
    Snapshot,
};
use crate::store::ImportTx;

pub struct SqlImport {
    pub(super) tx: Transaction<'static, Any>,
}

#[async_trait]
impl ImportTx for SqlImport {
    async fn upsert_establishment(
        &mut self,
        e: &EstablishmentRow,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO establishments (uai, academy, school_year, last_export_date,
                 last_import_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (uai) DO UPDATE SET academy = excluded.academy,
                 school_year = excluded.school_year, last_export_date = excluded.last_export_date,
                 last_import_at = excluded.last_import_at",
        )
        .bind(&e.uai)
        .bind(&e.academy)
        .bind(&e.school_year)
        .bind(&e.export_date)
        .bind(now_ms)
        .bind(now_ms)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn snapshot(&mut self, uai: &str) -> anyhow::Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        for row in sqlx::query(
            "SELECT e.eleve_id, e.account_id, p.ine, e.digest, e.left_at FROM enrolments e
             JOIN pupils p ON p.account_id = e.account_id WHERE e.uai = $1",
        )
        .bind(uai)
        .fetch_all(&mut *self.tx)
        .await?
        {
            snapshot.enrolments.insert(
                row.try_get("eleve_id")?,
                EnrolmentState {
                    account_id: row.try_get("account_id")?,
                    ine: row.try_get("ine")?,
                    digest: row.try_get("digest")?,
                    left: row.try_get::<Option<i64>, _>("left_at")?.is_some(),
                },
            );
        }
        for row in sqlx::query(
            "SELECT personne_id, account_id, digest, left_at FROM persons WHERE uai = $1",
        )
        .bind(uai)
        .fetch_all(&mut *self.tx)
        .await?
        {
            snapshot.persons.insert(
                row.try_get("personne_id")?,
                PersonState {
                    account_id: row.try_get("account_id")?,
                    digest: row.try_get("digest")?,
                    left: row.try_get::<Option<i64>, _>("left_at")?.is_some(),
                },
            );
        }
        for row in sqlx::query(
            "SELECT eleve_id, personne_id, legal, relationship FROM links WHERE uai = $1",
        )
        .bind(uai)
        .fetch_all(&mut *self.tx)
        .await?
        {
            snapshot.links.insert(
                (row.try_get("eleve_id")?, row.try_get("personne_id")?),
                LinkState {
                    legal: row.try_get("legal")?,
                    relationship: row.try_get("relationship")?,
                },
            );
        }
        Ok(snapshot)
    }

    async fn accounts_by_ine(
        &mut self,
        ines: &[String],
    ) -> anyhow::Result<HashMap<String, String>> {
        select_in(
            &mut self.tx,
            "SELECT ine, account_id FROM pupils WHERE ine {in}",
            ines,
        )
        .await?
        .iter()
        .map(|row| Ok((row.try_get("ine")?, row.try_get("account_id")?)))
        .collect()
    }

    async fn records_with_keys(&mut self, keys: &LookupKeys) -> anyhow::Result<Vec<KnownRecord>> {
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        for (column, values) in [
            ("mobile_key", &keys.mobile),
            ("email_key", &keys.email),
            ("address_key", &keys.address),
        ] {
            let sql = format!(
                "SELECT uai, personne_id, account_id, given_key, mobile_key, email_key, address_key
                 FROM persons WHERE {column} {{in}}"
            );
            for row in select_in(&mut self.tx, &sql, values).await? {
                let record = KnownRecord {
                    uai: row.try_get("uai")?,
                    personne_id: row.try_get("personne_id")?,
                    account_id: row.try_get("account_id")?,
                    given_key: row.try_get("given_key")?,
                    mobile_key: row.try_get("mobile_key")?,
                    email_key: row.try_get("email_key")?,
                    address_key: row.try_get("address_key")?,
                };
                if seen.insert((record.uai.clone(), record.personne_id.clone())) {
                    records.push(record);
                }
            }
        }
        Ok(records)
    }

    async fn reserve_login_numbers(
        &mut self,
        stems: &[(String, i64)],
    ) -> anyhow::Result<HashMap<String, i64>> {
        let rows = stems
            .iter()
            .map(|(stem, count)| vec![Val::from(stem), Val::from(*count)])
            .collect();
        with_rows(
            &mut self.tx,
            "INSERT INTO login_stems (stem, last)",
            "ON CONFLICT (stem) DO UPDATE SET last = login_stems.last + excluded.last
             RETURNING stem, last",
            rows,
        )
        .await?
        .iter()
        .map(|row| Ok((row.try_get("stem")?, row.try_get("last")?)))
        .collect()
    }

    async fn insert_accounts(&mut self, accounts: Vec<Account>) -> anyhow::Result<HashSet<String>> {
        let rows = accounts
            .iter()
            .map(|a| {
                vec![
                    Val::from(&a.id),
                    Val::from(&a.login),
                    Val::from(&a.password_hash),
                    Val::from(a.profile.as_str()),
                    Val::from(&a.given_name),
                    Val::from(&a.family_name),
                    Val::from(&a.email),
                    Val::from(&a.phone),
                    Val::from(a.state.as_str()),
                    Val::from(a.created_at),
                    Val::from(a.updated_at),
                ]
            })
            .collect();
        with_rows(
            &mut self.tx,
            &format!("INSERT INTO accounts ({})", super::accounts::COLUMNS),
            "ON CONFLICT (login) DO NOTHING RETURNING id",
            rows,
        )
        .await?
        .iter()
        .map(|row| Ok(row.try_get("id")?))
        .collect()
    }

    async fn write(&mut self, uai: &str, c: Changes, now_ms: i64) -> anyhow::Result<()> {
        super::import_write::write(&mut self.tx, uai, &c, now_ms).await
    }

    async fn commit(self: Box<Self>) -> anyhow::Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
