//! A first load: the national import of a directory that holds no pupil and no guardian yet
//! (PostgreSQL only). Every establishment of the run is applied in memory (`Stage`, the same
//! `ImportTx` steps as one establishment's transaction, answered from what the run has staged:
//! an empty directory has nothing else to match against), then everything is written at the end
//! in one transaction: each table's rows with `COPY`, and, for a table that had fewer rows than
//! the load brings, its indexes and constraints dropped before and built again after. Building an
//! index over a million rows costs a fraction of inserting a million rows one by one into it
//! (docs/benchmarks.md: 53 s instead of 130 s for the same rows on this machine). The import
//! lock is held from the start, so no other import runs meanwhile; a failure anywhere, a
//! duplicate caught by a rebuilt unique index included, writes nothing.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use async_trait::async_trait;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres, Row, Transaction};

use crate::accounts::Account;
use crate::provisioning::model::{
    Changes, EnrolmentRow, EnrolmentState, EstablishmentRow, KnownRecord, LinkState, LookupKeys,
    Notice, PersonRow, PersonState, PupilRow, Snapshot, KEY_SHARERS,
};
use crate::store::ImportTx;

/// Starts a first load, or `None` when the directory already holds pupils or guardians.
pub(super) async fn begin(pool: &PgPool) -> anyhow::Result<Option<Box<dyn ImportTx>>> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE import_lock SET held_at = held_at + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    let used: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pupils) OR EXISTS (SELECT 1 FROM enrolments)
             OR EXISTS (SELECT 1 FROM persons) OR EXISTS (SELECT 1 FROM links)",
    )
    .fetch_one(&mut *tx)
    .await?;
    if used {
        tx.rollback().await?;
        return Ok(None);
    }
    let mut stage = Stage::default();
    for row in sqlx::query("SELECT stem, last FROM login_stems")
        .fetch_all(&mut *tx)
        .await?
    {
        stage
            .stems
            .insert(row.try_get("stem")?, row.try_get("last")?);
    }
    // Accounts made by hand (the demonstration's, the benchmark's): their logins are taken.
    stage.logins = sqlx::query_scalar("SELECT login FROM accounts")
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    stage.accounts_before = stage.logins.len();
    Ok(Some(Box::new(FirstLoad { tx, stage })))
}

struct FirstLoad {
    tx: Transaction<'static, Postgres>,
    stage: Stage,
}

/// What the run has applied so far: the rows as they will be written.
#[derive(Default)]
struct Stage {
    accounts_before: usize,
    stems: HashMap<String, i64>,
    logins: HashSet<String>,
    accounts: HashMap<String, Account>,
    /// By INE; `ine_of` goes the other way.
    pupils: HashMap<String, PupilRow>,
    ine_of: HashMap<String, String>,
    /// With the first and the last import's time.
    establishments: HashMap<String, (EstablishmentRow, i64, i64)>,
    directory: HashMap<String, Establishment>,
    /// Lookup key → guardian records (`uai`, `PERSONNE_ID`) that carried it when staged (a
    /// record staged again with other keys leaves a stale entry, checked on lookup).
    mobile_keys: HashMap<String, Vec<(String, String)>>,
    email_keys: HashMap<String, Vec<(String, String)>>,
    address_keys: HashMap<String, Vec<(String, String)>>,
    candidates: Vec<(String, String, String, i64)>,
    candidate_pairs: HashSet<(String, String)>,
    notices: Vec<(String, Notice, i64)>,
    /// (id, uai, source, export date, report, at).
    imports: Vec<[Option<String>; 5]>,
    import_times: Vec<i64>,
}

/// One establishment's rows.
#[derive(Default)]
struct Establishment {
    enrolments: HashMap<String, (EnrolmentRow, i64)>,
    /// With `left_at` and `updated_at`.
    persons: HashMap<String, (PersonRow, Option<i64>, i64)>,
    links: HashMap<(String, String), LinkState>,
}

