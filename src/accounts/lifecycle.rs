//! The account life cycle: the password policy, and every change of an account's password or
//! state. DESIGN.md: "one password policy and one place that changes an account's state; every
//! path (letters, activation, recovery, back-office reset, CLI) calls it". The CLI calls it
//! today; the notification letters, activation, recovery and the back-office resets are to call
//! these functions too, never writing `password_hash` or `state` to the store themselves. Each
//! function takes the account store and the hasher it uses, never the whole `App`; a change is
//! written to the audit trail in the name of its `Author`.

use crate::accounts::password::PasswordHasher;
use crate::accounts::sessions::Sessions;
use crate::accounts::temporary::TemporaryPassword;
use crate::accounts::{Account, AccountState, LoginId, Profile};
use crate::audit::{self, Action, Event, Outcome};
use crate::outbox::Outgoing;
use crate::secrets::Secret;
use crate::store::{AccountStore, AuditStore, InsertAccountError};

/// The shortest password accepted, in characters (not bytes: « é » counts one).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest (what argon2 is given stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Of lower case letters, capitals, digits and other characters, how many kinds are needed.
pub const MIN_CHARACTER_KINDS: usize = 3;

/// The commonest passwords and the words they are made of, compared without case, accents,
/// digits or punctuation (« Azerty123! » is « azerty »). Short on purpose: the length and
/// kinds rules and the login throttle do the rest (CNIL, délibération 2022-100: 8 characters of
/// 3 kinds suffice behind a throttle).
const COMMON: &[&str] = &[
    "password",
    "motdepasse",
    "azerty",
    "azertyuiop",
    "qwerty",
    "qwertyuiop",
    "abc",
    "abcd",
    "abcdef",
    "abcdefgh",
    "abcabc",
    "soleil",
    "bonjour",
    "coucou",
    "salut",
    "doudou",
    "loulou",
    "chouchou",
    "jetaime",
    "iloveyou",
    "loveyou",
    "amour",
    "bisous",
    "princesse",
    "marseille",
    "paris",
    "france",
    "football",
    "foot",
    "psg",
    "om",
    "chocolat",
    "pokemon",
    "minecraft",
    "fortnite",
    "roblox",
    "naruto",
    "dragon",
    "superman",
    "batman",
    "monkey",
    "master",
    "welcome",
    "bienvenue",
    "admin",
    "administrateur",
    "secret",
    "test",
    "toto",
    "tata",
    "titi",
    "tutu",
    "aaaa",
    "aaaaaa",
    "aaaaaaaa",
    "qsdfgh",
    "wxcvbn",
    "educonnect",
    "eduscol",
    "ecole",
    "college",
    "lycee",
    "eleve",
    "parent",
    "parents",
    "maman",
    "papa",
    "famille",
    "bebe",
    "nicolas",
    "camille",
    "thomas",
    "lucas",
    "julien",
    "marie",
    "emma",
    "lea",
    "chloe",
];

/// Why a password is refused by the policy: each names the rule, in French for the page.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("Le mot de passe doit comporter au moins {MIN_PASSWORD_CHARS} caractères.")]
    TooShort,
    #[error("Le mot de passe doit comporter au plus {MAX_PASSWORD_CHARS} caractères.")]
    TooLong,
    #[error(
        "Le mot de passe doit mélanger au moins {MIN_CHARACTER_KINDS} types de caractères parmi : \
         minuscules, majuscules, chiffres et caractères spéciaux."
    )]
    TooFewKinds,
    #[error("Ce mot de passe est trop courant : choisissez-en un moins facile à deviner.")]
    Common,
    #[error("Le mot de passe ne doit pas contenir votre identifiant.")]
    ContainsLogin,
    #[error("Le mot de passe ne doit pas contenir votre nom ou votre prénom.")]
    ContainsName,
    #[error("Le nouveau mot de passe doit être différent du mot de passe provisoire.")]
    SameAsTemporary,
    #[error("Les deux mots de passe saisis sont différents.")]
    Mismatch,
}

