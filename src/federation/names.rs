//! Whether the identity FranceConnect vouches for is the person an account's record names
//! (issue #18: a tie is refused when the names disagree). Names are folded as the Siècle import
//! folds them (`provisioning::names::fold`: accents, case, hyphens, apostrophes and spaces do
//! not count), since secretaries and civil status spell one name differently.
//!
//! - Family name: the record's is the pivot's birth name, or its usage name
//!   (`preferred_username`: Siècle often knows a married name).
//! - Given name: the record's (Siècle keeps one, or a compound one) is one of the pivot's given
//!   names, or several consecutive ones (`Jean-Pierre` for `Jean Pierre Marie`).

use super::pivot::PivotIdentity;
use crate::provisioning::names::fold;

/// True when a record with these names can be the person of `pivot`.
pub fn agree(pivot: &PivotIdentity, given_name: &str, family_name: &str) -> bool {
    family_agrees(pivot, family_name) && given_agrees(pivot, given_name)
}

fn family_agrees(pivot: &PivotIdentity, family_name: &str) -> bool {
    let record = fold(family_name);
    !record.is_empty()
        && (record == fold(&pivot.family_name)
            || pivot
                .preferred_username
                .as_deref()
                .is_some_and(|usage| fold(usage) == record))
}

fn given_agrees(pivot: &PivotIdentity, given_name: &str) -> bool {
    let record = fold(given_name);
    let names: Vec<String> = pivot
        .given_name
        .split_whitespace()
        .map(fold)
        .filter(|n| !n.is_empty())
        .collect();
    !record.is_empty()
        && (0..names.len())
            .any(|start| (start + 1..=names.len()).any(|end| names[start..end].concat() == record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pivot(given: &str, family: &str, usage: Option<&str>) -> PivotIdentity {
        PivotIdentity {
            given_name: given.into(),
            family_name: family.into(),
            preferred_username: usage.map(str::to_owned),
            birthdate: None,
            gender: None,
            birthplace: None,
            birthcountry: None,
            email: None,
        }
    }

    #[test]
    fn names_spelled_differently_agree_as_the_import_folds_them() {
        let claire = pivot("Claire Anne", "MARTIN", None);
        assert!(agree(&claire, "Claire", "Martin"));
        assert!(agree(&claire, "CLAIRE", "martin"));
        assert!(agree(&claire, "Anne", "Martin"));
        let helene = pivot("Hélène", "N'DIAYE", None);
        assert!(agree(&helene, "Helene", "N DIAYE"));
        let compound = pivot("Jean Pierre Marie", "De la Tour", None);
        assert!(agree(&compound, "Jean-Pierre", "DELATOUR"));
        assert!(agree(&compound, "Pierre Marie", "de La Tour"));
    }

    #[test]
    fn the_usage_name_is_accepted_in_place_of_the_birth_name() {
        let nadia = pivot("Nadia", "Haddad", Some("Benali"));
        assert!(agree(&nadia, "Nadia", "Benali"));
        assert!(agree(&nadia, "Nadia", "Haddad"));
        assert!(!agree(&pivot("Nadia", "Haddad", None), "Nadia", "Benali"));
    }

    #[test]
    fn names_that_disagree_are_refused() {
        let sandrine = pivot("Sandrine", "Durand", None);
        assert!(!agree(&sandrine, "Claire", "Martin"));
        assert!(!agree(&sandrine, "Sandrine", "Martin"), "another family");
        assert!(!agree(&sandrine, "Claire", "Durand"), "another given name");
        assert!(
            !agree(&sandrine, "Sandr", "Durand"),
            "a part of a name is not the name"
        );
        assert!(!agree(&sandrine, "", "Durand"));
        assert!(!agree(
            &pivot("Jean Pierre Marie", "Roux", None),
            "Jean-Marie",
            "Roux"
        ));
        assert!(!agree(&pivot("Claire", "Martin", Some("")), "Claire", ""));
    }
}
