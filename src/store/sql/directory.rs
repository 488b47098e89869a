//! The identity directory fed by the Siècle import: one establishment's import as one
//! transaction (`SqlImport`), and the reads behind the claims.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::batch::{select_in, with_rows, Val};
use super::SqlStore;
use crate::accounts::affiliations::{Affiliations, Child, Enrolment, PersonRecord};
use crate::accounts::linking::{
    AttachmentCode, CandidateAccount, CodeOutcome, LinkCandidate, Resolution, Resolved,
};
use crate::accounts::Account;
use crate::provisioning::model::{
    Changes, EnrolmentState, Establishment, EstablishmentNotice, EstablishmentRow, ImportRecord,
    KnownRecord, LinkState, LookupKeys, PersonState, Snapshot,
};
use crate::store::{DirectoryStore, ImportTx};

pub struct SqlImport {
    tx: Transaction<'static, Any>,
}

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn begin_import(&self) -> anyhow::Result<Box<dyn ImportTx>> {
        let mut tx = self.pool.begin().await?;
        // A write first: PostgreSQL holds the row lock, SQLite the write lock, until commit.
        sqlx::query("UPDATE import_lock SET held_at = held_at + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(Box::new(SqlImport { tx }))
    }

    async fn affiliations(&self, account_id: &str) -> anyhow::Result<Affiliations> {
        let mut conn = self.pool.acquire().await?;
        let ine = sqlx::query("SELECT ine FROM pupils WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| row.try_get("ine"))
            .transpose()?;
        let mut affiliations = Affiliations {
            ine,
            ..Affiliations::default()
        };
        for row in sqlx::query(
            "SELECT uai, eleve_id, division FROM enrolments
             WHERE account_id = $1 AND left_at IS NULL ORDER BY uai, eleve_id",
        )
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?
        {
            affiliations.enrolments.push(Enrolment {
                uai: row.try_get("uai")?,
                eleve_id: row.try_get("eleve_id")?,
                division: row.try_get("division")?,
            });
        }
        for row in sqlx::query(
            "SELECT uai, family_name, given_name FROM persons
             WHERE account_id = $1 AND left_at IS NULL ORDER BY uai, personne_id",
        )
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?
        {
            affiliations.records.push(PersonRecord {
                uai: row.try_get("uai")?,
                family_name: row.try_get("family_name")?,
                given_name: row.try_get("given_name")?,
            });
        }
        // Children from the establishments' records, then those attached by hand.
        let children = sqlx::query(
            "SELECT a.id, a.given_name, a.family_name, e.uai, e.eleve_id, e.division, l.legal,
                    p.family_name AS guardian_family_name, p.given_name AS guardian_given_name
             FROM persons p
             JOIN links l ON l.uai = p.uai AND l.personne_id = p.personne_id
             JOIN enrolments e ON e.uai = l.uai AND e.eleve_id = l.eleve_id AND e.left_at IS NULL
             JOIN accounts a ON a.id = e.account_id
             WHERE p.account_id = $1 AND p.left_at IS NULL
             UNION
             SELECT a.id, a.given_name, a.family_name, e.uai, e.eleve_id, e.division, 1 AS legal,
                    g.family_name AS guardian_family_name, g.given_name AS guardian_given_name
             FROM attachments t
             JOIN accounts g ON g.id = t.guardian_id
             JOIN accounts a ON a.id = t.pupil_id
             JOIN enrolments e ON e.account_id = a.id AND e.left_at IS NULL
             WHERE t.guardian_id = $2
             ORDER BY 4, 5",
        )
        .bind(account_id)
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?;
        for row in children {
            let child = Child {
                account_id: row.try_get("id")?,
                given_name: row.try_get("given_name")?,
                family_name: row.try_get("family_name")?,
                enrolment: Enrolment {
                    uai: row.try_get("uai")?,
                    eleve_id: row.try_get("eleve_id")?,
                    division: row.try_get("division")?,
                },
                legal: row.try_get::<i64, _>("legal")? != 0,
                guardian_family_name: row.try_get("guardian_family_name")?,
                guardian_given_name: row.try_get("guardian_given_name")?,
            };
            // A child both recorded and attached by hand appears once.
            if !affiliations
                .children
                .iter()
                .any(|c| c.account_id == child.account_id && c.enrolment.uai == child.enrolment.uai)
            {
                affiliations.children.push(child);
            }
        }
        Ok(affiliations)
    }

    async fn pupil_account(&self, ine: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query("SELECT account_id FROM pupils WHERE ine = $1")
            .bind(ine)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get("account_id"))
            .transpose()?)
    }

    async fn person_account(&self, uai: &str, personne_id: &str) -> anyhow::Result<Option<String>> {
        Ok(
            sqlx::query("SELECT account_id FROM persons WHERE uai = $1 AND personne_id = $2")
                .bind(uai)
                .bind(personne_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|row| row.try_get("account_id"))
                .transpose()?,
        )
    }

    async fn refresh_statistics(&self) -> anyhow::Result<()> {
        let sql = match self.dialect {
            super::Dialect::Postgres => {
                "ANALYZE accounts, pupils, enrolments, persons, links, link_candidates"
            }
            super::Dialect::Sqlite => "PRAGMA optimize",
        };
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    async fn establishment(&self, uai: &str) -> anyhow::Result<Option<Establishment>> {
        let row = sqlx::query(
            "SELECT uai, name, academy, school_year, last_export_date, last_import_at
             FROM establishments WHERE uai = $1",
        )
        .bind(uai)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Establishment {
                uai: row.try_get("uai")?,
                name: row.try_get("name")?,
                academy: row.try_get("academy")?,
                school_year: row.try_get("school_year")?,
                last_export_date: row.try_get("last_export_date")?,
                last_import_at: row.try_get("last_import_at")?,
            })
        })
        .transpose()
    }

    async fn set_establishment_name(&self, uai: &str, name: &str) -> anyhow::Result<bool> {
        let done = sqlx::query("UPDATE establishments SET name = $1 WHERE uai = $2")
            .bind(name)
            .bind(uai)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn notices(&self, uai: &str) -> anyhow::Result<Option<Vec<EstablishmentNotice>>> {
        if !self.establishment_exists(uai).await? {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT id, kind, message, created_at, read_at FROM establishment_notices
             WHERE uai = $1 ORDER BY created_at DESC, id",
        )
        .bind(uai)
        .fetch_all(&self.pool)
        .await?;
        let notices = rows
            .iter()
            .map(|row| {
                Ok(EstablishmentNotice {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    message: row.try_get("message")?,
                    created_at: row.try_get("created_at")?,
                    read_at: row.try_get("read_at")?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Some(notices))
    }

    async fn mark_notice_read(&self, uai: &str, id: &str, now_ms: i64) -> anyhow::Result<bool> {
        // A notice already read keeps the time it was first read.
        let done = sqlx::query(
            "UPDATE establishment_notices SET read_at = COALESCE(read_at, $1)
             WHERE uai = $2 AND id = $3",
        )
        .bind(now_ms)
        .bind(uai)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn imports(&self, uai: &str, limit: i64) -> anyhow::Result<Option<Vec<ImportRecord>>> {
        if !self.establishment_exists(uai).await? {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT id, source, export_date, imported_at, report FROM imports
             WHERE uai = $1 ORDER BY imported_at DESC, id LIMIT $2",
        )
        .bind(uai)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let imports = rows
            .iter()
            .map(|row| {
                Ok(ImportRecord {
                    id: row.try_get("id")?,
                    source: row.try_get("source")?,
                    export_date: row.try_get("export_date")?,
                    imported_at: row.try_get("imported_at")?,
                    report: serde_json::from_str(&row.try_get::<String, _>("report")?)?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Some(imports))
    }

    async fn candidates_of_account(&self, account_id: &str) -> anyhow::Result<Vec<LinkCandidate>> {
        let sql = format!(
            "{CANDIDATES} AND (c.account_id = $1 OR c.other_account_id = $2)
             ORDER BY c.created_at, c.account_id"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        // Seen from the account: it comes first.
        rows.iter()
            .map(candidate)
            .map(|c| {
                c.map(|c| {
                    if c.account.id == account_id {
                        c
                    } else {
                        LinkCandidate {
                            account: c.other,
                            other: c.account,
                            ..c
                        }
                    }
                })
            })
            .collect()
    }

    async fn candidates_of_establishment(
        &self,
        uai: &str,
    ) -> anyhow::Result<Option<Vec<LinkCandidate>>> {
        if !self.establishment_exists(uai).await? {
            return Ok(None);
        }
        let sql = format!(
            "{CANDIDATES} AND (c.account_id IN (SELECT account_id FROM persons WHERE uai = $1)
                 OR c.other_account_id IN (SELECT account_id FROM persons WHERE uai = $2))
             ORDER BY c.created_at, c.account_id"
        );
        let rows = sqlx::query(&sql)
            .bind(uai)
            .bind(uai)
            .fetch_all(&self.pool)
            .await?;
        Ok(Some(
            rows.iter().map(candidate).collect::<anyhow::Result<_>>()?,
        ))
    }

    async fn resolve_candidate(
        &self,
        account_id: &str,
        other_account_id: &str,
        resolution: Resolution<'_>,
        now_ms: i64,
    ) -> anyhow::Result<Resolved> {
        // Candidates are stored with the smaller id first.
        if let Resolution::Merge { keep } = resolution {
            anyhow::ensure!(
                keep == account_id || keep == other_account_id,
                "the account kept by a merge must be one of the pair"
            );
        }
        let (first, second) = if account_id < other_account_id {
            (account_id, other_account_id)
        } else {
            (other_account_id, account_id)
        };
        let mut tx = self.pool.begin().await?;
        // Like an import: no import matches records against accounts being merged.
        sqlx::query("UPDATE import_lock SET held_at = held_at + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let label = match resolution {
            Resolution::Merge { .. } => "merged",
            Resolution::Reject => "rejected",
        };
        let closed = sqlx::query(
            "UPDATE link_candidates SET resolved_at = $1, resolution = $2
             WHERE account_id = $3 AND other_account_id = $4 AND resolved_at IS NULL",
        )
        .bind(now_ms)
        .bind(label)
        .bind(first)
        .bind(second)
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() == 0 {
            return Ok(Resolved::NotFound);
        }
        if let Resolution::Merge { keep } = resolution {
            let absorbed = if keep == first { second } else { first };
            merge(&mut tx, keep, absorbed, now_ms).await?;
        }
        tx.commit().await?;
        Ok(Resolved::Done)
    }

    async fn attach(
        &self,
        guardian_id: &str,
        pupil_id: &str,
        proof: &str,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO attachments (guardian_id, pupil_id, proof, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        )
        .bind(guardian_id)
        .bind(pupil_id)
        .bind(proof)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_attachment_code(&self, code: &AttachmentCode) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO attachment_codes (digest, pupil_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&code.digest)
        .bind(&code.pupil_id)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn attach_with_code(
        &self,
        digest: &str,
        guardian_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<CodeOutcome> {
        let mut tx = self.pool.begin().await?;
        // One statement spends the code: of two guardians racing on it, one gets the pupil.
        let pupil: Option<String> = sqlx::query(
            "UPDATE attachment_codes SET used_at = $1, used_by = $2
             WHERE digest = $3 AND used_at IS NULL AND expires_at > $4 RETURNING pupil_id",
        )
        .bind(now_ms)
        .bind(guardian_id)
        .bind(digest)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get("pupil_id"))
        .transpose()?;
        let Some(pupil) = pupil else {
            return Ok(CodeOutcome::Invalid);
        };
        let attachable = sqlx::query(
            "SELECT 1 AS one FROM accounts WHERE id = $1 AND profile = 'pupil' AND state <> 'disabled'",
        )
        .bind(&pupil)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if !attachable {
            return Ok(CodeOutcome::Invalid);
        }
        let inserted = sqlx::query(
            "INSERT INTO attachments (guardian_id, pupil_id, proof, created_at)
             VALUES ($1, $2, 'code', $3) ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        )
        .bind(guardian_id)
        .bind(&pupil)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            // Rolled back: the code stays usable.
            return Ok(CodeOutcome::AlreadyAttached);
        }
        tx.commit().await?;
        Ok(CodeOutcome::Attached(pupil))
    }
}

/// Open candidates with both accounts' names; the caller adds its condition.
const CANDIDATES: &str = "SELECT c.reason, c.created_at,
        a.id AS a_id, a.login AS a_login, a.given_name AS a_given, a.family_name AS a_family,
        b.id AS b_id, b.login AS b_login, b.given_name AS b_given, b.family_name AS b_family
    FROM link_candidates c
    JOIN accounts a ON a.id = c.account_id
    JOIN accounts b ON b.id = c.other_account_id
    WHERE c.resolved_at IS NULL";

fn candidate(row: &AnyRow) -> anyhow::Result<LinkCandidate> {
    let side = |p: &str| -> anyhow::Result<CandidateAccount> {
        Ok(CandidateAccount {
            id: row.try_get(format!("{p}_id").as_str())?,
            login: row.try_get(format!("{p}_login").as_str())?,
            given_name: row.try_get(format!("{p}_given").as_str())?,
            family_name: row.try_get(format!("{p}_family").as_str())?,
        })
    };
    Ok(LinkCandidate {
        account: side("a")?,
        other: side("b")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
    })
}

/// `absorbed` becomes part of `keep`: its establishments' records and the children attached to
/// it move over, it is disabled and points to `keep`, its grants are revoked, and its other open
/// candidates are closed (they now concern `keep`, and the next import proposes them again if
/// they still hold).
async fn merge(
    tx: &mut Transaction<'static, Any>,
    keep: &str,
    absorbed: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    for sql in [
        "UPDATE persons SET account_id = $1 WHERE account_id = $2",
        "INSERT INTO attachments (guardian_id, pupil_id, proof, created_at)
         SELECT $1, pupil_id, proof, created_at FROM attachments WHERE guardian_id = $2
         ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
    ] {
        sqlx::query(sql)
            .bind(keep)
            .bind(absorbed)
            .execute(&mut **tx)
            .await?;
    }
    for sql in [
        "DELETE FROM attachments WHERE guardian_id = $1",
        // Consents were given by the absorbed account: the kept one is asked again.
        "DELETE FROM consents WHERE account_id = $1",
    ] {
        sqlx::query(sql).bind(absorbed).execute(&mut **tx).await?;
    }
    // A legal guardian in one establishment's records is a guardian, whichever account stays.
    sqlx::query(
        "UPDATE accounts SET profile = 'guardian'
         WHERE id = $1 AND EXISTS (SELECT 1 FROM accounts WHERE id = $2 AND profile = 'guardian')",
    )
    .bind(keep)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE accounts SET state = 'disabled', merged_into = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(keep)
    .bind(now_ms)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE link_candidates SET resolved_at = $1, resolution = 'superseded'
         WHERE (account_id = $2 OR other_account_id = $3) AND resolved_at IS NULL",
    )
    .bind(now_ms)
    .bind(absorbed)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    // Not indexed by account: merges are rare, grants many; a scan here spares every login
    // the upkeep of one more index.
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE account_id = $2)",
    )
    .bind(now_ms)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(absorbed)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl SqlStore {
    async fn establishment_exists(&self, uai: &str) -> anyhow::Result<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM establishments WHERE uai = $1")
                .bind(uai)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }
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

    async fn insert_accounts(&mut self, accounts: &[Account]) -> anyhow::Result<HashSet<String>> {
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

    async fn write(&mut self, uai: &str, c: &Changes, now_ms: i64) -> anyhow::Result<()> {
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
