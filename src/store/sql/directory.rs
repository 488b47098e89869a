//! The identity directory fed by the Siècle import: the reads behind the claims, the
//! establishments with their notices and import history. The import itself is `import_tx.rs`,
//! linking by hand `linking.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::import_tx::SqlImport;
use super::SqlStore;
use crate::accounts::affiliations::{Affiliations, Child, Enrolment, PersonRecord};
use crate::accounts::Profile;
use crate::establishments::model::{IdentifierRow, NotificationRecord, NotificationTarget};
use crate::provisioning::model::{Establishment, EstablishmentNotice, ImportRecord};
use crate::store::{DirectoryStore, ImportTx};

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn begin_import(&self) -> anyhow::Result<Box<dyn ImportTx>> {
        let mut tx = self.begin().await?;
        // A write first: PostgreSQL holds the row lock, SQLite the write lock, until commit.
        sqlx::query("UPDATE import_lock SET held_at = held_at + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(Box::new(SqlImport { tx }))
    }

    async fn begin_first_load(&self) -> anyhow::Result<Option<Box<dyn ImportTx>>> {
        match &self.native {
            Some(pool) => super::first_load::begin(pool).await,
            None => Ok(None),
        }
    }

    async fn affiliations(&self, account_id: &str) -> anyhow::Result<Affiliations> {
        self.retry(|| async move {
            let mut conn = self.pool.acquire().await?;
            read_affiliations(&mut conn, account_id).await
        })
        .await
    }

    async fn pupil_account(&self, ine: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .retry(|| {
                sqlx::query("SELECT account_id FROM pupils WHERE ine = $1")
                    .bind(ine)
                    .fetch_optional(&self.pool)
            })
            .await?
            .map(|row| row.try_get("account_id"))
            .transpose()?)
    }

    async fn person_account(&self, uai: &str, personne_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .retry(|| {
                sqlx::query("SELECT account_id FROM persons WHERE uai = $1 AND personne_id = $2")
                    .bind(uai)
                    .bind(personne_id)
                    .fetch_optional(&self.pool)
            })
            .await?
            .map(|row| row.try_get("account_id"))
            .transpose()?)
    }

    async fn refresh_statistics(&self) -> anyhow::Result<()> {
        if self.dialect == super::Dialect::Sqlite {
            sqlx::query("PRAGMA optimize").execute(&self.pool).await?;
            return Ok(());
        }
        // One connection per table, at once: after a national import each takes seconds.
        let mut analyzed = tokio::task::JoinSet::new();
        for table in [
            "accounts",
            "pupils",
            "enrolments",
            "persons",
            "links",
            "link_candidates",
        ] {
            let pool = self.pool.clone();
            analyzed.spawn(async move {
                sqlx::query(&format!("ANALYZE {table}"))
                    .execute(&pool)
                    .await
            });
        }
        while let Some(done) = analyzed.join_next().await {
            done??;
        }
        Ok(())
    }

    async fn establishment(&self, uai: &str) -> anyhow::Result<Option<Establishment>> {
        let row = self
            .retry(|| {
                sqlx::query(
                    "SELECT uai, name, academy, school_year, last_export_date, last_import_at
                     FROM establishments WHERE uai = $1",
                )
                .bind(uai)
                .fetch_optional(&self.pool)
            })
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
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT id, kind, message, created_at, read_at, link FROM establishment_notices
                     WHERE uai = $1 ORDER BY created_at DESC, id",
                )
                .bind(uai)
                .fetch_all(&self.pool)
            })
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
                    link: row.try_get("link")?,
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

    async fn notification_targets(
        &self,
        uai: &str,
        profile: Profile,
    ) -> anyhow::Result<Vec<NotificationTarget>> {
        self.read_notification_targets(uai, profile).await
    }

    async fn record_notification(&self, record: &NotificationRecord) -> anyhow::Result<()> {
        self.write_notification(record).await
    }

    async fn notifications(&self, uai: &str) -> anyhow::Result<Vec<NotificationRecord>> {
        self.read_notifications(uai).await
    }

    async fn list_new_identifiers(
        &self,
        uai: &str,
        file_id: &str,
        actor: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<IdentifierRow>> {
        self.write_identifiers_file(uai, file_id, actor, now_ms)
            .await
    }

    async fn imports(&self, uai: &str, limit: i64) -> anyhow::Result<Option<Vec<ImportRecord>>> {
        if !self.establishment_exists(uai).await? {
            return Ok(None);
        }
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT id, source, export_date, imported_at, report FROM imports
                     WHERE uai = $1 ORDER BY imported_at DESC, id LIMIT $2",
                )
                .bind(uai)
                .bind(limit)
                .fetch_all(&self.pool)
            })
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
}

impl SqlStore {
    pub(super) async fn establishment_exists(&self, uai: &str) -> anyhow::Result<bool> {
        Ok(self
            .retry(|| {
                sqlx::query("SELECT 1 AS one FROM establishments WHERE uai = $1")
                    .bind(uai)
                    .fetch_optional(&self.pool)
            })
            .await?
            .is_some())
    }
}

/// The reads behind the claims, on one connection.
async fn read_affiliations(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
) -> Result<Affiliations, sqlx::Error> {
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
    // Children from the establishments' records, then those attached by hand; not those the
    // guardian said are not theirs (`disputed_links`), until the establishment has looked.
    let children = sqlx::query(
        "SELECT a.id, a.given_name, a.family_name, e.uai, e.eleve_id, e.division, l.legal,
                p.family_name AS guardian_family_name, p.given_name AS guardian_given_name
         FROM persons p
         JOIN links l ON l.uai = p.uai AND l.personne_id = p.personne_id
         JOIN enrolments e ON e.uai = l.uai AND e.eleve_id = l.eleve_id AND e.left_at IS NULL
         JOIN accounts a ON a.id = e.account_id
         WHERE p.account_id = $1 AND p.left_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM disputed_links d
                           WHERE d.guardian_id = p.account_id AND d.pupil_id = a.id
                             AND d.resolved_at IS NULL)
         UNION
         SELECT a.id, a.given_name, a.family_name, e.uai, e.eleve_id, e.division, 1 AS legal,
                g.family_name AS guardian_family_name, g.given_name AS guardian_given_name
         FROM attachments t
         JOIN accounts g ON g.id = t.guardian_id
         JOIN accounts a ON a.id = t.pupil_id
         JOIN enrolments e ON e.account_id = a.id AND e.left_at IS NULL
         WHERE t.guardian_id = $2
           AND NOT EXISTS (SELECT 1 FROM disputed_links d
                           WHERE d.guardian_id = t.guardian_id AND d.pupil_id = a.id
                             AND d.resolved_at IS NULL)
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
