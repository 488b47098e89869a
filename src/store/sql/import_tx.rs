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
        let c = &c;
        let tx = &mut self.tx;
        for (account_id, ine) in &c.ine_corrections {
            sqlx::query("UPDATE pupils SET ine = $1 WHERE account_id = $2")
                .bind(ine)
                .bind(account_id)
                .execute(&mut **tx)
                .await?;
        }
        with_rows(
            tx,
            "INSERT INTO pupils (ine, account_id, birth_date)",
            "ON CONFLICT (ine) DO UPDATE SET birth_date = excluded.birth_date",
            c.pupils
                .iter()
                .map(|p| {
                    vec![
                        (&p.ine).into(),
                        (&p.account_id).into(),
                        (&p.birth_date).into(),
                    ]
                })
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "UPDATE accounts SET given_name = v.c1, family_name = v.c2,
             email = COALESCE(v.c3, accounts.email), phone = COALESCE(v.c4, accounts.phone),
             profile = COALESCE(v.c5, accounts.profile), updated_at = v.c6
             FROM (",
            // Only accounts that change: a recognized guardian's account usually does not, and
            // an unchanged row is not rewritten (nor logged, nor its indexes touched).
            ") AS v WHERE accounts.id = v.c0 AND (accounts.given_name <> v.c1
                 OR accounts.family_name <> v.c2
                 OR (v.c3 IS NOT NULL AND accounts.email IS DISTINCT FROM v.c3)
                 OR (v.c4 IS NOT NULL AND accounts.phone IS DISTINCT FROM v.c4)
                 OR (v.c5 IS NOT NULL AND accounts.profile <> v.c5))",
            c.account_updates
                .iter()
                .map(|u| {
                    vec![
                        (&u.id).into(),
                        (&u.given_name).into(),
                        (&u.family_name).into(),
                        (&u.email).into(),
                        (&u.phone).into(),
                        Val::Text(u.profile.map(|p| p.as_str().to_owned())),
                        now_ms.into(),
                    ]
                })
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "DELETE FROM links WHERE (uai, eleve_id, personne_id) IN (",
            ")",
            c.links_deleted
                .iter()
                .map(|(eleve_id, personne_id)| {
                    vec![uai.into(), eleve_id.into(), personne_id.into()]
                })
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "INSERT INTO enrolments (uai, eleve_id, account_id, division, entry_date, exit_date,
             digest, left_at, updated_at)",
            "ON CONFLICT (uai, eleve_id) DO UPDATE SET account_id = excluded.account_id,
             division = excluded.division, entry_date = excluded.entry_date,
             exit_date = excluded.exit_date, digest = excluded.digest,
             left_at = excluded.left_at, updated_at = excluded.updated_at",
            c.enrolments
                .iter()
                .map(|e| {
                    vec![
                        uai.into(),
                        (&e.eleve_id).into(),
                        (&e.account_id).into(),
                        (&e.division).into(),
                        (&e.entry_date).into(),
                        (&e.exit_date).into(),
                        (&e.digest).into(),
                        e.left_at.into(),
                        now_ms.into(),
                    ]
                })
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "UPDATE enrolments SET left_at = v.c2, updated_at = v.c2 FROM (",
            ") AS v WHERE enrolments.uai = v.c0 AND enrolments.eleve_id = v.c1 AND enrolments.left_at IS NULL",
            c.enrolments_left
                .iter()
                .map(|id| vec![uai.into(), id.into(), now_ms.into()])
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "INSERT INTO persons (uai, personne_id, account_id, civility, family_name, given_name,
             mobile, email, address, given_key, mobile_key, email_key, address_key, digest,
             left_at, updated_at)",
            "ON CONFLICT (uai, personne_id) DO UPDATE SET civility = excluded.civility,
             family_name = excluded.family_name, given_name = excluded.given_name,
             mobile = excluded.mobile, email = excluded.email, address = excluded.address,
             given_key = excluded.given_key, mobile_key = excluded.mobile_key,
             email_key = excluded.email_key, address_key = excluded.address_key,
             digest = excluded.digest, left_at = NULL, updated_at = excluded.updated_at",
            c.persons
                .iter()
                .map(|p| {
                    vec![
                        uai.into(),
                        (&p.personne_id).into(),
                        (&p.account_id).into(),
                        (&p.civility).into(),
                        (&p.family_name).into(),
                        (&p.given_name).into(),
                        (&p.mobile).into(),
                        (&p.email).into(),
                        (&p.address).into(),
                        (&p.given_key).into(),
                        (&p.mobile_key).into(),
                        (&p.email_key).into(),
                        (&p.address_key).into(),
                        (&p.digest).into(),
                        Val::Int(None),
                        now_ms.into(),
                    ]
                })
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "UPDATE persons SET left_at = v.c2, updated_at = v.c2 FROM (",
            ") AS v WHERE persons.uai = v.c0 AND persons.personne_id = v.c1 AND persons.left_at IS NULL",
            c.persons_left
                .iter()
                .map(|id| vec![uai.into(), id.into(), now_ms.into()])
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "INSERT INTO links (uai, eleve_id, personne_id, legal, relationship)",
            "ON CONFLICT (uai, eleve_id, personne_id) DO UPDATE SET legal = excluded.legal,
             relationship = excluded.relationship",
            c.links
                .iter()
                .map(|l| {
                    vec![
                        uai.into(),
                        (&l.eleve_id).into(),
                        (&l.personne_id).into(),
                        l.state.legal.into(),
                        (&l.state.relationship).into(),
                    ]
                })
                .collect(),
        )
        .await?;
        with_rows(
            tx,
            "INSERT INTO link_candidates (account_id, other_account_id, reason, created_at)",
            "ON CONFLICT (account_id, other_account_id) DO NOTHING",
            c.candidates
                .iter()
                .map(|k| {
                    vec![
                        (&k.account_id).into(),
                        (&k.other_account_id).into(),
                        (&k.reason).into(),
                        now_ms.into(),
                    ]
                })
                .collect(),
        )
        .await?;
        if let Some(notice) = &c.notice {
            sqlx::query(
                "INSERT INTO establishment_notices (id, uai, kind, message, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&notice.id)
            .bind(uai)
            .bind(&notice.kind)
            .bind(&notice.message)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO imports (id, uai, source, export_date, report, imported_at)
             SELECT $1, $2, $3, last_export_date, $4, $5 FROM establishments WHERE uai = $6",
        )
        .bind(crate::secrets::random_b64(12))
        .bind(uai)
        .bind(&c.source)
        .bind(&c.report)
        .bind(now_ms)
        .bind(uai)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> anyhow::Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
