//! One account as its establishment sees it (*fiche du compte*): identity, state, last login,
//! the children (a guardian's) or the guardians (a pupil's) with their establishments, contact
//! details (the account's own confirmed address apart from what Siècle gives), whether its
//! login is throttled, the notifications that reached it, the messages sent about it (never
//! their bodies), and — for whoever reads the establishment's audit — the events on it.
//! `Right::over(profile)` at the establishment, the account being one of its own.

use super::audited::{self, account_subject};
use super::belonging::account_at;
use super::model::NotificationRecord;
use super::{Actor, OperationError, Right};
use crate::accounts::affiliations::Affiliations;
use crate::accounts::{throttle, Account, Profile};
use crate::audit::{Action, Event};
use crate::config::ThrottleConfig;
use crate::outbox::DeliveryStatus;
use crate::siecle::Uai;
use crate::store::{
    AccountStore, AuditQuery, AuditStore, BackofficeQueries, DirectoryStore, EphemeralStore,
    OutboxStore,
};

/// Audit events shown on the account page, newest first.
pub const EVENTS: i64 = 50;

/// What an account page reads.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    pub directory: &'a dyn DirectoryStore,
    pub accounts: &'a dyn AccountStore,
    pub roster: &'a dyn BackofficeQueries,
    pub outbox: &'a dyn OutboxStore,
    pub audit: &'a dyn AuditStore,
    pub ephemeral: &'a dyn EphemeralStore,
    pub throttle: &'a ThrottleConfig,
}

/// Someone linked to the account: a guardian's child, a pupil's guardian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relative {
    pub account_id: String,
    pub given_name: String,
    pub family_name: String,
    pub profile: Profile,
    /// The establishment where they are linked, and the child's class there.
    pub uai: String,
    pub class: Option<String>,
    /// A legal guardian, rather than another person in charge.
    pub legal: bool,
}

#[derive(Clone, Debug)]
pub struct AccountFile {
    pub account: Account,
    /// The pupil's INE.
    pub ine: Option<String>,
    /// The pupil's class here.
    pub class: Option<String>,
    /// Where the account belongs, every establishment.
    pub establishments: Vec<String>,
    pub relatives: Vec<Relative>,
    pub last_login: Option<i64>,
    /// The account's login has no attempt left in this window.
    pub throttled: bool,
    /// The notifications of this establishment that reached it, newest first.
    pub notifications: Vec<NotificationRecord>,
    pub messages: Vec<DeliveryStatus>,
    /// `None`: the actor does not read the establishment's audit.
    pub events: Option<Vec<Event>>,
}

/// Whether the login has no password attempt left in this window (`throttle::login`'s
/// counter of the account; the address's is not the account's).
pub async fn throttled(
    ephemeral: &dyn EphemeralStore,
    config: &ThrottleConfig,
    login: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let counters = throttle::login(config, login, "");
    throttle::exhausted(ephemeral, config, now_ms, &counters[..1]).await
}

pub async fn account_file(
    actor: &Actor,
    files: &Files<'_>,
    uai: &Uai,
    account_id: &str,
    now_ms: i64,
) -> Result<AccountFile, OperationError> {
    let found = account_at(
        actor,
        files.directory,
        files.accounts,
        uai,
        account_id,
        Right::over,
    )
    .await;
    let subject = account_subject(account_id);
    let attempted = Action::AccountRead;
    let (account, affiliations) = audited::refusal_of(
        files.audit,
        actor,
        uai,
        Some(&subject),
        attempted,
        found,
        now_ms,
    )
    .await?;
    let subject = account_subject(&account.id);
    let relatives = relatives(files, &account, &affiliations).await?;
    let last_login = files
        .audit
        .last_event(&subject, Action::AccountSignIn.as_str())
        .await?;
    let throttled = throttled(files.ephemeral, files.throttle, &account.login, now_ms).await?;
    let notifications = files
        .directory
        .notifications(uai.as_str())
        .await?
        .into_iter()
        .filter(|n| n.account_ids.contains(&account.id))
        .collect();
    let messages = files
        .outbox
        .account_messages(&account.id)
        .await?
        .iter()
        .map(DeliveryStatus::from)
        .collect();
    let events = match actor.check(uai, Right::Audit) {
        Ok(()) => Some(
            files
                .audit
                .events(&AuditQuery {
                    subject: Some(subject),
                    limit: EVENTS,
                    ..AuditQuery::default()
                })
                .await?,
        ),
        Err(_) => None,
    };
    let class = affiliations
        .enrolments
        .iter()
        .find(|e| e.uai == uai.as_str())
        .and_then(|e| e.division.clone());
    Ok(AccountFile {
        ine: affiliations.ine.clone(),
        class,
        establishments: affiliations
            .establishments()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        account,
        relatives,
        last_login,
        throttled,
        notifications,
        messages,
        events,
    })
}

async fn relatives(
    files: &Files<'_>,
    account: &Account,
    affiliations: &Affiliations,
) -> anyhow::Result<Vec<Relative>> {
    if account.profile != Profile::Pupil {
        return Ok(affiliations
            .children
            .iter()
            .map(|c| Relative {
                account_id: c.account_id.clone(),
                given_name: c.given_name.clone(),
                family_name: c.family_name.clone(),
                profile: Profile::Pupil,
                uai: c.enrolment.uai.clone(),
                class: c.enrolment.division.clone(),
                legal: c.legal,
            })
            .collect());
    }
    Ok(files
        .roster
        .pupil_guardians(&account.id)
        .await?
        .into_iter()
        .map(|g| Relative {
            account_id: g.account_id,
            given_name: g.given_name,
            family_name: g.family_name,
            profile: g.profile,
            uai: g.uai,
            class: None,
            legal: g.legal,
        })
        .collect())
}
