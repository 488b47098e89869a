//! A first load's one transaction: the staged rows written with `COPY`, the indexes of the
//! tables that grow past their rows built after them (`copy.rs`).

use sqlx::PgConnection;

use super::copy::{Copy, CopyIn, Rebuild};
use super::stage::Stage;
use crate::accounts::Account;

impl Stage {
    /// One establishment's rows of the directory tables (`stream::DIRECTORY_TABLES`), as they
    /// stand staged: sent as soon as the establishment is (no other establishment changes them).
    pub(super) fn directory_rows(&self, uai: &str) -> [(&'static str, Copy); 3] {
        let mut enrolments = Copy::default();
        let mut persons = Copy::default();
        let mut links = Copy::default();
        if let Some(rows) = self.directory.get(uai) {
            for (e, updated_at) in rows.enrolments.values() {
                enrolments.row([
                    Some(uai),
                    Some(e.eleve_id.as_str()),
                    Some(e.account_id.as_str()),
                    e.division.as_deref(),
                    e.entry_date.as_deref(),
                    e.exit_date.as_deref(),
                    Some(e.digest.as_str()),
                ]);
                enrolments.ints([e.left_at, Some(*updated_at)]);
                enrolments.field(e.mef.as_deref());
                enrolments.end();
            }
            for (p, left_at, updated_at) in rows.persons.values() {
                persons.row([
                    Some(uai),
                    Some(p.personne_id.as_str()),
                    Some(p.account_id.as_str()),
                    p.civility.as_deref(),
                    Some(p.family_name.as_str()),
                    Some(p.given_name.as_str()),
                    p.mobile.as_deref(),
                    p.email.as_deref(),
                    p.address.as_deref(),
                    Some(p.given_key.as_str()),
                    p.mobile_key.as_deref(),
                    p.email_key.as_deref(),
                    p.address_key.as_deref(),
                    Some(p.digest.as_str()),
                ]);
                persons.ints([*left_at, Some(*updated_at)]);
                persons.end();
            }
            for ((eleve_id, personne_id), state) in &rows.links {
                links.row([
                    Some(uai),
                    Some(eleve_id.as_str()),
                    Some(personne_id.as_str()),
                ]);
                links.ints([Some(state.legal)]);
                links.field(state.relationship.as_deref());
                links.end();
            }
        }
        [
            (
                "enrolments (uai, eleve_id, account_id, division, entry_date, exit_date, digest, \
                 left_at, updated_at, mef)",
                enrolments,
            ),
            (
                "persons (uai, personne_id, account_id, civility, family_name, given_name, \
                 mobile, email, address, given_key, mobile_key, email_key, address_key, digest, \
                 left_at, updated_at)",
                persons,
            ),
            (
                "links (uai, eleve_id, personne_id, legal, relationship)",
                links,
            ),
        ]
    }

    /// The rest, in the load's transaction, once the directory tables' rows are in: the
    /// establishments, the login stems, the accounts and pupils, every index and constraint
    /// dropped (`directory`'s and the accounts' and pupils'), then the history.
    pub(super) async fn write(
        &self,
        tx: &mut PgConnection,
        directory: Rebuild,
    ) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        // Index builds sort in memory rather than on disk.
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *tx)
            .await?;
        let mut establishments = Copy::default();
        for (uai, (e, created, last)) in &self.establishments {
            establishments.row([
                Some(uai.as_str()),
                e.academy.as_deref(),
                e.school_year.as_deref(),
                e.export_date.as_deref(),
            ]);
            establishments.ints([Some(*last), Some(*created)]);
            establishments.end();
        }
        // An establishment already there (an earlier import of an empty export) keeps its name.
        sqlx::query(
            "CREATE TEMPORARY TABLE first_load_establishments
                 (LIKE establishments INCLUDING DEFAULTS) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        establishments
            .send(
                tx,
                "first_load_establishments (uai, academy, school_year, last_export_date, \
                 last_import_at, created_at)",
            )
            .await?;
        sqlx::query(
            "INSERT INTO establishments (uai, academy, school_year, last_export_date,
                 last_import_at, created_at)
             SELECT uai, academy, school_year, last_export_date, last_import_at, created_at
             FROM first_load_establishments
             ON CONFLICT (uai) DO UPDATE SET academy = excluded.academy,
                 school_year = excluded.school_year, last_export_date = excluded.last_export_date,
                 last_import_at = excluded.last_import_at",
        )
        .execute(&mut *tx)
        .await?;
        let mut stems = Copy::default();
        for (stem, last) in &self.stems {
            stems.row([Some(stem.as_str())]);
            stems.ints([Some(*last)]);
            stems.end();
        }
        sqlx::query("DELETE FROM login_stems")
            .execute(&mut *tx)
            .await?;
        stems.send(tx, "login_stems (stem, last)").await?;

