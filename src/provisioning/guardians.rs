//! The guardians and persons in charge of one establishment's export: each record compared with
//! the stored one; a new record looked up by its keys in every establishment and attached to the
//! account it belongs to (`matching`), or given a new one, with linking candidates when unsure.

use std::collections::{HashMap, HashSet};

use super::matching;
use super::model::{AccountUpdate, Candidate, KnownRecord, LookupKeys, PersonRow, KEY_SHARERS};
use super::names::{self, Traits};
use super::work::{digest, new_account, Work};
use crate::accounts::Profile;
use crate::siecle::{Person, Role};
use crate::store::ImportTx;

/// Guardians and persons in charge: returns the `PERSONNE_ID`s that have a row after the import.
pub(super) async fn persons(
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