/// A password that meets the policy. The functions below take only this type, so no path can
/// store a password that skipped the check; parse it as soon as the password is typed, before
/// any other work.
#[derive(Debug)]
pub struct NewPassword(Secret);

/// Lower case, accents and everything but letters and digits gone: what is compared.
fn folded(text: &str) -> String {
    deunicode::deunicode(text)
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

impl NewPassword {
    /// The one password policy, for whoever the password is (a letter's temporary password
    /// never comes here: it is drawn, not chosen): length, kinds of characters, not one of the
    /// commonest. A password chosen for an account also goes through [`NewPassword::for_account`].
    pub fn parse(password: Secret) -> Result<NewPassword, PasswordPolicyError> {
        let typed = password.expose();
        let length = typed.chars().count();
        if length < MIN_PASSWORD_CHARS {
            return Err(PasswordPolicyError::TooShort);
        }
        if length > MAX_PASSWORD_CHARS {
            return Err(PasswordPolicyError::TooLong);
        }
        let kinds = [
            typed.chars().any(char::is_lowercase),
            typed.chars().any(char::is_uppercase),
            typed.chars().any(|c| c.is_ascii_digit()),
            typed.chars().any(|c| !c.is_alphanumeric()),
        ];
        if kinds.iter().filter(|k| **k).count() < MIN_CHARACTER_KINDS {
            return Err(PasswordPolicyError::TooFewKinds);
        }
        let letters: String = folded(typed)
            .chars()
            .filter(char::is_ascii_alphabetic)
            .collect();
        if letters.is_empty() || COMMON.contains(&letters.as_str()) {
            return Err(PasswordPolicyError::Common);
        }
        Ok(NewPassword(password))
    }

    /// The policy for a password `account` chooses: `parse`'s rules, then neither the login
    /// (nor its letters without the number) nor a name of three letters or more in it.
    pub fn for_account(
        password: Secret,
        account: &Account,
    ) -> Result<NewPassword, PasswordPolicyError> {
        Self::for_person(
            password,
            &account.login,
            &account.given_name,
            &account.family_name,
        )
    }

    /// [`NewPassword::parse`], and neither the login (nor its stem) nor a name part of 3 or
    /// more letters: for an account, or a back-office staff member.
    pub fn for_person(
        password: Secret,
        login: &str,
        given_name: &str,
        family_name: &str,
    ) -> Result<NewPassword, PasswordPolicyError> {
        let parsed = Self::parse(password)?;
        let typed = folded(parsed.0.expose());
        let login = folded(login);
        let stem: String = login.chars().filter(char::is_ascii_alphabetic).collect();
        if typed.contains(&login) || (stem.len() >= 4 && typed.contains(&stem)) {
            return Err(PasswordPolicyError::ContainsLogin);
        }
        let names = format!("{given_name} {family_name}");
        let in_password = names
            .split(|c: char| c.is_whitespace() || c == '-' || c == '\'')
            .map(folded)
            .any(|part| part.len() >= 3 && typed.contains(&part));
        if in_password {
            return Err(PasswordPolicyError::ContainsName);
        }
        Ok(parsed)
    }

    pub fn expose(&self) -> &Secret {
        &self.0
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

/// Who changes an account's password or state, for the audit trail (`crate::audit`).
#[derive(Clone, Copy)]
pub struct Author<'a> {
    pub audit: &'a dyn AuditStore,
    /// `account:<id>` (the person, at activation), `cli`, `staff:<login>`, `demo`.
    pub actor: &'a str,
    /// Where the change was asked from, when it came over the network.
    pub address: Option<&'a str>,
}

impl Author<'_> {
    async fn record(&self, action: Action, account_id: &str, now_ms: i64) {
        self.record_at(action, account_id, None, now_ms).await
    }

    /// `record`, at the establishment whose staff acted.
    async fn record_at(&self, action: Action, account_id: &str, uai: Option<&str>, now_ms: i64) {
        let mut event = Event::new(self.actor, action, Outcome::Ok, now_ms)
            .on_account(account_id)
            .from_address(self.address);
        if let Some(uai) = uai {
            event = event.at_establishment(uai);
        }
        audit::record(self.audit, event).await
    }
}

/// Disables `account`: it can no longer log in, and its SSO sessions and refresh grants end at
/// once (DESIGN.md: only the back-office disables an account). `uai` is the establishment whose
/// staff did it, for the audit trail.
pub async fn disable(
    accounts: &dyn AccountStore,
    sessions: &dyn Sessions,
    author: Author<'_>,
    account: &Account,
    uai: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    if account.state != AccountState::Disabled {
        accounts
            .set_state(&account.id, AccountState::Disabled, now_ms)
            .await?;
    }
    sessions.end_all(&account.id).await?;
    sessions.revoke_grants(&account.id).await?;
    author
        .record_at(Action::AccountDisabled, &account.id, Some(uai), now_ms)
        .await;
    Ok(())
}

/// Enables `account` again, in the state its password puts it in: none yet, `created`; a
/// temporary one, `notified`; its own, `active`. An account that is not disabled keeps its
/// state. Returns the state.
pub async fn enable(
    accounts: &dyn AccountStore,
    author: Author<'_>,
    account: &Account,
    uai: &str,
    now_ms: i64,
) -> anyhow::Result<AccountState> {
    let state = match (
        account.state,
        &account.password_hash,
        account.password_expires_at,
    ) {
        (state, _, _) if state != AccountState::Disabled => state,
        (_, None, _) => AccountState::Created,
        (_, Some(_), Some(_)) => AccountState::Notified,
        (_, Some(_), None) => AccountState::Active,
    };
    if state != account.state {
        accounts.set_state(&account.id, state, now_ms).await?;
    }
    author
        .record_at(Action::AccountEnabled, &account.id, Some(uai), now_ms)
        .await;
    Ok(state)
}

/// Replaces the account's password with `password` (argon2id), its state unchanged, and ends
/// the account's SSO sessions and refresh grants (DESIGN.md: changing a password does). Every
/// path that changes a password calls this (first login, recovery, back-office reset, CLI);
/// only renewing the hash of the same password on login (`credentials`) writes the hash
/// directly.
pub async fn set_password(
    accounts: &dyn AccountStore,
    passwords: &PasswordHasher,
    sessions: &dyn Sessions,
    author: Author<'_>,
    account_id: &str,
    password: &NewPassword,
    now_ms: i64,
) -> anyhow::Result<()> {
    let hash = passwords.hash(&password.0).await?;
    accounts
        .set_password_hash(account_id, &hash, now_ms)
        .await?;
    author
        .record(Action::AccountPasswordChanged, account_id, now_ms)
        .await;
    sessions.end_all(account_id).await?;
    sessions.revoke_grants(account_id).await?;
    Ok(())
}

/// Gives `account` the password `password` and makes it active: the end of the activation at
/// first login, and the CLI's `accounts set-password` by hand. A disabled account is refused,
/// nothing written.
pub async fn activate_with_password(
    accounts: &dyn AccountStore,
    passwords: &PasswordHasher,
    sessions: &dyn Sessions,
    author: Author<'_>,
    account: &Account,
    password: &NewPassword,
    now_ms: i64,
) -> Result<(), StateChangeError> {
    refuse_disabled(account)?;
    set_password(
        accounts,
        passwords,
        sessions,
        author,
        &account.id,
        password,
        now_ms,
    )
    .await?;
    activate(accounts, author, account, now_ms).await
}

/// Makes `account` active, its password already chosen (the activation at first login sets the
/// password at its first step, then makes the account active at its last). A disabled account
/// is refused.
pub async fn activate(
    accounts: &dyn AccountStore,
    author: Author<'_>,
    account: &Account,
    now_ms: i64,
) -> Result<(), StateChangeError> {
    refuse_disabled(account)?;
    accounts
        .set_state(&account.id, AccountState::Active, now_ms)
        .await?;
    author
        .record(Action::AccountActivated, &account.id, now_ms)
        .await;
    Ok(())
}

fn refuse_disabled(account: &Account) -> Result<(), StateChangeError> {
    if account.state == AccountState::Disabled {
        return Err(StateChangeError::Disabled {
            login: account.login.clone(),
        });
    }
    Ok(())
}

/// Gives `account` a new temporary password, valid until `valid_until_ms` (the letter's
/// validity), and makes it `notified`: what a notification with a password (re)set does. The
/// previous password, temporary or not, stops working. An active account's reset also ends its
/// SSO sessions and revokes its refresh grants (DESIGN.md: changing a password does). A
/// disabled account is refused, nothing written. `message` makes, from the new password, the
/// message that carries it (an e-mail; `None` for a letter): it is queued in the outbox in the
/// same transaction as the password (DESIGN.md: a message is written with what caused it).
/// Returns the password, for the letter only. The audit event is the notification's
/// (`establishments::notify` records one per account, with its carrier).
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

    fn parse(p: &str) -> Result<(), PasswordPolicyError> {
        NewPassword::parse(Secret::from_presented(p)).map(|_| ())
    }

    #[test]
    fn a_password_needs_eight_characters_counted_as_characters() {
        assert_eq!(parse("Ab-4567"), Err(PasswordPolicyError::TooShort));
        assert_eq!(parse(""), Err(PasswordPolicyError::TooShort));
        assert_eq!(parse("Ab-45678"), Ok(()));
        // Seven characters, fourteen bytes: still too short.
        assert_eq!(parse("Éléph1!"), Err(PasswordPolicyError::TooShort));
        assert_eq!(parse("Éléphant-9"), Ok(()));
        assert_eq!(parse(&"Ab-4".repeat(33)), Err(PasswordPolicyError::TooLong));
        assert_eq!(
            PasswordPolicyError::TooShort.to_string(),
            "Le mot de passe doit comporter au moins 8 caractères."
        );
    }

    #[test]
    fn three_kinds_of_characters_of_four() {
        assert_eq!(parse("tournesols"), Err(PasswordPolicyError::TooFewKinds));
        assert_eq!(parse("tournesol5"), Err(PasswordPolicyError::TooFewKinds));
        assert_eq!(parse("Tournesol5"), Ok(()));
        assert_eq!(parse("tournesol-5"), Ok(()));
        assert_eq!(parse("TOURNESOL-5"), Ok(()));
    }

    #[test]
    fn the_commonest_passwords_are_refused_however_dressed() {
        for common in ["Azerty123!", "MotDePasse-1", "P@ssw0rd!!"] {
            // `P@ssw0rd` folds to `psswrd`, not `password`: only the first two are common.
            let refused = parse(common) == Err(PasswordPolicyError::Common);
            assert_eq!(refused, common != "P@ssw0rd!!", "{common}");
        }
        assert_eq!(parse("Soleil-2026"), Err(PasswordPolicyError::Common));
        assert_eq!(parse("Soleil-Levant-2026"), Ok(()));
    }

    #[test]
    fn a_chosen_password_holds_neither_the_login_nor_a_name() {
        let mut account = Account::new(
            crate::accounts::LoginId::parse("c.martin02").unwrap(),
            crate::accounts::Profile::Guardian,
            "Claire-Hélène",
            "Le Bihan",
            0,
        );
        let choose = |a: &Account, p: &str| {
            NewPassword::for_account(Secret::from_presented(p), a).map(|_| ())
        };
        assert_eq!(
            choose(&account, "Xc.martin02!"),
            Err(PasswordPolicyError::ContainsLogin)
        );
        assert_eq!(
            choose(&account, "CMartin-1990"),
            Err(PasswordPolicyError::ContainsLogin)
        );
        assert_eq!(
            choose(&account, "Helene-1990!"),
            Err(PasswordPolicyError::ContainsName)
        );
        assert_eq!(
            choose(&account, "Bihan-Breizh-29"),
            Err(PasswordPolicyError::ContainsName)
        );
        // Two letters are no name to look for.
        assert_eq!(choose(&account, "Le-Goeland-29"), Ok(()));
        account.given_name = "Léa".into();
        assert_eq!(
            choose(&account, "Leandre-Vole-9"),
            Err(PasswordPolicyError::ContainsName)
        );
    }
}
