//! What a first load has applied so far (`Stage`), and `SqlImport::write`'s statements on it.

use std::collections::{HashMap, HashSet};

/// The stage's maps hash with foldhash: millions of short keys, hashed several times each, where
/// the standard SipHash was a tenth of the run's main thread (keys from the exports, seeded per
/// process).
pub(super) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub(super) type Set<T> = HashSet<T, foldhash::fast::RandomState>;

use crate::accounts::Account;
use crate::provisioning::model::{
    Changes, EnrolmentRow, EstablishmentRow, LinkState, Notice, PersonRow, PupilRow,
};

/// What the run has applied so far: the rows as they will be written.
#[derive(Default)]
pub(super) struct Stage {
    pub(super) accounts_before: usize,
    pub(super) stems: Map<String, i64>,
    pub(super) logins: Set<String>,
    pub(super) accounts: Map<String, Account>,
    /// By INE; `ine_of` goes the other way.
    pub(super) pupils: Map<String, PupilRow>,
    pub(super) ine_of: Map<String, String>,
    /// With the first and the last import's time.
    pub(super) establishments: Map<String, (EstablishmentRow, i64, i64)>,
    pub(super) directory: Map<String, Establishment>,
    /// Lookup key → guardian records (`uai`, `PERSONNE_ID`) that carried it when staged (a
    /// record staged again with other keys leaves a stale entry, checked on lookup).
    pub(super) mobile_keys: Map<String, Vec<(String, String)>>,
    pub(super) email_keys: Map<String, Vec<(String, String)>>,
    pub(super) address_keys: Map<String, Vec<(String, String)>>,
    pub(super) candidates: Vec<(String, String, String, i64)>,
    pub(super) candidate_pairs: Set<(String, String)>,
    pub(super) notices: Vec<(String, Notice, i64)>,
    /// The history: (id, uai, source, export date, report), and when.
    pub(super) imports: Vec<([Option<String>; 5], i64)>,
}

/// One establishment's rows.
#[derive(Default)]
pub(super) struct Establishment {
    pub(super) enrolments: Map<String, (EnrolmentRow, i64)>,
    /// With `left_at` and `updated_at`.
    pub(super) persons: Map<String, (PersonRow, Option<i64>, i64)>,
    pub(super) links: Map<(String, String), LinkState>,
}

impl Stage {
    /// `SqlImport::write`'s statements, on the staged rows.
    pub(super) fn apply(&mut self, uai: &str, c: Changes, now_ms: i64) -> anyhow::Result<()> {
        for (account_id, ine) in c.ine_corrections {
            let old = self.ine_of.insert(account_id, ine.clone());
            if let Some(mut pupil) = old.and_then(|old| self.pupils.remove(&old)) {
                pupil.ine = ine.clone();
                self.pupils.insert(ine, pupil);
            }
        }
        for p in c.pupils {
            match self.pupils.get_mut(&p.ine) {
                Some(known) => known.birth_date = p.birth_date,
                None => {
                    self.ine_of.insert(p.account_id.clone(), p.ine.clone());
                    self.pupils.insert(p.ine.clone(), p);
                }
            }
        }
        for u in c.account_updates {
            let Some(account) = self.accounts.get_mut(&u.id) else {
                anyhow::bail!("first load: account {} was not staged by this run", u.id);
            };
            // `SqlImport::write`'s condition: only an account that changes is rewritten.
            let changes = account.given_name != u.given_name
                || account.family_name != u.family_name
                || (u.email.is_some() && account.email != u.email)
                || (u.phone.is_some() && account.phone != u.phone)
                || u.profile.is_some_and(|p| account.profile != p);
            if !changes {
                continue;
            }
            account.given_name = u.given_name;
            account.family_name = u.family_name;
            if u.email.is_some() {
                account.email = u.email;
            }
            if u.phone.is_some() {
                account.phone = u.phone;
            }
            if let Some(profile) = u.profile {
                account.profile = profile;
            }
            account.updated_at = now_ms;
        }
        let rows = self.directory.entry(uai.to_owned()).or_default();
        for key in &c.links_deleted {
            rows.links.remove(key);
        }
        for e in c.enrolments {
            rows.enrolments.insert(e.eleve_id.clone(), (e, now_ms));
        }
        for eleve_id in &c.enrolments_left {
            if let Some((e, updated_at)) = rows.enrolments.get_mut(eleve_id) {
                if e.left_at.is_none() {
                    e.left_at = Some(now_ms);
                    *updated_at = now_ms;
                }
            }
        }
        for p in c.persons {
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
                .insert(p.personne_id.clone(), (p, None, now_ms));
        }
        for personne_id in &c.persons_left {
            if let Some((_, left_at, updated_at)) = rows.persons.get_mut(personne_id) {
                if left_at.is_none() {
                    *left_at = Some(now_ms);
                    *updated_at = now_ms;
                }
            }
        }
        for l in c.links {
            rows.links.insert((l.eleve_id, l.personne_id), l.state);
        }
        for k in c.candidates {
            if self
                .candidate_pairs
                .insert((k.account_id.clone(), k.other_account_id.clone()))
            {
                self.candidates
                    .push((k.account_id, k.other_account_id, k.reason, now_ms));
            }
        }
        if let Some(notice) = c.notice {
            self.notices.push((uai.to_owned(), notice, now_ms));
        }
        let export_date = self
            .establishments
            .get(uai)
            .and_then(|(e, _, _)| e.export_date.clone());
        self.imports.push((
            [
                Some(crate::secrets::random_b64(12)),
                Some(uai.to_owned()),
                Some(c.source),
                export_date,
                Some(c.report),
            ],
            now_ms,
        ));
        Ok(())
    }
}