#[async_trait]
impl ImportTx for FirstLoad {
    async fn upsert_establishment(
        &mut self,
        e: &EstablishmentRow,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let created = self
            .stage
            .establishments
            .get(&e.uai)
            .map_or(now_ms, |(_, created, _)| *created);
        self.stage
            .establishments
            .insert(e.uai.clone(), (e.clone(), created, now_ms));
        Ok(())
    }

    async fn snapshot(&mut self, uai: &str) -> anyhow::Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        let Some(rows) = self.stage.directory.get(uai) else {
            return Ok(snapshot);
        };
        for (eleve_id, (e, _)) in &rows.enrolments {
            snapshot.enrolments.insert(
                eleve_id.clone(),
                EnrolmentState {
                    account_id: e.account_id.clone(),
                    ine: self.stage.ine_of[&e.account_id].clone(),
                    digest: e.digest.clone(),
                    left: e.left_at.is_some(),
                },
            );
        }
        for (personne_id, (p, left_at, _)) in &rows.persons {
            snapshot.persons.insert(
                personne_id.clone(),
                PersonState {
                    account_id: p.account_id.clone(),
                    digest: p.digest.clone(),
                    left: left_at.is_some(),
                },
            );
        }
        snapshot.links = rows.links.clone();
        Ok(snapshot)
    }

    async fn accounts_by_ine(
        &mut self,
        ines: &[String],
    ) -> anyhow::Result<HashMap<String, String>> {
        Ok(ines
            .iter()
            .filter_map(|ine| {
                let pupil = self.stage.pupils.get(ine)?;
                Some((ine.clone(), pupil.account_id.clone()))
            })
            .collect())
    }

    async fn records_with_keys(&mut self, keys: &LookupKeys) -> anyhow::Result<Vec<KnownRecord>> {
        let stage = &self.stage;
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        type Column = fn(&PersonRow) -> &Option<String>;
        let columns: [(
            &Vec<String>,
            &HashMap<String, Vec<(String, String)>>,
            Column,
        ); 3] = [
            (&keys.mobile, &stage.mobile_keys, |p| &p.mobile_key),
            (&keys.email, &stage.email_keys, |p| &p.email_key),
            (&keys.address, &stage.address_keys, |p| &p.address_key),
        ];
        for (values, index, column) in columns {
            for key in values {
                // A key that more than `KEY_SHARERS` accounts carry is not used: the records
                // past that many accounts change nothing (found through another key, they are
                // looked up with it) and a placeholder e-mail would return thousands.
                let mut accounts = HashSet::new();
                for (uai, personne_id) in index.get(key).into_iter().flatten() {
                    if accounts.len() > KEY_SHARERS {
                        break;
                    }
                    let (p, _, _) = &stage.directory[uai].persons[personne_id];
                    if column(p).as_deref() != Some(key.as_str()) {
                        continue;
                    }
                    accounts.insert(&p.account_id);
                    if !seen.insert((uai.clone(), personne_id.clone())) {
                        continue;
                    }
                    records.push(KnownRecord {
                        uai: uai.clone(),
                        personne_id: personne_id.clone(),
                        account_id: p.account_id.clone(),
                        given_key: p.given_key.clone(),
                        mobile_key: p.mobile_key.clone(),
                        email_key: p.email_key.clone(),
                        address_key: p.address_key.clone(),
                    });
                }
            }
        }
        Ok(records)
    }

    async fn reserve_login_numbers(
        &mut self,
        stems: &[(String, i64)],
    ) -> anyhow::Result<HashMap<String, i64>> {
        Ok(stems
            .iter()
            .map(|(stem, count)| {
                let last = self.stage.stems.entry(stem.clone()).or_default();
                *last += count;
                (stem.clone(), *last)
            })
            .collect())
    }

    async fn insert_accounts(&mut self, accounts: &[Account]) -> anyhow::Result<HashSet<String>> {
        let mut inserted = HashSet::new();
        for account in accounts {
            if self.stage.logins.insert(account.login.clone()) {
                inserted.insert(account.id.clone());
                self.stage
                    .accounts
                    .insert(account.id.clone(), account.clone());
            }
        }
        Ok(inserted)
    }

    async fn write(&mut self, uai: &str, c: &Changes, now_ms: i64) -> anyhow::Result<()> {
        self.stage.apply(uai, c, now_ms)
    }

    async fn commit(self: Box<Self>) -> anyhow::Result<()> {
        let FirstLoad { mut tx, stage } = *self;
        stage.write(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Stage {
    /// `SqlImport::write`'s statements, on the staged rows.
    fn apply(&mut self, uai: &str, c: &Changes, now_ms: i64) -> anyhow::Result<()> {
        for (account_id, ine) in &c.ine_corrections {
            let old = self.ine_of.insert(account_id.clone(), ine.clone());
            if let Some(mut pupil) = old.and_then(|old| self.pupils.remove(&old)) {
                pupil.ine = ine.clone();
                self.pupils.insert(ine.clone(), pupil);
            }
        }
        for p in &c.pupils {
            match self.pupils.get_mut(&p.ine) {
                Some(known) => known.birth_date = p.birth_date.clone(),
                None => {
                    self.ine_of.insert(p.account_id.clone(), p.ine.clone());
                    self.pupils.insert(p.ine.clone(), p.clone());
                }
            }
        }
        for u in &c.account_updates {
            let Some(account) = self.accounts.get_mut(&u.id) else {
                anyhow::bail!("first load: account {} was not staged by this run", u.id);
            };
            let before = (
                account.given_name.clone(),
                account.family_name.clone(),
                account.email.clone(),
                account.phone.clone(),
                account.profile,
            );
            account.given_name = u.given_name.clone();
            account.family_name = u.family_name.clone();
            if u.email.is_some() {
                account.email = u.email.clone();
            }
            if u.phone.is_some() {
                account.phone = u.phone.clone();
            }
            if let Some(profile) = u.profile {
                account.profile = profile;
            }
            let after = (
                &account.given_name,
                &account.family_name,
                &account.email,
                &account.phone,
                account.profile,
            );
            if (&before.0, &before.1, &before.2, &before.3, before.4) != after {
                account.updated_at = now_ms;
            }
        }
        let rows = self.directory.entry(uai.to_owned()).or_default();
        for key in &c.links_deleted {
            rows.links.remove(key);
        }
        for e in &c.enrolments {
            rows.enrolments
                .insert(e.eleve_id.clone(), (e.clone(), now_ms));
        }
        for eleve_id in &c.enrolments_left {
            if let Some((e, updated_at)) = rows.enrolments.get_mut(eleve_id) {
                if e.left_at.is_none() {
                    e.left_at = Some(now_ms);
                    *updated_at = now_ms;
                }
            }
        }
        for p in &c.persons {
            let at = (uai.to_owned(), p.personne_id.clone());
            for (key, index) in [
                (&p.mobile_key, &mut self.mobile_keys),
                (&p.email_key, &mut self.email_keys),
                (&p.address_key, &mut self.address_keys),
            ] {
                if let Some(key) = key {
                    // A record staged again may appear twice: lookups see each record once.
                    index.entry(key.clone()).or_default().push(at.clone());
                }
            }
            rows.persons
                .insert(p.personne_id.clone(), (p.clone(), None, now_ms));
        }
        for personne_id in &c.persons_left {
            if let Some((_, left_at, updated_at)) = rows.persons.get_mut(personne_id) {
                if left_at.is_none() {
                    *left_at = Some(now_ms);
                    *updated_at = now_ms;
                }
            }
        }
        for l in &c.links {
            rows.links
                .insert((l.eleve_id.clone(), l.personne_id.clone()), l.state.clone());
        }
        for k in &c.candidates {
            if self
                .candidate_pairs
                .insert((k.account_id.clone(), k.other_account_id.clone()))
            {
                self.candidates.push((
                    k.account_id.clone(),
                    k.other_account_id.clone(),
                    k.reason.clone(),
                    now_ms,
                ));
            }
        }
        if let Some(notice) = &c.notice {
            self.notices.push((uai.to_owned(), notice.clone(), now_ms));
        }
        let export_date = self
            .establishments
            .get(uai)
            .and_then(|(e, _, _)| e.export_date.clone());
        self.imports.push([
            Some(crate::secrets::random_b64(12)),
            Some(uai.to_owned()),
            Some(c.source.clone()),
            export_date,
            Some(c.report.clone()),
        ]);
        self.import_times.push(now_ms);
        Ok(())
    }

    /// Everything, in the load's transaction.
    async fn write(self, tx: &mut PgConnection) -> anyhow::Result<()> {
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
        let rebuilt = Rebuild::drop(
            tx,
            &[
                ("accounts", self.accounts_before < accounts.len()),
                ("pupils", true),
                ("enrolments", true),
                ("persons", true),
                ("links", true),
            ],
        )
        .await?;
        let mut copy = Copy::default();
        for a in &accounts {
            copy.row([
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
            copy.ints([Some(a.created_at), Some(a.updated_at)]);
            copy.end();
        }
        copy.send(tx, &format!("accounts ({})", super::accounts::COLUMNS))
            .await?;
        drop(accounts);
        let mut copy = Copy::default();
        for p in self.pupils.values() {
            copy.row([
                Some(p.ine.as_str()),
                Some(p.account_id.as_str()),
                Some(p.birth_date.as_str()),
            ]);
            copy.end();
        }
        copy.send(tx, "pupils (ine, account_id, birth_date)")
            .await?;
        let mut enrolments = Copy::default();
        let mut persons = Copy::default();
        let mut links = Copy::default();
        for (uai, rows) in &self.directory {
            for (e, updated_at) in rows.enrolments.values() {
                enrolments.row([
                    Some(uai.as_str()),
                    Some(e.eleve_id.as_str()),
                    Some(e.account_id.as_str()),
                    e.division.as_deref(),
                    e.entry_date.as_deref(),
                    e.exit_date.as_deref(),
                    Some(e.digest.as_str()),
                ]);
                enrolments.ints([e.left_at, Some(*updated_at)]);
                enrolments.end();
            }
            for (p, left_at, updated_at) in rows.persons.values() {
                persons.row([
                    Some(uai.as_str()),
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
                    Some(uai.as_str()),
                    Some(eleve_id.as_str()),
                    Some(personne_id.as_str()),
                ]);
                links.ints([Some(state.legal)]);
                links.field(state.relationship.as_deref());
                links.end();
            }
        }
        enrolments
            .send(
                tx,
                "enrolments (uai, eleve_id, account_id, division, entry_date, exit_date, digest, \
                 left_at, updated_at)",
            )
            .await?;
        persons
            .send(
                tx,
                "persons (uai, personne_id, account_id, civility, family_name, given_name, \
                 mobile, email, address, given_key, mobile_key, email_key, address_key, digest, \
                 left_at, updated_at)",
            )
            .await?;
        links
            .send(
                tx,
                "links (uai, eleve_id, personne_id, legal, relationship)",
            )
            .await?;
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
            notices.end();
        }
        notices
            .send(
                tx,
                "establishment_notices (id, uai, kind, message, created_at)",
            )
            .await?;
        let mut imports = Copy::default();
        for (fields, at) in self.imports.iter().zip(&self.import_times) {
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

/// Rows in `COPY`'s text format, sent in one `COPY ... FROM STDIN`.
#[derive(Default)]
struct Copy {
    data: Vec<u8>,
    /// A field already written on the current line.
    open: bool,
}

impl Copy {
    fn field(&mut self, value: Option<&str>) {
        if self.open {
            self.data.push(b'\t');
        }
        self.open = true;
        let Some(value) = value else {
            self.data.extend_from_slice(b"\\N");
            return;
        };
        for byte in value.bytes() {
            match byte {
                b'\\' => self.data.extend_from_slice(b"\\\\"),
                b'\t' => self.data.extend_from_slice(b"\\t"),
                b'\n' => self.data.extend_from_slice(b"\\n"),
                b'\r' => self.data.extend_from_slice(b"\\r"),
                other => self.data.push(other),
            }
        }
    }

    /// Text fields.
    fn row<'a>(&mut self, values: impl IntoIterator<Item = Option<&'a str>>) {
        for value in values {
            self.field(value);
        }
    }

    /// Integer fields.
    fn ints(&mut self, values: impl IntoIterator<Item = Option<i64>>) {
        for value in values {
            match value {
                Some(v) => {
                    let mut text = String::new();
                    write!(text, "{v}").expect("writing to a string");
                    self.field(Some(&text));
                }
                None => self.field(None),
            }
        }
    }

    fn end(&mut self) {
        self.data.push(b'\n');
        self.open = false;
    }

    async fn send(self, tx: &mut PgConnection, target: &str) -> anyhow::Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let mut copy = tx.copy_in_raw(&format!("COPY {target} FROM STDIN")).await?;
        for chunk in self.data.chunks(1 << 20) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        Ok(())
    }
}

/// The indexes and constraints of tables loaded without them: as the catalog defines them (the
/// migrations stay the one place that does), dropped, then built again in the same transaction.
struct Rebuild {
    /// Statements that build them again, in order.
    statements: Vec<String>,
}

impl Rebuild {
    async fn drop(tx: &mut PgConnection, tables: &[(&str, bool)]) -> anyhow::Result<Rebuild> {
        // Foreign keys that point at a table hold on to its unique index: dropped first, and
        // added back last.
        let mut drops = Vec::new();
        let mut builds = Vec::new();
        let mut foreign = Vec::new();
        let mut foreign_drops = Vec::new();
        for (table, _) in tables.iter().filter(|(_, rebuild)| *rebuild) {
            for row in sqlx::query(
                "SELECT conrelid::regclass::text AS owner, quote_ident(conname) AS name,
                     pg_get_constraintdef(oid) AS def
                 FROM pg_constraint WHERE confrelid = $1::regclass AND contype = 'f'",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
            {
                let (owner, name, def): (String, String, String) = (
                    row.try_get("owner")?,
                    row.try_get("name")?,
                    row.try_get("def")?,
                );
                foreign_drops.push(format!("ALTER TABLE {owner} DROP CONSTRAINT {name}"));
                foreign.push(format!("ALTER TABLE {owner} ADD CONSTRAINT {name} {def}"));
            }
            for row in sqlx::query(
                "SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def
                 FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u')",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
            {
                let (name, def): (String, String) = (row.try_get("name")?, row.try_get("def")?);
                drops.push(format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
                builds.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
            }
            for row in sqlx::query(
                "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def
                 FROM pg_index i WHERE indrelid = $1::regclass
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
            {
                let (name, def): (String, String) = (row.try_get("name")?, row.try_get("def")?);
                drops.push(format!("DROP INDEX {name}"));
                builds.push(def);
            }
        }
        for statement in foreign_drops.iter().chain(&drops) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        builds.extend(foreign);
        Ok(Rebuild { statements: builds })
    }

    async fn build(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        for statement in &self.statements {
            let started = std::time::Instant::now();
            sqlx::query(statement).execute(&mut *tx).await?;
            tracing::debug!(
                statement,
                ms = started.elapsed().as_millis() as u64,
                "rebuilt"
            );
        }
        Ok(())
    }
}
