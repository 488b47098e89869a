//! What the back-office does to one account of its establishment: disable it or enable it
//! again, correct the contact details Siècle gives (a guardian's), unblock a throttled login,
//! issue an attachment code for a pupil, and the checks before notifying it. Each checks the
//! right over the account's profile at the establishment, the account being one of its own
//! (`belonging`), and records what it did — or that it was refused — in the audit trail.

use super::audited::{self, account_subject};
use super::belonging::account_at;
use super::codes::{self, IssuedCode};
use super::{Actor, OperationError, Right};
use crate::accounts::lifecycle;
use crate::accounts::sessions::Sessions;
use crate::accounts::{throttle, Account, AccountState, Profile};
use crate::audit::Action;
use crate::config::ThrottleConfig;
use crate::siecle::{Ine, Uai};
use crate::store::{
    AccountStore, AuditStore, BackofficeQueries, DirectoryStore, EphemeralStore, LinkingStore,
};

/// What the account actions need.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    pub directory: &'a dyn DirectoryStore,
    pub accounts: &'a dyn AccountStore,
    pub roster: &'a dyn BackofficeQueries,
    pub links: &'a dyn LinkingStore,
    pub audit: &'a dyn AuditStore,
    /// A disabled account's sessions and grants end.
    pub sessions: &'a dyn Sessions,
    /// The throttle counters, and their windows.
    pub ephemeral: &'a dyn EphemeralStore,
    pub throttle: &'a ThrottleConfig,
}

/// Disabled, or enabled again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    Disable,
    Enable,
}

/// The account, checked as `action` needs it (`right` over its profile), the refusal recorded.
async fn checked(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
    account_id: &str,
    right: fn(Profile) -> Right,
    action: Action,
    now_ms: i64,
) -> Result<Account, OperationError> {
    let found = account_at(actor, desk.directory, desk.accounts, uai, account_id, right)
        .await
        .map(|(account, _)| account);
    let subject = account_subject(account_id);
    audited::refusal_of(
        desk.audit,
        actor,
        uai,
        Some(&subject),
        action,
        found,
        now_ms,
    )
    .await
}

/// The account of the establishment that `actor` may notify (a letter, an e-mail, a new
/// temporary password): the checks of `establishments::notify`, made first for one account so
/// that a refusal names it in the audit.
pub async fn notifiable(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
    account_id: &str,
    now_ms: i64,
) -> Result<Account, OperationError> {
    let account = checked(
        actor,
        desk,
        uai,
        account_id,
        Right::over,
        Action::AccountNotified,
        now_ms,
    )
    .await?;
    if account.state == AccountState::Disabled {
        return Err(OperationError::NotNotifiable(account.login));
    }
    Ok(account)
}

/// Disables the account (it can no longer log in; its SSO sessions and refresh grants end at
/// once) or enables it again, in the state its password puts it in: none yet, `created`; a
/// temporary one, `notified`; its own, `active`. Returns the new state.
pub async fn switch(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
    account_id: &str,
    switch: Switch,
    now_ms: i64,
) -> Result<AccountState, OperationError> {
    let action = match switch {
        Switch::Disable => Action::AccountDisabled,
        Switch::Enable => Action::AccountEnabled,
    };
    let account = checked(actor, desk, uai, account_id, Right::over, action, now_ms).await?;
    let author = lifecycle::Author {
        audit: desk.audit,
        actor: actor.label(),
        address: actor.address(),
    };
    let state = match switch {
        Switch::Disable => {
            lifecycle::disable(
                desk.accounts,
                desk.sessions,
                author,
                &account,
                uai.as_str(),
                now_ms,
            )
            .await?;
            AccountState::Disabled
        }
        Switch::Enable => {
            lifecycle::enable(desk.accounts, author, &account, uai.as_str(), now_ms).await?
        }
    };
    tracing::info!(actor = %actor, %uai, account = %account.id, state = state.as_str(), "account state set");
    Ok(state)
}

/// The longest e-mail address (RFC 5321 §4.5.3.1.3, a path of 256 with its brackets).
const EMAIL_CHARS: usize = 254;

/// An e-mail address as typed, checked; empty is none.
pub fn parse_email(typed: &str) -> Result<Option<String>, OperationError> {
    let email = typed.trim();
    if email.is_empty() {
        return Ok(None);
    }
    let valid = email.chars().count() <= EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@')
               && domain.split('.').count() >= 2
               && domain.split('.').all(|part| !part.is_empty()));
    if valid {
        Ok(Some(email.to_owned()))
    } else {
        Err(OperationError::InvalidEmail)
    }
}

