//! Is a guardian recorded by one establishment someone another establishment already recorded?
//!
//! The rule (issue #4): the same folded family and given names plus at least one strong
//! attribute in common (mobile, e-mail or address) attaches the record to the existing account,
//! provided only one account fits and no mobile number contradicts it (another mobile on every
//! record of the account means a namesake: e-mails and streets are shared by households and
//! placeholders, mobiles are personal). Anything less certain (a given name one typo away, two
//! accounts that fit) is never merged: the record gets its own account and the pair is recorded
//! as a linking candidate for the guardian or an administrator to confirm. A wrong merge would
//! show one family's children to another.

use std::collections::BTreeMap;

use super::model::KnownRecord;
use super::names::{close_given_names, Traits};

/// What to do with a new guardian record.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// The existing account the record belongs to.
    pub attach_to: Option<String>,
    /// Other accounts that may be the same person, with the reason (French, for people).
    pub candidates: Vec<(String, String)>,
}

enum Fit {
    Certain,
    Uncertain(String),
}

/// `known`: the records of every account found through one of the record's lookup keys.
pub fn decide(record: &Traits, known: &[&KnownRecord]) -> Decision {
    let mut by_account: BTreeMap<&str, Vec<&KnownRecord>> = BTreeMap::new();
    for k in known {
        by_account.entry(k.account_id.as_str()).or_default().push(k);
    }
    let mut certain = Vec::new();
    let mut uncertain = Vec::new();
    for (account, records) in by_account {
        match fit(record, &records) {
            Some(Fit::Certain) => certain.push(account),
            Some(Fit::Uncertain(reason)) => uncertain.push((account.to_owned(), reason)),
            None => {}
        }
    }
    let mut decision = Decision {
        candidates: uncertain,
        ..Decision::default()
    };
    if certain.len() == 1 {
        decision.attach_to = Some(certain[0].to_owned());
    } else {
        for account in certain {
            decision.candidates.push((
                account.to_owned(),
                "plusieurs comptes ont les mêmes nom, prénom et coordonnées".to_owned(),
            ));
        }
    }
    decision
}

fn fit(record: &Traits, account: &[&KnownRecord]) -> Option<Fit> {
    let agreeing = agreeing(record, account);
    if agreeing.is_empty() {
        return None;
    }
    let same_given = account.iter().any(|k| k.given_key == record.given_key);
    // A mobile is personal: another number on every record of the account contradicts.
    let other_mobile = record.mobile_key().is_some_and(|mobile| {
        let mobiles: Vec<&String> = account
            .iter()
            .filter_map(|k| k.mobile_key.as_ref())
            .collect();
        !mobiles.is_empty() && !mobiles.contains(&&mobile)
    });
    // A namesake, most likely (the e-mail or the street can be shared by a household or be
    // a placeholder; the mobile is personal). The guardian can still attach with proof.
    if other_mobile {
        return None;
    }
    if same_given {
        return Some(Fit::Certain);
    }
    let evidence = agreeing.join(", ");
    account
        .iter()
        .find(|k| close_given_names(&k.given_key, &record.given_key))
        .map(|k| {
            Fit::Uncertain(format!(
                "prénom proche ({} / {}), {evidence}",
                record.given_key, k.given_key
            ))
        })
}

fn agreeing(record: &Traits, account: &[&KnownRecord]) -> Vec<&'static str> {
    let same = |mine: Option<String>, theirs: fn(&KnownRecord) -> &Option<String>| {
        mine.is_some() && account.iter().any(|k| *theirs(k) == mine)
    };
    [
        (same(record.mobile_key(), |k| &k.mobile_key), "même mobile"),
        (same(record.email_key(), |k| &k.email_key), "même e-mail"),
        (
            same(record.address_key(), |k| &k.address_key),
            "même adresse",
        ),
    ]
    .into_iter()
    .filter_map(|(agrees, what)| agrees.then_some(what))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traits(given: &str, mobile: Option<&str>, email: Option<&str>) -> Traits {
        Traits {
            family_key: "DUPONT".into(),
            given_key: given.into(),
            mobile: mobile.map(Into::into),
            email: email.map(Into::into),
            address_key: Some("12RUEDELAPAIX|75002".into()),
        }
    }

    fn known(account: &str, t: &Traits) -> KnownRecord {
        KnownRecord {
            uai: "0000001A".into(),
            personne_id: format!("{account}{}", t.given_key),
            account_id: account.into(),
            given_key: t.given_key.clone(),
            mobile_key: t.mobile_key(),
            email_key: t.email_key(),
            address_key: t.address_key(),
        }
    }

    #[test]
    fn same_names_and_a_strong_attribute_attach() {
        let existing = traits("MARIE", Some("0611111111"), None);
        let record = traits("MARIE", Some("0611111111"), Some("m@x.fr"));
        let decision = decide(&record, &[&known("a", &existing)]);
        assert_eq!(decision.attach_to.as_deref(), Some("a"));
        assert!(decision.candidates.is_empty());
    }

    #[test]
    fn a_misspelled_given_name_is_only_a_candidate() {
        let existing = traits("NATHALIE", Some("0611111111"), None);
        let record = traits("NATHLIE", Some("0611111111"), None);
        let decision = decide(&record, &[&known("a", &existing)]);
        assert_eq!(decision.attach_to, None);
        assert_eq!(decision.candidates.len(), 1);
        assert!(decision.candidates[0].1.contains("prénom proche"));
    }

    #[test]
    fn another_mobile_number_makes_a_namesake() {
        let existing = traits("MARIE", Some("0611111111"), Some("marie.dupont@x.fr"));
        let mut record = traits("MARIE", Some("0622222222"), Some("marie.dupont@x.fr"));
        record.address_key = None;
        assert_eq!(
            decide(&record, &[&known("a", &existing)]),
            Decision::default()
        );
    }

    #[test]
    fn two_fitting_accounts_are_ambiguous() {
        let existing = traits("MARIE", None, None);
        let record = traits("MARIE", None, None);
        let decision = decide(&record, &[&known("a", &existing), &known("b", &existing)]);
        assert_eq!(decision.attach_to, None);
        assert_eq!(decision.candidates.len(), 2);
    }

    #[test]
    fn a_spouse_at_the_same_address_is_nobody() {
        let existing = traits("MICHEL", None, None);
        let record = traits("MARIE", None, None);
        assert_eq!(
            decide(&record, &[&known("a", &existing)]),
            Decision::default()
        );
    }
}
