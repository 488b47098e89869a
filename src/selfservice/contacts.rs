//! Mon compte's contact changes (issue #17): a new e-mail address is confirmed by a code sent
//! to it, a new mobile number by a code sent to it by SMS; only then does it become the
//! account's own (`verified_email`, `verified_phone`).
//!
//! DESIGN.md, contact details: the account's own contacts are kept apart from Siècle's
//! (`email`, `phone`, which each import rewrites and which serve matching); nothing here writes
//! Siècle's, and no import writes these. Nothing is sent back to the establishment either: the
//! page says so, and that the secretariat should be told.
//!
//! Every code goes through `accounts::one_time` (attempts counted before the check, throttled
//! per account and address, sends per hour bounded), every SMS through `notify::sms` (its
//! daily caps) and the outbox.

use std::fmt;

use crate::accounts::contacts::{EmailAddress, Mobile};
use crate::accounts::one_time::{self, Subject, Tried};
use crate::accounts::{Account, Profile};
use crate::audit::{self, Action, Event, Outcome};
use crate::clock::Clock;
use crate::config::{CodeConfig, ThrottleConfig};
use crate::notify::sms::{Queued, SmsSender};
use crate::notify::{account_mail, sms};
use crate::outbox::{Outgoing, Purpose};
use crate::store::{AccountStore, AuditStore, EphemeralStore, OutboxStore};
use crate::tokens::kek::Kek;

/// What the contact changes need, lent from the replica's state.
pub struct ContactChanges<'a> {
    /// Where codes and their tries are kept.
    pub codes: &'a dyn EphemeralStore,
    pub code_config: &'a CodeConfig,
    pub throttle: &'a ThrottleConfig,
    pub accounts: &'a dyn AccountStore,
    pub outbox: &'a dyn OutboxStore,
    pub audit: &'a dyn AuditStore,
    pub sms: SmsSender<'a>,
    pub kek: &'a Kek,
    pub clock: &'a dyn Clock,
}

/// Which contact is changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Mobile,
}

impl Channel {
    /// The one-time code's purpose: a code sent for one channel never confirms the other.
    fn purpose(self) -> &'static str {
        match self {
            Channel::Email => "contact-email",
            Channel::Mobile => "contact-mobile",
        }
    }

    fn subject(self, account: &Account) -> Subject {
        Subject {
            purpose: self.purpose(),
            id: account.id.clone(),
        }
    }
}

/// Why a change did not go on; its `Display` is the page's French message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    InvalidEmail,
    InvalidMobile,
    /// FAQ: a pupil recovers only by e-mail, so a pupil account has no mobile number.
    PupilHasNoMobile,
    /// The same value the account already has confirmed.
    Unchanged,
    /// Too many codes sent for this account in the last hour.
    TooManyCodes,
    /// The SMS caps of the day (per number, per address, in all) are reached.
    SmsCapped,
    /// No code waits: never asked for, expired, used, or out of tries.
    NoCode,
    WrongCode {
        left: u64,
    },
    Throttled,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::InvalidEmail => f.write_str(
                "Cette adresse électronique n'est pas valable. Vérifiez-la (exemple : \
                 prenom.nom@exemple.fr).",
            ),
            Refusal::InvalidMobile => f.write_str(
                "Ce numéro n'est pas un numéro de téléphone portable français (exemple : \
                 06 12 34 56 78).",
            ),
            Refusal::PupilHasNoMobile => f.write_str(
                "Un compte élève n'a pas de numéro de téléphone portable : un élève récupère \
                 son compte par courriel seulement.",
            ),
            Refusal::Unchanged => {
                f.write_str("C'est déjà la coordonnée confirmée de votre compte.")
            }
            Refusal::TooManyCodes => f.write_str(
                "Trop de codes ont été envoyés pour ce compte. Réessayez dans une heure.",
            ),
            Refusal::SmsCapped => f.write_str(
                "Trop de SMS ont été envoyés aujourd'hui vers ce numéro ou depuis votre réseau. \
                 Réessayez demain.",
            ),
            Refusal::NoCode => f.write_str(
                "Ce code n'est plus valable (expiré, déjà utilisé ou trop d'essais). Demandez un \
                 nouveau code.",
            ),
            Refusal::WrongCode { left } => write!(
                f,
                "Code incorrect. Il vous reste {left} essai{}.",
                if *left > 1 { "s" } else { "" }
            ),
            Refusal::Throttled => f.write_str("Trop d'essais. Réessayez dans quelques minutes."),
        }
    }
}

