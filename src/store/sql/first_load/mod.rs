//! A first load: the national import of a directory that holds no pupil and no guardian yet
//! (PostgreSQL only). Every establishment of the run is applied in memory (`Stage`, the same
//! `ImportTx` steps as one establishment's transaction, answered from what the run has staged:
//! an empty directory has nothing else to match against), all in one transaction: the directory
//! tables lose their indexes when the load begins and get each establishment's rows with `COPY`
//! as soon as it is staged (`stream.rs`); at the end the accounts and pupils follow, and every
//! index and constraint dropped is built again (`write.rs`). Building an index over a million
//! rows costs a fraction of inserting a million rows one by one into it (docs/benchmarks.md).
//! The import lock is held from the start, so no other import runs meanwhile; a failure
//! anywhere, a duplicate caught by a rebuilt unique index included, writes nothing.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use sqlx::postgres::PgPool;
use sqlx::Row;

use crate::accounts::Account;
use crate::provisioning::model::{
    Changes, EnrolmentState, EstablishmentRow, KnownRecord, LookupKeys, PersonRow, PersonState,
    Snapshot, KEY_SHARERS,
};
use crate::store::ImportTx;
use copy::Rebuild;
use stage::Stage;
use stream::Stream;

mod copy;
mod stage;
mod stream;
mod write;

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
    // Empty: their indexes go now, and their rows as each establishment is staged.
    let tables = stream::DIRECTORY_TABLES.map(|table| (table, true));
    let directory = Rebuild::drop(&mut tx, &tables).await?;
    Ok(Some(Box::new(FirstLoad {
        stream: Stream::start(tx),
        stage,
        directory,
        streamed: HashSet::new(),
    })))
}

struct FirstLoad {
    /// The load's transaction, writing each establishment's rows as it is staged.
    stream: Stream,
    stage: Stage,
    /// What `begin` dropped from the directory tables, built again at the end.
    directory: Rebuild,
    /// The establishments whose rows were sent.
    streamed: HashSet<String>,
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
        snapshot.links = rows
            .links
            .iter()
            .map(|(key, state)| (key.clone(), state.clone()))
            .collect();
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
            &stage::Map<String, Vec<(String, String)>>,
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

    async fn insert_accounts(&mut self, accounts: Vec<Account>) -> anyhow::Result<HashSet<String>> {
        let mut inserted = HashSet::new();
        for account in accounts {
            if self.stage.logins.insert(account.login.clone()) {
                inserted.insert(account.id.clone());
                self.stage.accounts.insert(account.id.clone(), account);
            }
        }
        Ok(inserted)
    }

    async fn write(&mut self, uai: &str, c: Changes, now_ms: i64) -> anyhow::Result<()> {
        self.stage.apply(uai, c, now_ms)?;
        if !self.streamed.insert(uai.to_owned()) {
            // The same establishment twice in a run: its rows as they stand now replace those sent.
            self.stream.forget(uai).await?;
        }
        for (target, rows) in self.stage.directory_rows(uai) {
            self.stream.copy(target, rows).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> anyhow::Result<()> {
        let FirstLoad {
            stream,
            stage,
            directory,
            ..
        } = *self;
        let started = std::time::Instant::now();
        let mut tx = stream.finish().await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "first load: the streamed rows are written"
        );
        stage.write(&mut tx, directory).await?;
        // Millions of rows to free, seconds of work (each one a cache miss): on a thread of its
        // own, which neither this import nor the runtime's shutdown waits for.
        std::thread::spawn(move || drop(stage));
        let started = std::time::Instant::now();
        tx.commit().await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "first load committed"
        );
        Ok(())
    }
}
