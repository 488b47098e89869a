//! One establishment's import under way (`Work`): what the pupils (`apply.rs`) and the guardians
//! (`guardians.rs`) add to, the accounts still to create, and the digest that tells an unchanged
//! record.

use sha2::{Digest, Sha256};

use super::model::{Changes, Snapshot};
use super::names;
use super::EstablishmentReport;
use crate::accounts::{Account, AccountState, Profile};
use crate::siecle::Export;

/// Accounts to create, the login still to choose.
pub(super) struct NewAccount {
    pub(super) account: Account,
    pub(super) stem: String,
}

/// One establishment's import under way: what pupils and guardians (`guardians.rs`) add to.
pub(super) struct Work<'a> {
    pub(super) export: &'a Export,
    pub(super) snapshot: Snapshot,
    pub(super) changes: Changes,
    pub(super) new_accounts: Vec<NewAccount>,
    pub(super) report: EstablishmentReport,
    pub(super) now_ms: i64,
}

pub(super) fn new_account(
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
        password_expires_at: None,
        verified_email: None,
        verified_phone: None,
    };
    let id = account.id.clone();
    pending.push(NewAccount {
        stem: names::login_stem(given_name, family_name),
        account,
    });
    id
}

pub(super) fn digest(fields: &[&str]) -> String {
    let mut hash = Sha256::new();
    for field in fields {
        hash.update(field.as_bytes());
        hash.update([0x1f]);
    }
    hex::encode(&hash.finalize()[..16])
}
