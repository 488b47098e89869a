//! Mon compte's password change: the current password, checked through the same throttled
//! verifier as a login (so it cannot be guessed here faster than there), then the new one
//! through the one policy and `accounts::lifecycle::set_password`, which ends every SSO session
//! and refresh grant of the account — this browser's too: the person signs in again with the
//! new password (a stolen session does not outlive the change, and the new password is proven
//! once at once). The confirmed address, if any, is told.

use std::fmt;

use crate::accounts::credentials::{self, Checked, Verifier};
use crate::accounts::lifecycle::{self, NewPassword, PasswordPolicyError};
use crate::accounts::password::PasswordHasher;
use crate::accounts::sessions::Sessions;
use crate::accounts::Account;
use crate::clock::Clock;
use crate::notify::account_mail;
use crate::outbox::{Outgoing, Purpose};
use crate::secrets::Secret;
use crate::store::{AccountStore, AuditStore, OutboxStore};
use crate::tokens::kek::Kek;

/// What a password change needs, lent from the replica's state.
pub struct PasswordChange<'a> {
    pub verifier: Verifier<'a>,
    pub accounts: &'a dyn AccountStore,
    pub passwords: &'a PasswordHasher,
    pub sessions: &'a dyn Sessions,
    pub audit: &'a dyn AuditStore,
    pub outbox: &'a dyn OutboxStore,
    pub kek: &'a Kek,
    pub clock: &'a dyn Clock,
}

/// Why the password was not changed; its `Display` is the page's French message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    WrongCurrent,
    Throttled,
    Policy(PasswordPolicyError),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::WrongCurrent => f.write_str("Le mot de passe actuel est incorrect."),
            Refusal::Throttled => f.write_str(
                "Trop d'essais de mot de passe pour ce compte. Réessayez dans quelques minutes.",
            ),
            Refusal::Policy(rule) => write!(f, "{rule}"),
        }
    }
}

/// The passwords typed on the page.
pub struct Typed {
    pub current: Secret,
    pub new: Secret,
    pub confirm: Secret,
}

/// Changes `account`'s password, asked from `address`.
pub async fn change(
    p: &PasswordChange<'_>,
    account: &Account,
    typed: Typed,
    address: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    if typed.new.expose() != typed.confirm.expose() {
        return Ok(Err(Refusal::Policy(PasswordPolicyError::Mismatch)));
    }
    let new = match NewPassword::for_account(typed.new, account) {
        Ok(new) => new,
        Err(rule) => return Ok(Err(Refusal::Policy(rule))),
    };
    // The login's throttle: a stolen session cannot try passwords faster than a login page.
    let checked =
        credentials::check(&p.verifier, &account.login, &typed.current, address, None).await?;
    match checked {
        Checked::Valid(found) if found.id == account.id => {}
        Checked::Throttled => return Ok(Err(Refusal::Throttled)),
        _ => return Ok(Err(Refusal::WrongCurrent)),
    }
    let now = p.clock.now_ms();
    let actor = format!("account:{}", account.id);
    let author = lifecycle::Author {
        audit: p.audit,
        actor: &actor,
        address: Some(address),
    };
    lifecycle::set_password(
        p.accounts,
        p.passwords,
        p.sessions,
        author,
        &account.id,
        &new,
        now,
    )
    .await?;
    if let Some(to) = account.confirmed_address() {
        let mail = account_mail::password_changed(to, account, now)?;
        let message = Outgoing::email(
            p.kek,
            &mail,
            Purpose::PasswordChanged,
            Some(&account.id),
            now,
        )?;
        p.outbox.enqueue(&message).await?;
    }
    Ok(Ok(()))
}