        let mut accounts: Vec<&Account> = self.accounts.values().collect();
        // Time-ordered ids: the primary key grows at its end.
        accounts.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        // The directory tables' were dropped when the load began (`stream.rs`).
        let rebuilt = directory.and(
            Rebuild::drop(
                tx,
                &[
                    ("accounts", self.accounts_before < accounts.len()),
                    ("pupils", true),
                ],
            )
            .await?,
        );
        let mut copy = CopyIn::start(
            tx,
            &format!("accounts ({})", super::super::accounts::COLUMNS),
        )
        .await?;
        for a in &accounts {
            copy.rows.row([
                Some(a.id.as_str()),
                Some(a.login.as_str()),
                a.password_hash.as_deref(),
                Some(a.profile.as_str()),
                Some(a.given_name.as_str()),
                Some(a.family_name.as_str()),
                a.email.as_deref(),
                a.phone.as_deref(),
                Some(a.state.as_str()),
            ]);
            copy.rows.ints([Some(a.created_at), Some(a.updated_at)]);
            copy.end().await?;
        }
        copy.finish().await?;
        drop(accounts);
        let mut copy = CopyIn::start(tx, "pupils (ine, account_id, birth_date)").await?;
        for p in self.pupils.values() {
            copy.rows.row([
                Some(p.ine.as_str()),
                Some(p.account_id.as_str()),
                Some(p.birth_date.as_str()),
            ]);
            copy.end().await?;
        }
        copy.finish().await?;
        let copied = started.elapsed();
        rebuilt.build(tx).await?;
        let indexed = started.elapsed();

        let mut candidates = Copy::default();
        for (a, b, reason, at) in &self.candidates {
            candidates.row([Some(a.as_str()), Some(b.as_str()), Some(reason.as_str())]);
            candidates.ints([Some(*at)]);
            candidates.end();
        }
        candidates
            .send(
                tx,
                "link_candidates (account_id, other_account_id, reason, created_at)",
            )
            .await?;
        let mut notices = Copy::default();
        for (uai, n, at) in &self.notices {
            notices.row([
                Some(n.id.as_str()),
                Some(uai.as_str()),
                Some(n.kind.as_str()),
                Some(n.message.as_str()),
            ]);
            notices.ints([Some(*at)]);
            notices.field(n.link.as_deref());
            notices.end();
        }
        notices
            .send(
                tx,
                "establishment_notices (id, uai, kind, message, created_at, link)",
            )
            .await?;
        let mut imports = Copy::default();
        for (fields, at) in &self.imports {
            imports.row(fields.iter().map(Option::as_deref));
            imports.ints([Some(*at)]);
            imports.end();
        }
        imports
            .send(
                tx,
                "imports (id, uai, source, export_date, report, imported_at)",
            )
            .await?;
        tracing::info!(
            accounts = self.accounts.len(),
            copy_ms = copied.as_millis() as u64,
            index_ms = (indexed - copied).as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "first load written"
        );
        Ok(())
    }
}
