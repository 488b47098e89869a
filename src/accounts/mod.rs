//! Pupil and guardian accounts: the login identifier, the password, the profile. Accounts are
//! generated from Siècle records (a later issue); `educonnect accounts add` creates them by hand
//! for now.

pub mod password;
pub mod throttle;

use serde::{Deserialize, Serialize};

/// Who the account belongs to (glossary: élève → pupil, représentant légal → guardian,
/// personne en charge → person in charge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Pupil,
    Guardian,
    PersonInCharge,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Pupil => "pupil",
            Profile::Guardian => "guardian",
            Profile::PersonInCharge => "person_in_charge",
        }
    }

    pub fn parse(value: &str) -> Option<Profile> {
        match value {
            "pupil" => Some(Profile::Pupil),
            "guardian" => Some(Profile::Guardian),
            "person_in_charge" => Some(Profile::PersonInCharge),
            _ => None,
        }
    }
}

/// created → notified → active, or disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Created,
    Notified,
    Active,
    Disabled,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Created => "created",
            AccountState::Notified => "notified",
            AccountState::Active => "active",
            AccountState::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<AccountState> {
        match value {
            "created" => Some(AccountState::Created),
            "notified" => Some(AccountState::Notified),
            "active" => Some(AccountState::Active),
            "disabled" => Some(AccountState::Disabled),
            _ => None,
        }
    }

    /// Whether the account may sign in with its password.
    pub fn can_log_in(self) -> bool {
        matches!(self, AccountState::Notified | AccountState::Active)
    }
}

/// A login identifier (`j.dupont42`): ASCII lower case letters, digits, `.`, `-`, `_`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginId(String);

impl LoginId {
    /// Normalizes what a person typed (trims, lower-cases); `None` if it cannot be a login.
    pub fn parse(typed: &str) -> Option<LoginId> {
        let login = typed.trim().to_ascii_lowercase();
        let valid = (1..=64).contains(&login.len())
            && login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        valid.then_some(LoginId(login))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One account. `id` is the OpenID Connect `sub`: opaque and stable, never the login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub login: String,
    pub password_hash: Option<String>,
    pub profile: Profile,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub state: AccountState,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Account {
    /// A new account with a fresh opaque id.
    pub fn new(
        login: LoginId,
        profile: Profile,
        given_name: &str,
        family_name: &str,
        now_ms: i64,
    ) -> Account {
        Account {
            id: crate::secrets::random_b64(18),
            login: login.0,
            password_hash: None,
            profile,
            given_name: given_name.trim().to_owned(),
            family_name: family_name.trim().to_owned(),
            email: None,
            phone: None,
            state: AccountState::Created,
            created_at: now_ms,
            updated_at: now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_is_normalized_and_validated() {
        assert_eq!(
            LoginId::parse("  J.Dupont42 ").unwrap().as_str(),
            "j.dupont42"
        );
        assert!(LoginId::parse("j dupont").is_none());
        assert!(LoginId::parse("").is_none());
        assert!(LoginId::parse("élève").is_none());
    }
}
