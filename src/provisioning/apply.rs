//! One establishment's export applied to the directory, in one transaction: compared with what
//! the directory holds (`Snapshot`), only the difference is written. Re-importing the same export
//! writes nothing but the import history.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::matching;
use super::model::{
    AccountUpdate, Candidate, Changes, EnrolmentRow, EstablishmentRow, KnownRecord, LinkRow,
    LinkState, LookupKeys, Notice, PersonRow, PupilRow, Snapshot, KEY_SHARERS,
};
use super::names::{self, Traits};
use super::EstablishmentReport;
use crate::accounts::{Account, AccountState, Profile};
use crate::siecle::{Date, Export, Person, Pupil, Role};
use crate::store::{DirectoryStore, ImportTx};

/// Accounts to create, the login still to choose.
struct NewAccount {
    account: Account,
    stem: String,
}

struct Work<'a> {
    export: &'a Export,
    snapshot: Snapshot,
    changes: Changes,
    new_accounts: Vec<NewAccount>,
    report: EstablishmentReport,
    now_ms: i64,
}

/// Imports one checked export. `source` says who asked (`cli`, `api`), for the history.
pub async fn import_establishment(
    store: &dyn DirectoryStore,
    export: &Export,
    source: &str,
    now_ms: i64,
) -> anyhow::Result<EstablishmentReport> {
    let uai = export.uai.as_str();
    let started = std::time::Instant::now();
    let mut tx = store.begin_import().await?;
    tx.upsert_establishment(
        &EstablishmentRow {
            uai: uai.to_owned(),
            academy: export.uai.academy().map(str::to_owned),
            school_year: export.school_year.clone(),
            export_date: export.export_date.map(|d| d.to_string()),
        },
        now_ms,
    )
    .await?;
    let snapshot = tx.snapshot(uai).await?;
    let t_snapshot = started.elapsed();
    let mut work = Work {
        export,
        snapshot,
        changes: Changes {
            source: source.to_owned(),
            ..Changes::default()
        },
        new_accounts: Vec::new(),
        report: EstablishmentReport {
            uai: uai.to_owned(),
            records: (export.pupils.len()
                + export.persons.len()
                + export.rejected_ids.pupils.len()
                + export.rejected_ids.persons.len()) as u64,
            rejected: export.rejected.iter().map(ToString::to_string).collect(),
            ..EstablishmentReport::default()
        },
        now_ms,
    };
    let reference = export
        .export_date
        .unwrap_or_else(|| Date::from_epoch_ms(now_ms));
    let enrolled = pupils(&mut *tx, &mut work, reference).await?;
    let t_pupils = started.elapsed();
    let recorded = persons(&mut *tx, &mut work, &enrolled).await?;
    let t_persons = started.elapsed();
    links(&mut work, &enrolled, &recorded);
    insert_accounts(&mut *tx, &mut work.new_accounts).await?;
    let t_accounts = started.elapsed();
    work.changes.notice = new_identifiers_notice(&work.report);
    work.changes.report = serde_json::to_string(&work.report)?;
    tx.write(uai, &work.changes, now_ms).await?;
    let t_write = started.elapsed();
    tx.commit().await?;
    tracing::debug!(
        uai,
        snapshot_ms = t_snapshot.as_millis() as u64,
        pupils_ms = (t_pupils - t_snapshot).as_millis() as u64,
        persons_ms = (t_persons - t_pupils).as_millis() as u64,
        accounts_ms = (t_accounts - t_persons).as_millis() as u64,
        write_ms = (t_write - t_accounts).as_millis() as u64,
        commit_ms = (started.elapsed() - t_write).as_millis() as u64,
        "establishment imported"
    );
    Ok(work.report)
}

