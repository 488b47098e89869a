//! Whether an account belongs to an establishment, as the back-office's account operations
//! check it before anything else: a pupil currently enrolled there, a guardian (or person in
//! charge) of a current record there. An account elsewhere — or none at all — answers
//! `OutOfScope`, so nothing is learned of accounts outside the actor's establishments.

use super::{Actor, OperationError, Right};
use crate::accounts::affiliations::Affiliations;
use crate::accounts::{Account, Profile};
use crate::siecle::Uai;
use crate::store::{AccountStore, DirectoryStore};

/// The account is the establishment's, by its profile.
pub fn belongs(affiliations: &Affiliations, profile: Profile, uai: &Uai) -> bool {
    match profile {
        Profile::Pupil => affiliations
            .enrolments
            .iter()
            .any(|e| e.uai == uai.as_str()),
        Profile::Guardian | Profile::PersonInCharge => {
            affiliations.records.iter().any(|r| r.uai == uai.as_str())
        }
    }
}

/// The account `account_id` of the establishment `uai`, once the actor is known to hold
/// `right(profile)` there. The order of the checks: seeing the establishment, the account
/// being there, then the right over its profile (the second factor for a guardian's).
pub async fn account_at(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    accounts: &dyn AccountStore,
    uai: &Uai,
    account_id: &str,
    right: fn(Profile) -> Right,
) -> Result<(Account, Affiliations), OperationError> {
    actor.require(uai, Right::View)?;
    let Some(account) = accounts.account(account_id).await? else {
        return Err(actor.refused());
    };
    let affiliations = directory.affiliations(&account.id).await?;
    if !belongs(&affiliations, account.profile, uai) {
        return Err(actor.refused());
    }
    actor.require(uai, right(account.profile))?;
    Ok((account, affiliations))
}
