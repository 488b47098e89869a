//! One establishment's export applied to the directory, in one transaction: compared with what
//! the directory holds (`Snapshot`), only the difference is written. Re-importing the same export
//! writes nothing but the import history.

use std::collections::{HashMap, HashSet};

use super::guardians;
use super::model::{
    identifiers_file_path, AccountUpdate, Changes, EnrolmentRow, EstablishmentRow, LinkRow,
    LinkState, Notice, PupilRow,
};
use super::names;
use super::work::{digest, new_account, NewAccount, Work};
use super::EstablishmentReport;
use crate::accounts::{Account, Profile};
use crate::siecle::{Date, Export, Pupil, Role};
use crate::store::{DirectoryStore, ImportTx};

/// Imports one checked export. `source` says who asked (`cli`, `api`), for the history.
pub async fn import_establishment(
    store: &dyn DirectoryStore,
    export: &Export,
    source: &str,
    now_ms: i64,
) -> anyhow::Result<EstablishmentReport> {
    let mut tx = store.begin_import().await?;
    let report = apply(&mut *tx, export, source, now_ms).await?;
    let started = std::time::Instant::now();
    tx.commit().await?;
    tracing::debug!(
        uai = export.uai.as_str(),
        commit_ms = started.elapsed().as_millis() as u64,
        "establishment committed"
    );
    Ok(report)
}

/// One establishment's export applied in `tx`, not committed: its own transaction
/// (`import_establishment`), or a first load's (`import::import_exports`).
pub(super) async fn apply(
    tx: &mut dyn ImportTx,
    export: &Export,
    source: &str,
    now_ms: i64,
) -> anyhow::Result<EstablishmentReport> {
    let uai = export.uai.as_str();
    let started = std::time::Instant::now();
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
    let enrolled = pupils(tx, &mut work, reference).await?;
    let t_pupils = started.elapsed();
    let recorded = guardians::persons(tx, &mut work, &enrolled).await?;
    let t_persons = started.elapsed();
    links(&mut work, &enrolled, &recorded);
    insert_accounts(tx, &mut work.new_accounts).await?;
    let t_accounts = started.elapsed();
    work.changes.notice = new_identifiers_notice(&work.report);
    work.changes.report = serde_json::to_string(&work.report)?;
    tx.write(uai, std::mem::take(&mut work.changes), now_ms)
        .await?;
    tracing::debug!(
        uai,
        snapshot_ms = t_snapshot.as_millis() as u64,
        pupils_ms = (t_pupils - t_snapshot).as_millis() as u64,
        persons_ms = (t_persons - t_pupils).as_millis() as u64,
        accounts_ms = (t_accounts - t_persons).as_millis() as u64,
        write_ms = (started.elapsed() - t_accounts).as_millis() as u64,
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
            mef: pupil.mef.clone(),
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
        let inserted = tx.insert_accounts(accounts).await?;
        pending.retain(|p| !inserted.contains(&p.account.id));
    }
    anyhow::bail!("no free login found for {} accounts", pending.len())
}

/// Establishment administrators hear about every import that brings new identifiers to hand
/// out, mid-year arrivals included.
fn new_identifiers_notice(report: &EstablishmentReport) -> Option<Notice> {
    let new = report.created() + report.arrived;
    (new > 0).then(|| Notice {
        id: crate::secrets::random_b64(12),
        kind: "new_identifiers".into(),
        link: Some(identifiers_file_path(&report.uai, "csv")),
        message: format!(
            "Nouveaux identifiants disponibles : {} élève(s) et {} responsable(s) créés, \
             {} arrivée(s) de comptes existants. Fichier des nouveaux identifiants : dans \
             l'espace de gestion, page « Nouveaux identifiants » (/gestion/etablissements/{}/identifiants), \
             ou par l'API d'administration : {} (ou {}).",
            report.pupils_created,
            report.guardians_created,
            report.arrived,
            report.uai,
            identifiers_file_path(&report.uai, "csv"),
            identifiers_file_path(&report.uai, "pdf"),
        ),
    })
}

fn pupil_digest(p: &Pupil) -> String {
    let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let (birth, entry, exit) = (
        p.birth_date.to_string(),
        date(p.entry_date),
        date(p.exit_date),
    );
    let mut fields = vec![
        p.ine.as_str(),
        &p.family_name,
        p.usage_name.as_deref().unwrap_or_default(),
        &p.given_name,
        &birth,
        &entry,
        &exit,
        p.division.as_deref().unwrap_or_default(),
    ];
    // The MEF code joins the digest only when the export has one, so that the records of an
    // export without it keep their digests (and are not all written again).
    fields.extend(p.mef.as_deref());
    digest(&fields)
}
