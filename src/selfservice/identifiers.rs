//! A forgotten identifier (issue #17): the person types an e-mail address or a mobile number;
//! the identifiers of the accounts that *confirmed* it are sent there — by e-mail to an
//! address, by SMS to a number, SMS only for guardians' accounts (FAQ rule: a pupil recovers
//! only by e-mail). One answer page for every case, after the response floor (no enumeration:
//! nothing tells an address or a number we know from one we do not).

use std::time::Duration;

use tokio::time::Instant;

use super::floor::answered_after;
use super::flow::Flow;
use super::recovery::FormIds;
use super::services::Services;
use crate::accounts::contacts::{EmailAddress, Mobile};
use crate::accounts::{Account, AccountState, Profile};
use crate::audit::{self, Action, Event, Outcome};
use crate::notify::{account_mail, sms};
use crate::oidc::authorize::Browser;
use crate::outbox::{Outgoing, Purpose};

/// The procedure started at « Identifiant oublié ? ».
pub const KIND: &str = "identifier";

/// What the person typed, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contact {
    Email(EmailAddress),
    Mobile(Mobile),
}

impl Contact {
    /// An address if it has an `@`, else a French mobile number.
    pub fn parse(typed: &str) -> Option<Contact> {
        if typed.contains('@') {
            EmailAddress::parse(typed).map(Contact::Email)
        } else {
            Mobile::parse(typed).map(Contact::Mobile)
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Contact::Email(address) => address.as_str(),
            Contact::Mobile(mobile) => mobile.as_str(),
        }
    }
}

/// The page to show.
#[derive(Debug)]
pub enum Page {
    Form {
        ids: FormIds,
        error: Option<String>,
    },
    /// The answer, the same for every case.
    Sent {
        tx: Option<String>,
    },
    Expired,
    TooMany,
}

pub const INVALID_CONTACT: &str =
    "Saisissez une adresse électronique (par exemple nom@exemple.fr) \
     ou un numéro de téléphone portable (par exemple 06 12 34 56 78).";

/// « Identifiant oublié ? »: parks a procedure for this browser; its form.
pub async fn start(
    s: &Services<'_>,
    browser: &Browser,
    tx: Option<String>,
) -> anyhow::Result<Page> {
    let tx = tx.filter(|tx| !tx.is_empty() && tx.len() <= 64);
    let config = &s.config.selfservice;
    let now_ms = s.clock.now_ms();
    Ok(
        match Flow::start(s.ephemeral, config, KIND, browser, now_ms, tx, ()).await? {
            Some(flow) => Page::Form {
                ids: (&flow).into(),
                error: None,
            },
            None => Page::TooMany,
        },
    )
}

/// The address or number, answered: the same page for every case, after the floor.
pub async fn remind(
    s: &Services<'_>,
    started: Instant,
    browser: &Browser,
    ids: (&str, &str),
    typed: &str,
) -> anyhow::Result<Page> {
    let flow: Option<Flow<()>> = Flow::load(s.ephemeral, KIND, ids.0).await?;
    let Some(flow) = flow.filter(|f| f.answered_by(browser, ids.1)) else {
        return Ok(Page::Expired);
    };
    // A malformed entry can be said: it tells nothing about accounts.
    let Some(contact) = Contact::parse(typed) else {
        return Ok(Page::Form {
            ids: (&flow).into(),
            error: Some(INVALID_CONTACT.into()),
        });
    };
    let floor = Duration::from_millis(s.config.selfservice.response_floor_ms);
    answered_after(started, floor, async {
        if within_cap(s, &contact).await? {
            send(s, &contact, &browser.address).await?;
        }
        flow.finish(s.ephemeral, KIND).await?;
        Ok(Page::Sent { tx: flow.tx })
    })
    .await
}

/// At most `codes.sends_per_hour` reminders in an hour of the injected clock to one address or
/// number, known or not.
async fn within_cap(s: &Services<'_>, contact: &Contact) -> anyhow::Result<bool> {
    let hour = s.now_ms().div_euclid(3_600_000);
    let key = format!("selfservice-identifier:{}:{hour}", contact.as_str());
    let asked = s.ephemeral.incr(&key, Duration::from_secs(3600)).await?;
    Ok(asked <= s.config.codes.sends_per_hour)
}

/// The accounts that confirmed `contact` and may receive their identifier there: never a
/// disabled one; by SMS, only guardians' (FAQ rule: a pupil recovers only by e-mail).
fn reachable(accounts: Vec<Account>, contact: &Contact) -> Vec<Account> {
    accounts
        .into_iter()
        .filter(|a| a.state != AccountState::Disabled)
        .filter(|a| matches!(contact, Contact::Email(_)) || a.profile != Profile::Pupil)
        .collect()
}

async fn send(s: &Services<'_>, contact: &Contact, address: &str) -> anyhow::Result<()> {
    // DESIGN.md: recovery uses only verified contacts (the store looks up confirmed ones).
    let found = match contact {
        Contact::Email(to) => s.accounts.accounts_by_confirmed_email(to.as_str()).await?,
        Contact::Mobile(to) => s.accounts.accounts_by_confirmed_mobile(to.as_str()).await?,
    };
    let accounts = reachable(found, contact);
    if accounts.is_empty() {
        return Ok(());
    }
    let logins: Vec<String> = accounts.iter().map(|a| a.login.clone()).collect();
    let now = s.now_ms();
    match contact {
        Contact::Email(to) => {
            let email = account_mail::identifiers(to.as_str(), &logins)?;
            let about = accounts.first().map(|a| a.id.as_str());
            let message = Outgoing::email(s.kek, &email, Purpose::IdentifierReminder, about, now)?;
            s.outbox.enqueue(&message).await?;
        }
        Contact::Mobile(to) => {
            let text = sms::identifiers(to.as_str(), &logins);
            let about = accounts.first().map(|a| a.id.as_str());
            s.sms()
                .queue(&text, Purpose::IdentifierReminder, about, address)
                .await?;
        }
    }
    for account in &accounts {
        let event = Event::new(
            &format!("account:{}", account.id),
            Action::AccountIdentifierReminded,
            Outcome::Ok,
            now,
        )
        .on_account(&account.id)
        .from_address(Some(address));
        audit::record(s.audit, event).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_is_an_address_or_a_mobile_number() {
        assert!(matches!(
            Contact::parse("Lea@Exemple.fr"),
            Some(Contact::Email(_))
        ));
        assert!(matches!(
            Contact::parse("06 12 34 56 78"),
            Some(Contact::Mobile(_))
        ));
        assert_eq!(Contact::parse("l.martin01"), None);
    }
}