/// Step 1 for an e-mail address: a code is sent to `typed` (the per-hour bound of codes is
/// what limits mails; an address's throttle counts the tries).
pub async fn ask_email(
    c: &ContactChanges<'_>,
    account: &Account,
    typed: &str,
) -> anyhow::Result<Result<EmailAddress, Refusal>> {
    let Some(email) = EmailAddress::parse(typed) else {
        return Ok(Err(Refusal::InvalidEmail));
    };
    if account.verified_email.as_deref() == Some(email.as_str()) {
        return Ok(Err(Refusal::Unchanged));
    }
    let subject = Channel::Email.subject(account);
    let issued = one_time::issue(
        c.codes,
        c.code_config,
        &subject,
        email.as_str(),
        c.clock.now_ms(),
    )
    .await?;
    let Some(issued) = issued else {
        return Ok(Err(Refusal::TooManyCodes));
    };
    let minutes = c.code_config.ttl_seconds / 60;
    let mail = account_mail::code(email.as_str(), account, &issued.code, minutes)?;
    let message = Outgoing::email(
        c.kek,
        &mail,
        Purpose::EmailCode,
        Some(&account.id),
        c.clock.now_ms(),
    )?;
    c.outbox.enqueue(&message).await?;
    Ok(Ok(email))
}

/// Step 1 for a mobile number: a code is sent to `typed` by SMS, from `address`.
pub async fn ask_mobile(
    c: &ContactChanges<'_>,
    account: &Account,
    typed: &str,
    address: &str,
) -> anyhow::Result<Result<Mobile, Refusal>> {
    // FAQ: a pupil recovers only by e-mail; a guardian by e-mail or SMS.
    if account.profile == Profile::Pupil {
        return Ok(Err(Refusal::PupilHasNoMobile));
    }
    let Some(mobile) = Mobile::parse(typed) else {
        return Ok(Err(Refusal::InvalidMobile));
    };
    if account.verified_phone.as_deref() == Some(mobile.as_str()) {
        return Ok(Err(Refusal::Unchanged));
    }
    let subject = Channel::Mobile.subject(account);
    let issued = one_time::issue(
        c.codes,
        c.code_config,
        &subject,
        mobile.as_str(),
        c.clock.now_ms(),
    )
    .await?;
    let Some(issued) = issued else {
        return Ok(Err(Refusal::TooManyCodes));
    };
    let minutes = c.code_config.ttl_seconds / 60;
    let text = sms::code(mobile.as_str(), &issued.code, minutes);
    let queued = c
        .sms
        .queue(&text, Purpose::SmsCode, Some(&account.id), address)
        .await?;
    if let Queued::Capped(_) = queued {
        // Nothing went out: no code should be waiting for it.
        one_time::withdraw(c.codes, &subject).await?;
        return Ok(Err(Refusal::SmsCapped));
    }
    Ok(Ok(mobile))
}

/// Where the code of `channel` that waits was sent, if one waits (step 2 is shown).
pub async fn pending(
    c: &ContactChanges<'_>,
    account: &Account,
    channel: Channel,
) -> anyhow::Result<Option<String>> {
    one_time::pending(c.codes, &channel.subject(account), c.clock.now_ms()).await
}

/// The person gives up the change: the waiting code stops working.
pub async fn withdraw(
    c: &ContactChanges<'_>,
    account: &Account,
    channel: Channel,
) -> anyhow::Result<()> {
    one_time::withdraw(c.codes, &channel.subject(account)).await
}

/// Step 2: the code typed; if right, what it was sent to becomes the account's own contact.
pub async fn confirm(
    c: &ContactChanges<'_>,
    account: &Account,
    channel: Channel,
    code: &str,
    address: &str,
) -> anyhow::Result<Result<String, Refusal>> {
    let subject = channel.subject(account);
    let tried = one_time::try_code(
        c.codes,
        c.code_config,
        c.throttle,
        &subject,
        code,
        address,
        c.clock.now_ms(),
    )
    .await?;
    let proven = match tried {
        Tried::Valid(proven) => proven,
        Tried::Wrong { left } => return Ok(Err(Refusal::WrongCode { left })),
        Tried::Spent => return Ok(Err(Refusal::NoCode)),
        Tried::Throttled => return Ok(Err(Refusal::Throttled)),
    };
    let now = c.clock.now_ms();
    let action = match channel {
        Channel::Email => {
            c.accounts
                .set_verified_email(&account.id, &proven, now)
                .await?;
            Action::AccountEmailChanged
        }
        Channel::Mobile => {
            c.accounts
                .set_verified_phone(&account.id, &proven, now)
                .await?;
            Action::AccountMobileChanged
        }
    };
    let actor = format!("account:{}", account.id);
    let event = Event::new(&actor, action, Outcome::Ok, now)
        .on_account(&account.id)
        .from_address(Some(address));
    audit::record(c.audit, event).await;
    Ok(Ok(proven))
}
