//! The account life cycle: the password policy, and every change of an account's password or
//! state. DESIGN.md: "one password policy and one place that changes an account's state; every
//! path (letters, activation, recovery, back-office reset, CLI) calls it". The CLI calls it
//! today; the notification letters, activation, recovery and the back-office resets are to call
//! these functions too, never writing `password_hash` or `state` to the store themselves. Each
//! function takes the account store and the hasher it uses, never the whole `App`.

use crate::accounts::password::PasswordHasher;
use crate::accounts::sessions::Sessions;
use crate::accounts::temporary::TemporaryPassword;
use crate::accounts::{Account, AccountState, LoginId, Profile};
use crate::outbox::Outgoing;
use crate::secrets::Secret;
use crate::store::{AccountStore, InsertAccountError};

/// The shortest password accepted, in characters (not bytes: « é » counts one).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a password is refused by the policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
}

/// A password that meets the policy. The functions below take only this type, so no path can
/// store a password that skipped the check; parse it as soon as the password is typed, before
/// any other work.
#[derive(Debug)]
pub struct NewPassword(Secret);

impl NewPassword {
    /// The one password policy: a letter's temporary password, a password chosen at activation
    /// or recovery and one typed by support all go through here.
    pub fn parse(password: Secret) -> Result<NewPassword, PasswordPolicyError> {
        if password.expose().chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordPolicyError::TooShort);
        }
        Ok(NewPassword(password))
    }
}

/// Why an account's state may not change.
#[derive(Debug, thiserror::Error)]
pub enum StateChangeError {
    /// DESIGN.md: only the back-office disables an account or enables it again; a password
    /// change does not bring it back.
    #[error("account {login} is disabled")]
    Disabled { login: String },
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Replaces the account's password with `password` (argon2id), its state unchanged. Every path
/// that changes a password calls this (letters, first login, recovery, back-office reset); only
/// renewing the hash of the same password on login (`credentials`) writes the hash directly.
pub async fn set_password(
    accounts: &dyn AccountStore,
    passwords: &PasswordHasher,
    account_id: &str,
    password: &NewPassword,
    now_ms: i64,
) -> anyhow::Result<()> {
    let hash = passwords.hash(&password.0).await?;
    accounts
        .set_password_hash(account_id, &hash, now_ms)
        .await?;
    // Not yet (issue #14 changes no behaviour): DESIGN.md's "changing a password ends the
    // account's SSO sessions and refresh grants" goes here, so every path gets it.
    Ok(())
}

/// Gives `account` the password `password` and makes it active: what activation does, and the
/// CLI's `accounts set-password` by hand. A disabled account is refused, nothing written.
pub async fn activate_with_password(
    accounts: &dyn AccountStore,
    passwords: &PasswordHasher,
    account: &Account,
    password: &NewPassword,
    now_ms: i64,
) -> Result<(), StateChangeError> {
    if account.state == AccountState::Disabled {
        return Err(StateChangeError::Disabled {
            login: account.login.clone(),
        });
    }
    set_password(accounts, passwords, &account.id, password, now_ms).await?;
    accounts
        .set_state(&account.id, AccountState::Active, now_ms)
        .await?;
    Ok(())
}

/// Gives `account` a new temporary password, valid until `valid_until_ms` (the letter's
/// validity), and makes it `notified`: what a notification with a password (re)set does. The
/// previous password, temporary or not, stops working. An active account's reset also ends its
/// SSO sessions and revokes its refresh grants (DESIGN.md: changing a password does). A
/// disabled account is refused, nothing written. `message` makes, from the new password, the
/// message that carries it (an e-mail; `None` for a letter): it is queued in the outbox in the
/// same transaction as the password (DESIGN.md: a message is written with what caused it).
/// Returns the password, for the letter only.
#[allow(clippy::too_many_arguments)] // each is one decision of the caller
pub async fn issue_temporary_password(
    accounts: &dyn AccountStore,
    passwords: &PasswordHasher,
    sessions: &dyn Sessions,
    account: &Account,
    valid_until_ms: i64,
    now_ms: i64,
    message: impl FnOnce(&TemporaryPassword) -> anyhow::Result<Option<Outgoing>>,
) -> Result<TemporaryPassword, StateChangeError> {
    if account.state == AccountState::Disabled {
        return Err(StateChangeError::Disabled {
            login: account.login.clone(),
        });
    }
    let password = TemporaryPassword::generate();
    let hash = passwords.hash(password.characters()).await?;
    let message = message(&password)?;
    accounts
        .set_temporary_password(&account.id, &hash, valid_until_ms, now_ms, message.as_ref())
        .await?;
    if account.state == AccountState::Active {
        sessions.end_all(&account.id).await?;
        sessions.revoke_grants(&account.id).await?;
    }
    Ok(password)
}

/// What an account made by hand holds besides its password.
pub struct HandMadeAccount {
    pub login: LoginId,
    pub profile: Profile,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
}

/// Creates an account that is active at once, with `password`: the CLI's `accounts add` (the
/// Siècle import creates the real accounts, in state `created`). Fails with `LoginTaken` if the
/// login exists.
pub async fn create_active_account(
    accounts: &dyn AccountStore,
    passwords: &PasswordHasher,
    new: HandMadeAccount,
    password: &NewPassword,
    now_ms: i64,
) -> Result<Account, InsertAccountError> {
    let mut account = Account::new(
        new.login,
        new.profile,
        &new.given_name,
        &new.family_name,
        now_ms,
    );
    account.state = AccountState::Active;
    account.email = new.email;
    account.password_hash = Some(passwords.hash(&password.0).await?);
    accounts.insert_account(&account).await?;
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_needs_eight_characters_counted_as_characters() {
        let parse = |p: &str| NewPassword::parse(Secret::from_presented(p)).map(|_| ());
        assert_eq!(parse("1234567"), Err(PasswordPolicyError::TooShort));
        assert_eq!(parse(""), Err(PasswordPolicyError::TooShort));
        assert_eq!(parse("12345678"), Ok(()));
        // Seven characters, fourteen bytes: still too short.
        assert_eq!(parse("ééééééé"), Err(PasswordPolicyError::TooShort));
        assert_eq!(parse("éléphant"), Ok(()));
        assert_eq!(
            PasswordPolicyError::TooShort.to_string(),
            "the password must have at least 8 characters"
        );
    }
}