/// Enrolments: returns each pupil enrolled after the import, with whether they are current
/// (false: left).
async fn pupils(
    tx: &mut dyn ImportTx,
    work: &mut Work<'_>,
    reference: Date,
) -> anyhow::Result<HashMap<String, bool>> {
    let export = work.export;
    let records: Vec<(&Pupil, String, bool)> = export
        .pupils
        .iter()
        .map(|p| {
            let left = p.exit_date.is_some_and(|exit| exit <= reference);
            (p, pupil_digest(p), left)
        })
        .collect();
    let unknown_ines: Vec<String> = records
        .iter()
        .filter(|(p, _, _)| {
            work.snapshot
                .enrolments
                .get(&p.eleve_id)
                .is_none_or(|e| e.ine != p.ine.as_str())
        })
        .map(|(p, _, _)| p.ine.to_string())
        .collect();
    let by_ine = if unknown_ines.is_empty() {
        HashMap::new()
    } else {
        tx.accounts_by_ine(&unknown_ines).await?
    };
    let mut enrolled = HashMap::new();
    for (pupil, digest, left) in records {
        let existing = work.snapshot.enrolments.get(&pupil.eleve_id);
        if let Some(e) = existing {
            if e.digest == digest && e.left == left {
                work.report.unchanged += 1;
                enrolled.insert(pupil.eleve_id.clone(), !left);
                continue;
            }
        }
        let account_id = match (existing, by_ine.get(pupil.ine.as_str())) {
            (Some(e), _) if e.ine == pupil.ine.as_str() => e.account_id.clone(),
            // Known elsewhere: a pupil who moved keeps their account (the INE is national).
            (_, Some(id)) => id.clone(),
            // Siècle replaced the pupil's INE (a provisional one made permanent).
            (Some(e), None) => {
                work.changes
                    .ine_corrections
                    .push((e.account_id.clone(), pupil.ine.to_string()));
                e.account_id.clone()
            }
            (None, None) if left => {
                work.report.ignored += 1;
                continue;
            }
            (None, None) => {
                work.report.pupils_created += 1;
                new_account(
                    &mut work.new_accounts,
                    work.now_ms,
                    Profile::Pupil,
                    &pupil.given_name,
                    &pupil.family_name,
                    None,
                    None,
                )
            }
        };
        match existing {
            None if by_ine.contains_key(pupil.ine.as_str()) => work.report.arrived += 1,
            None => {}
            Some(e) if left && !e.left => work.report.left += 1,
            Some(e) if !left && e.left => work.report.arrived += 1,
            Some(_) => work.report.updated += 1,
        }
        if existing.is_some() || by_ine.contains_key(pupil.ine.as_str()) {
            work.changes.account_updates.push(AccountUpdate {
                id: account_id.clone(),
                given_name: pupil.given_name.clone(),
                family_name: pupil.family_name.clone(),
                email: None,
                phone: None,
                profile: None,
            });
        }
        work.changes.pupils.push(PupilRow {
            ine: pupil.ine.to_string(),
            account_id: account_id.clone(),
            birth_date: pupil.birth_date.to_string(),
        });
        work.changes.enrolments.push(EnrolmentRow {
            eleve_id: pupil.eleve_id.clone(),
            account_id,
            division: pupil.division.clone(),
            entry_date: pupil.entry_date.map(|d| d.to_string()),
            exit_date: pupil.exit_date.map(|d| d.to_string()),
            digest,
            left_at: left.then_some(work.now_ms),
        });
        enrolled.insert(pupil.eleve_id.clone(), !left);
    }
    // Absent from a full export: the pupil left. A rejected record says nothing either way.
    for (eleve_id, e) in &work.snapshot.enrolments {
        if !e.left
            && !enrolled.contains_key(eleve_id)
            && !export.rejected_ids.pupils.contains(eleve_id)
        {
            work.changes.enrolments_left.push(eleve_id.clone());
            work.report.left += 1;
        }
    }
    for (eleve_id, e) in &work.snapshot.enrolments {
        enrolled
            .entry(eleve_id.clone())
            .or_insert(!e.left && export.rejected_ids.pupils.contains(eleve_id));
    }
    Ok(enrolled)
}