/// A telephone number as typed (spaces, dots, dashes allowed), as digits: a French number of
/// ten digits, or an international one with `+`; empty is none.
pub fn parse_phone(typed: &str) -> Result<Option<String>, OperationError> {
    let phone: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}'))
        .collect();
    if phone.is_empty() {
        return Ok(None);
    }
    let digits = phone.strip_prefix('+').unwrap_or(&phone);
    let valid = digits.chars().all(|c| c.is_ascii_digit())
        && if phone.starts_with('+') {
            (8..=15).contains(&digits.len())
        } else {
            digits.len() == 10 && digits.starts_with('0') && !digits.starts_with("00")
        };
    if valid {
        Ok(Some(phone))
    } else {
        Err(OperationError::InvalidPhone)
    }
}

/// Corrects a guardian's contact details as Siècle gives them (e-mail, mobile), for the
/// notifications and the matching; the account's own confirmed address is the guardian's and
/// is not touched. The next import bringing other values replaces these: Siècle should be
/// corrected too.
pub async fn correct_contact(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
    account_id: &str,
    email: &str,
    phone: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    let action = Action::AccountContactCorrected;
    let account = checked(
        actor,
        desk,
        uai,
        account_id,
        |_| Right::Guardians,
        action,
        now_ms,
    )
    .await?;
    if account.profile == Profile::Pupil {
        return Err(OperationError::NotAGuardian);
    }
    let email = parse_email(email)?;
    let phone = parse_phone(phone)?;
    desk.roster
        .set_siecle_contact(&account.id, email.as_deref(), phone.as_deref(), now_ms)
        .await?;
    tracing::info!(actor = %actor, %uai, account = %account.id, "contact details corrected");
    let detail = [
        ("courriel", email != account.email),
        ("mobile", phone != account.phone),
    ]
    .iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| *field)
    .collect::<Vec<_>>()
    .join(", ");
    let subject = account_subject(&account.id);
    audited::done(
        desk.audit,
        actor,
        uai,
        Some(&subject),
        action,
        Some(detail),
        now_ms,
    )
    .await;
    Ok(())
}

/// Clears the failure counter of the account's login: it may try its password again at once
/// (the counters of addresses are not touched).
pub async fn unblock(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
    account_id: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    let action = Action::AccountUnblocked;
    let account = checked(actor, desk, uai, account_id, Right::over, action, now_ms).await?;
    throttle::clear_account(desk.ephemeral, desk.throttle, now_ms, &account.login).await?;
    tracing::info!(actor = %actor, %uai, account = %account.id, "login unblocked");
    let subject = account_subject(&account.id);
    audited::done(desk.audit, actor, uai, Some(&subject), action, None, now_ms).await;
    Ok(())
}

/// A new code for a guardian to attach this pupil (`establishments::attachment_code`), from
/// the pupil's account page.
pub async fn pupil_attachment_code(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
    account_id: &str,
    now_ms: i64,
) -> Result<IssuedCode, OperationError> {
    let action = Action::AttachmentCodeIssued;
    let subject = account_subject(account_id);
    let found = account_at(
        actor,
        desk.directory,
        desk.accounts,
        uai,
        account_id,
        |_| Right::Pupils,
    )
    .await;
    let (account, affiliations) = audited::refusal_of(
        desk.audit,
        actor,
        uai,
        Some(&subject),
        action,
        found,
        now_ms,
    )
    .await?;
    let ine = match (account.profile, affiliations.ine.as_deref().map(Ine::parse)) {
        (Profile::Pupil, Some(Ok(ine))) => ine,
        _ => return Err(OperationError::NotAPupil),
    };
    let issued = codes::attachment_code(
        actor,
        desk.directory,
        desk.accounts,
        desk.links,
        &ine,
        now_ms,
    )
    .await?;
    // Never the code itself: only that one was issued, and until when.
    let detail = format!(
        "valable jusqu'au {}",
        crate::notify::letters::wording::french_date(crate::siecle::Date::from_epoch_ms(
            issued.expires_at
        ))
    );
    audited::done(
        desk.audit,
        actor,
        uai,
        Some(&subject),
        action,
        Some(detail),
        now_ms,
    )
    .await;
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_details_are_checked_and_tidied() {
        assert_eq!(
            parse_email(" a.b@exemple.fr ").unwrap().as_deref(),
            Some("a.b@exemple.fr")
        );
        assert_eq!(parse_email("").unwrap(), None);
        for wrong in ["a.b", "a@b", "a b@c.fr", "@c.fr", "a@@c.fr", "a@c..fr"] {
            assert!(parse_email(wrong).is_err(), "{wrong}");
        }
        assert_eq!(
            parse_phone("06 12 34 56 78").unwrap().as_deref(),
            Some("0612345678")
        );
        assert_eq!(
            parse_phone("+33 6 12 34 56 78").unwrap().as_deref(),
            Some("+33612345678")
        );
        assert_eq!(parse_phone(" ").unwrap(), None);
        for wrong in ["0612", "06123456789", "0012345678", "06 12 34 56 7x", "+33"] {
            assert!(parse_phone(wrong).is_err(), "{wrong}");
        }
    }
}