/// Guardians and persons in charge: returns the `PERSONNE_ID`s that have a row after the import.
async fn persons(
    tx: &mut dyn ImportTx,
    work: &mut Work<'_>,
    enrolled: &HashMap<String, bool>,
) -> anyhow::Result<HashSet<String>> {
    let export = work.export;
    // A person gets (or keeps) an account for a current pupil; legal guardian of any of them
    // makes the account a guardian's.
    let mut legal: HashMap<&str, bool> = HashMap::new();
    for link in &export.links {
        if enrolled.get(&link.eleve_id) == Some(&true) {
            *legal.entry(link.personne_id.as_str()).or_default() |=
                matches!(link.role, Role::LegalGuardian(_));
        }
    }
    // Links the export rejected stay as they were, and keep their person.
    let rejected = &export.rejected_ids;
    for ((eleve_id, personne_id), state) in &work.snapshot.links {
        let untouched = rejected
            .links
            .contains(&(eleve_id.clone(), personne_id.clone()))
            || rejected.pupils.contains(eleve_id);
        if untouched && enrolled.get(eleve_id) == Some(&true) {
            *legal.entry(personne_id.as_str()).or_default() |= state.legal != 0;
        }
    }
    let present: HashSet<&str> = export
        .persons
        .iter()
        .map(|p| p.personne_id.as_str())
        .collect();
    let mut recorded: HashSet<String> = work.snapshot.persons.keys().cloned().collect();
    let mut to_match: Vec<(&Person, Traits, String, bool)> = Vec::new();
    let mut changed: Vec<(&Person, Traits, String, String, bool)> = Vec::new();
    for person in &export.persons {
        let existing = work.snapshot.persons.get(&person.personne_id);
        let digest = person_digest(person);
        match (existing, legal.get(person.personne_id.as_str())) {
            (Some(e), None) => {
                if !e.left {
                    work.changes.persons_left.push(person.personne_id.clone());
                    work.report.left += 1;
                } else {
                    work.report.unchanged += 1;
                }
            }
            (None, None) => work.report.ignored += 1,
            (Some(e), Some(_)) if e.digest == digest && !e.left => work.report.unchanged += 1,
            (Some(e), Some(&is_legal)) => {
                if e.left {
                    work.report.arrived += 1;
                } else {
                    work.report.updated += 1;
                }
                changed.push((
                    person,
                    Traits::of(person),
                    digest,
                    e.account_id.clone(),
                    is_legal,
                ));
            }
            (None, Some(&is_legal)) => {
                recorded.insert(person.personne_id.clone());
                to_match.push((person, Traits::of(person), digest, is_legal));
            }
        }
    }
    for (personne_id, e) in &work.snapshot.persons {
        if !e.left
            && !present.contains(personne_id.as_str())
            && !rejected.persons.contains(personne_id)
        {
            work.changes.persons_left.push(personne_id.clone());
            work.report.left += 1;
        }
    }

    // Who, in any establishment, carries the keys of the new records. A record with a mobile
    // is found by it or by its address; the e-mail is looked up only for a record without a
    // mobile (households share e-mails, and namesakes share invented ones).
    let mut keys = LookupKeys::default();
    for (_, traits, _, _) in &to_match {
        keys.mobile.extend(traits.mobile_key());
        keys.address.extend(traits.address_key());
        if traits.mobile.is_none() {
            keys.email.extend(traits.email_key());
        }
    }
    for list in [&mut keys.mobile, &mut keys.email, &mut keys.address] {
        list.sort_unstable();
        list.dedup();
    }
    let known = if keys.mobile.is_empty() && keys.email.is_empty() && keys.address.is_empty() {
        Vec::new()
    } else {
        tx.records_with_keys(&keys).await?
    };
    let mut by_key: HashMap<&str, Vec<&KnownRecord>> = HashMap::new();
    for k in &known {
        for key in [&k.mobile_key, &k.email_key, &k.address_key]
            .into_iter()
            .flatten()
        {
            by_key.entry(key.as_str()).or_default().push(k);
        }
    }
    // A value that many accounts carry tells nobody apart.
    by_key.retain(|_, records| {
        let mut accounts: Vec<&str> = records.iter().map(|k| k.account_id.as_str()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts.len() <= KEY_SHARERS
    });

    for (person, traits, digest, is_legal) in to_match {
        let mut candidates: Vec<&KnownRecord> = [
            traits.mobile_key(),
            traits
                .mobile
                .is_none()
                .then(|| traits.email_key())
                .flatten(),
            traits.address_key(),
        ]
        .iter()
        .flatten()
        .flat_map(|key| by_key.get(key.as_str()).into_iter().flatten().copied())
        .collect();
        candidates.sort_by(|a, b| (&a.uai, &a.personne_id).cmp(&(&b.uai, &b.personne_id)));
        candidates.dedup();
        let decision = matching::decide(&traits, &candidates);
        let account_id = match &decision.attach_to {
            Some(existing) => {
                work.report.arrived += 1;
                work.report.recognized += 1;
                work.changes
                    .account_updates
                    .push(account_update(existing, person, is_legal));
                existing.clone()
            }
            None => {
                work.report.guardians_created += 1;
                let profile = if is_legal {
                    Profile::Guardian
                } else {
                    Profile::PersonInCharge
                };
                new_account(
                    &mut work.new_accounts,
                    work.now_ms,
                    profile,
                    &person.given_name,
                    &person.family_name,
                    traits.email.clone(),
                    traits.mobile.clone(),
                )
            }
        };
        for (other, reason) in decision.candidates {
            work.report.candidates += 1;
            let (a, b) = if account_id < other {
                (account_id.clone(), other)
            } else {
                (other, account_id.clone())
            };
            work.changes.candidates.push(Candidate {
                account_id: a,
                other_account_id: b,
                reason,
            });
        }
        work.changes
            .persons
            .push(person_row(person, &traits, digest, account_id));
    }
    for (person, traits, digest, account_id, is_legal) in changed {
        work.changes
            .account_updates
            .push(account_update(&account_id, person, is_legal));
        work.changes
            .persons
            .push(person_row(person, &traits, digest, account_id));
    }
    Ok(recorded)
}

/// Links: the export's, between an enrolled pupil and a recorded person, replace the previous.
fn links(work: &mut Work<'_>, enrolled: &HashMap<String, bool>, recorded: &HashSet<String>) {
    let export = work.export;
    let mut kept = HashSet::new();
    for link in &export.links {
        if !enrolled.contains_key(&link.eleve_id) || !recorded.contains(&link.personne_id) {
            continue;
        }
        let key = (link.eleve_id.clone(), link.personne_id.clone());
        let state = LinkState {
            legal: match link.role {
                Role::LegalGuardian(n) => i64::from(n),
                Role::Other => 0,
            },
            relationship: link.relationship.clone(),
        };
        match work.snapshot.links.get(&key) {
            Some(existing) if *existing == state => {}
            Some(_) => work.changes.links.push(LinkRow {
                eleve_id: key.0.clone(),
                personne_id: key.1.clone(),
                state,
            }),
            None => {
                work.report.linked += 1;
                work.changes.links.push(LinkRow {
                    eleve_id: key.0.clone(),
                    personne_id: key.1.clone(),
                    state,
                });
            }
        }
        kept.insert(key);
    }
    let rejected = &export.rejected_ids;
    for key in work.snapshot.links.keys() {
        let untouched = rejected.links.contains(key)
            || rejected.pupils.contains(&key.0)
            || rejected.persons.contains(&key.1);
        if !kept.contains(key) && !untouched {
            work.report.unlinked += 1;
            work.changes.links_deleted.push(key.clone());
        }
    }
    work.changes.links_deleted.sort_unstable();
}

/// New accounts with free logins: numbers are reserved per stem, and a login someone took by
/// hand meanwhile is simply skipped for the next number.
async fn insert_accounts(
    tx: &mut dyn ImportTx,
    pending: &mut Vec<NewAccount>,
) -> anyhow::Result<()> {
    for _ in 0..8 {
        if pending.is_empty() {
            return Ok(());
        }
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for p in pending.iter() {
            *counts.entry(&p.stem).or_default() += 1;
        }
        let mut stems: Vec<(String, i64)> = counts
            .into_iter()
            .map(|(stem, n)| (stem.to_owned(), n))
            .collect();
        stems.sort_unstable();
        let last = tx.reserve_login_numbers(&stems).await?;
        let mut next: HashMap<String, i64> = stems
            .iter()
            .map(|(stem, count)| (stem.clone(), last[stem] - count + 1))
            .collect();
        for p in pending.iter_mut() {
            let number = next.get_mut(&p.stem).expect("reserved above");
            p.account.login = names::login(&p.stem, *number);
            *number += 1;
        }
        let accounts: Vec<Account> = pending.iter().map(|p| p.account.clone()).collect();
        let inserted = tx.insert_accounts(&accounts).await?;
        pending.retain(|p| !inserted.contains(&p.account.id));
    }
    anyhow::bail!("no free login found for {} accounts", pending.len())
}

fn new_account(
    pending: &mut Vec<NewAccount>,
    now_ms: i64,
    profile: Profile,
    given_name: &str,
    family_name: &str,
    email: Option<String>,
    phone: Option<String>,
) -> String {
    let account = Account {
        id: crate::accounts::new_account_id(now_ms),
        login: String::new(),
        password_hash: None,
        profile,
        given_name: given_name.trim().to_owned(),
        family_name: family_name.trim().to_owned(),
        email,
        phone,
        state: AccountState::Created,
        created_at: now_ms,
        updated_at: now_ms,
    };
    let id = account.id.clone();
    pending.push(NewAccount {
        stem: names::login_stem(given_name, family_name),
        account,
    });
    id
}

fn account_update(account_id: &str, person: &Person, is_legal: bool) -> AccountUpdate {
    AccountUpdate {
        id: account_id.to_owned(),
        given_name: person.given_name.clone(),
        family_name: person.family_name.clone(),
        email: person.email.as_deref().and_then(names::email),
        phone: person.mobile.as_deref().and_then(names::mobile),
        profile: is_legal.then_some(Profile::Guardian),
    }
}

fn person_row(person: &Person, traits: &Traits, digest: String, account_id: String) -> PersonRow {
    PersonRow {
        personne_id: person.personne_id.clone(),
        account_id,
        civility: person.civility.clone(),
        family_name: person.family_name.clone(),
        given_name: person.given_name.clone(),
        mobile: traits.mobile.clone(),
        email: traits.email.clone(),
        address: person.address.as_ref().map(names::address_line),
        given_key: traits.given_key.clone(),
        mobile_key: traits.mobile_key(),
        email_key: traits.email_key(),
        address_key: traits.address_key(),
        digest,
    }
}

/// Establishment administrators hear about every import that brings new identifiers to hand
/// out, mid-year arrivals included.
fn new_identifiers_notice(report: &EstablishmentReport) -> Option<Notice> {
    let new = report.created() + report.arrived;
    (new > 0).then(|| Notice {
        id: crate::secrets::random_b64(12),
        kind: "new_identifiers".into(),
        message: format!(
            "Nouveaux identifiants disponibles : {} élève(s) et {} responsable(s) créés, \
             {} arrivée(s) de comptes existants.",
            report.pupils_created, report.guardians_created, report.arrived
        ),
    })
}

fn digest(fields: &[&str]) -> String {
    let mut hash = Sha256::new();
    for field in fields {
        hash.update(field.as_bytes());
        hash.update([0x1f]);
    }
    hex::encode(&hash.finalize()[..16])
}

fn pupil_digest(p: &Pupil) -> String {
    let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    digest(&[
        p.ine.as_str(),
        &p.family_name,
        p.usage_name.as_deref().unwrap_or_default(),
        &p.given_name,
        &p.birth_date.to_string(),
        &date(p.entry_date),
        &date(p.exit_date),
        p.division.as_deref().unwrap_or_default(),
    ])
}

fn person_digest(p: &Person) -> String {
    let address = p.address.as_ref().map(names::address_line);
    digest(&[
        p.civility.as_deref().unwrap_or_default(),
        &p.family_name,
        &p.given_name,
        p.mobile.as_deref().unwrap_or_default(),
        p.email.as_deref().unwrap_or_default(),
        address.as_deref().unwrap_or_default(),
    ])
}
