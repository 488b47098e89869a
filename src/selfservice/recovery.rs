//! A forgotten password (issue #17, "Recovery"): the person gives their identifier and a
//! channel; a single-use link goes by e-mail, or a code by SMS, to the account's *confirmed*
//! contact only; the link or the code leads to a new password (the one policy), which ends the
//! account's SSO sessions and refresh grants, and a "password changed" e-mail follows.
//!
//! Rules enforced here (DESIGN.md, "Rules from the establishments' FAQ"):
//! - a pupil recovers only by e-mail, at the address they confirmed (`sendable`);
//! - a guardian by e-mail or SMS, to the confirmed contact;
//! - recovery uses only verified contacts, never Siècle's (`Account::confirmed_*`);
//! - a parent never resets a child's password: nothing here acts on another account than the
//!   one whose secret was proven, and every answer says the child's establishment does it.
//!
//! No enumeration: the answer to a request is one page whatever was found (an unknown
//! identifier, a pupil asking for SMS, a disabled account, a contact not confirmed, a cap
//! reached), given after the response floor (`floor::answered_after`). For SMS that page asks
//! for a code in every case: when nothing was sent a code is still issued, never sent, so a
//! wrong code is answered alike ("il vous reste n essais").
//!
//! Secrets: both the SMS code and the link's token are `accounts::one_time` secrets. The code's
//! subject is the procedure (it is typed in it); the link's is the account (a new link replaces
//! the previous one, and the account's sends per hour are capped). Opening the link spends
//! nothing (`one_time::peek`: mail scanners open links); setting the password takes it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::floor::answered_after;
use super::flow::Flow;
use super::services::Services;
use crate::accounts::lifecycle::{self, NewPassword, PasswordPolicyError};
use crate::accounts::one_time::{self, Subject, Tried};
use crate::accounts::{Account, AccountState, LoginId, Profile};
use crate::audit::{self, Action, Event, Outcome};
use crate::notify::{account_mail, sms};
use crate::oidc::authorize::{transaction, Browser};
use crate::outbox::{Outgoing, Purpose};
use crate::secrets::Secret;

/// The procedure started at « Mot de passe oublié ? ».
pub const KIND: &str = "recovery";
/// The procedure opened from a recovery link.
pub const LINK_KIND: &str = "recovery-link";
/// The one-time purposes: the SMS code (subject: the procedure), the link (subject: the account).
pub const SMS_CODE: &str = "recovery-sms";
pub const LINK: &str = "recovery-link";
/// Where the link leads (`?jeton=`).
pub const LINK_PATH: &str = "/mot-de-passe-oublie/lien";

/// How the person asks to receive the link or the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    Email,
    Sms,
}

/// Where a procedure stands.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub enum State {
    /// The form: identifier and channel.
    #[default]
    Asked,
    /// A code was asked for by SMS (and, or not, sent).
    CodeAsked,
    /// The code was right: the account may choose a new password.
    Proven { account_id: String },
}

/// A procedure opened from a link: the account the link's token proved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkState {
    account_id: String,
}

/// What a link's token proves: the account, and the login transaction the request came from.
#[derive(Serialize, Deserialize)]
struct LinkProof {
    account_id: String,
    tx: Option<String>,
    /// `recovery_link_seconds` after it was sent, by the injected clock (the store's TTL is the
    /// same lifetime in real time: the physical bound).
    expires_at_ms: i64,
}

/// The hidden fields every form of a procedure carries.
#[derive(Clone, Debug)]
pub struct FormIds {
    pub flow: String,
    pub csrf: String,
    pub tx: Option<String>,
}

impl<S> From<&Flow<S>> for FormIds {
    fn from(flow: &Flow<S>) -> Self {
        FormIds {
            flow: flow.id.clone(),
            csrf: flow.csrf.clone(),
            tx: flow.tx.clone(),
        }
    }
}

/// The page to show.
#[derive(Debug)]
pub enum Page {
    /// The identifier and the channel (`error`: what was wrong with the last answer).
    Form { ids: FormIds, error: Option<String> },
    /// The e-mail answer, the same for every case.
    LinkSent { tx: Option<String> },
    /// The SMS answer, the same for every case: a code to type.
    Code { ids: FormIds, error: Option<String> },
    /// A new password to choose (`token`: the link's, carried by the form).
    NewPassword {
        ids: FormIds,
        token: Option<String>,
        error: Option<String>,
    },
    /// The password was changed (`tx`: the login to go back to, if still under way).
    Done { tx: Option<String> },
    /// The link is unknown, used or expired.
    LinkInvalid,
    /// The procedure expired or belongs to another browser.
    Expired,
    /// This address started too many procedures in the last minute.
    TooMany,
}

pub const WRONG_CHANNEL: &str = "Choisissez comment recevoir le lien ou le code.";
pub const NO_LOGIN: &str = "Saisissez votre identifiant, par exemple j.dupont42.";
const SPENT: &str = "Ce code n'est plus valable. Recommencez votre demande.";
const THROTTLED: &str = "Trop d'essais. Réessayez dans quelques minutes.";

/// « Mot de passe oublié ? »: parks a procedure for this browser; its form.
pub async fn start(
    s: &Services<'_>,
    browser: &Browser,
    tx: Option<String>,
) -> anyhow::Result<Page> {
    let config = &s.config.selfservice;
    let now_ms = s.clock.now_ms();
    let tx = live_tx(s, tx).await?;
    Ok(
        match Flow::start(s.ephemeral, config, KIND, browser, now_ms, tx, State::Asked).await? {
            Some(flow) => Page::Form {
                ids: (&flow).into(),
                error: None,
            },
            None => Page::TooMany,
        },
    )
}

/// The login transaction, if it is still under way (else the "Se connecter" link would lead
/// to an expired page).
async fn live_tx(s: &Services<'_>, tx: Option<String>) -> anyhow::Result<Option<String>> {
    match tx.filter(|tx| !tx.is_empty() && tx.len() <= 64) {
        Some(tx) if transaction::is_live(s.ephemeral, &tx).await? => Ok(Some(tx)),
        _ => Ok(None),
    }
}

async fn answered(
    s: &Services<'_>,
    kind: &str,
    browser: &Browser,
    flow_id: &str,
    csrf: &str,
) -> anyhow::Result<Option<Flow<State>>> {
    Ok(Flow::load(s.ephemeral, kind, flow_id)
        .await?
        .filter(|flow: &Flow<State>| flow.answered_by(browser, csrf)))
}

/// The identifier and the channel, answered: the same page for every case, after the floor.
pub async fn request(
    s: &Services<'_>,
    started: Instant,
    browser: &Browser,
    ids: (&str, &str),
    login: &str,
    channel: Option<Channel>,
) -> anyhow::Result<Page> {
    let Some(mut flow) = answered(s, KIND, browser, ids.0, ids.1).await? else {
        return Ok(Page::Expired);
    };
    // What the person typed wrong can be said: it tells nothing about accounts.
    let (Some(login), Some(channel)) = (LoginId::parse(login), channel) else {
        let error = if channel.is_none() {
            WRONG_CHANNEL
        } else {
            NO_LOGIN
        };
        return Ok(Page::Form {
            ids: (&flow).into(),
            error: Some(error.into()),
        });
    };
    let floor = Duration::from_millis(s.config.selfservice.response_floor_ms);
    answered_after(started, floor, async {
        let account = within_cap(s, login.as_str()).await?;
        let account = match account {
            Some(login) => s.accounts.account_by_login(&login).await?,
            None => None,
        };
        let account = account.filter(|a| a.state != AccountState::Disabled);
        match channel {
            Channel::Email => {
                if let Some(account) = &account {
                    send_link(s, account, flow.tx.clone(), &browser.address).await?;
                }
                flow.finish(s.ephemeral, KIND).await?;
                Ok(Page::LinkSent { tx: flow.tx })
            }
            Channel::Sms => {
                send_code(s, &flow, account.as_ref(), &browser.address).await?;
                flow.state = State::CodeAsked;
                flow.save(s.ephemeral, &s.config.selfservice, KIND).await?;
                Ok(Page::Code {
                    ids: (&flow).into(),
                    error: None,
                })
            }
        }
    })
    .await
}

/// Throttle per identifier, known or not (the same work either way): at most
/// `codes.sends_per_hour` requests in an hour of the injected clock; past it nothing is looked
/// up nor sent.
async fn within_cap(s: &Services<'_>, login: &str) -> anyhow::Result<Option<String>> {
    let hour = s.now_ms().div_euclid(3_600_000);
    let key = format!("selfservice-recovery:{login}:{hour}");
    let asked = s.ephemeral.incr(&key, Duration::from_secs(3600)).await?;
    Ok((asked <= s.config.codes.sends_per_hour).then(|| login.to_owned()))
}

/// FAQ rule: a pupil recovers only by e-mail; a guardian by e-mail or SMS. Only the account's
/// confirmed contacts are used (DESIGN.md: recovery uses only verified contacts).
fn sendable(account: &Account, channel: Channel) -> Option<&str> {
    match channel {
        Channel::Email => account.confirmed_address(),
        Channel::Sms if account.profile == Profile::Pupil => None,
        Channel::Sms => account.confirmed_mobile(),
    }
}

/// Mails a single-use link to the account's confirmed address, if it has one.
async fn send_link(
    s: &Services<'_>,
    account: &Account,
    tx: Option<String>,
    address: &str,
) -> anyhow::Result<()> {
    let Some(to) = sendable(account, Channel::Email) else {
        return Ok(());
    };
    let seconds = s.config.selfservice.recovery_link_seconds;
    let proof = serde_json::to_string(&LinkProof {
        account_id: account.id.clone(),
        tx,
        expires_at_ms: s.now_ms() + i64::try_from(seconds)? * 1000,
    })?;
    let Some(issued) = one_time::issue_with(
        s.ephemeral,
        &s.config.codes,
        Duration::from_secs(seconds),
        one_time::link_token,
        &link_subject(&account.id),
        &proof,
        s.now_ms(),
    )
    .await?
    else {
        return Ok(());
    };
    let mut url = url::Url::parse(&s.config.issuer)?.join(LINK_PATH)?;
    url.query_pairs_mut()
        .append_pair("jeton", &format!("{}.{}", account.id, issued.code.expose()));
    let link = Secret::from_presented(url.as_str());
    let email = account_mail::recovery_link(to, account, &link, seconds / 60)?;
    let now = s.now_ms();
    let message = Outgoing::email(s.kek, &email, Purpose::RecoveryLink, Some(&account.id), now)?;
    s.outbox.enqueue(&message).await?;
    requested(s, account, address).await;
    Ok(())
}

/// Issues the procedure's code; SMS it when the account may recover by SMS. Otherwise the
/// code is issued all the same and never sent: typing a code is answered alike either way.
async fn send_code(
    s: &Services<'_>,
    flow: &Flow<State>,
    account: Option<&Account>,
    address: &str,
) -> anyhow::Result<()> {
    let to = account.and_then(|a| sendable(a, Channel::Sms).map(|to| (a, to)));
    let proves = to.map(|(a, _)| a.id.clone()).unwrap_or_default();
    let subject = code_subject(&flow.id);
    let issued =
        one_time::issue(s.ephemeral, &s.config.codes, &subject, &proves, s.now_ms()).await?;
    let (Some(issued), Some((account, to))) = (issued, to) else {
        return Ok(());
    };
    let minutes = s.config.codes.ttl_seconds / 60;
    let text = sms::code(to, &issued.code, minutes);
    // A capped SMS is not sent; the page says the same (notify::sms).
    s.sms()
        .queue(&text, Purpose::SmsCode, Some(&account.id), address)
        .await?;
    requested(s, account, address).await;
    Ok(())
}

async fn requested(s: &Services<'_>, account: &Account, address: &str) {
    let event = Event::new(
        &format!("account:{}", account.id),
        Action::AccountRecoveryRequested,
        Outcome::Ok,
        s.now_ms(),
    )
    .on_account(&account.id)
    .from_address(Some(address));
    audit::record(s.audit, event).await;
}

fn code_subject(flow_id: &str) -> Subject {
    Subject {
        purpose: SMS_CODE,
        id: flow_id.to_owned(),
    }
}

fn link_subject(account_id: &str) -> Subject {
    Subject {
        purpose: LINK,
        id: account_id.to_owned(),
    }
}

/// The code typed on the code page.
pub async fn enter_code(
    s: &Services<'_>,
    browser: &Browser,
    ids: (&str, &str),
    code: &str,
) -> anyhow::Result<Page> {
    let Some(mut flow) = answered(s, KIND, browser, ids.0, ids.1).await? else {
        return Ok(Page::Expired);
    };
    if !matches!(flow.state, State::CodeAsked) {
        return Ok(Page::Expired);
    }
    let tried = one_time::try_code(
        s.ephemeral,
        &s.config.codes,
        &s.config.throttle,
        &code_subject(&flow.id),
        code,
        &browser.address,
        s.now_ms(),
    )
    .await?;
    let error = match tried {
        // An issued-but-unsent code proves nothing (and cannot be known anyway).
        Tried::Valid(account_id) if !account_id.is_empty() => {
            flow.state = State::Proven { account_id };
            flow.save(s.ephemeral, &s.config.selfservice, KIND).await?;
            return Ok(Page::NewPassword {
                ids: (&flow).into(),
                token: None,
                error: None,
            });
        }
        Tried::Valid(_) | Tried::Spent => SPENT.to_owned(),
        Tried::Wrong { left } => format!(
            "Code incorrect. Il vous reste {left} essai{}.",
            if left > 1 { "s" } else { "" }
        ),
        Tried::Throttled => THROTTLED.to_owned(),
    };
    Ok(Page::Code {
        ids: (&flow).into(),
        error: Some(error),
    })
}

/// The new password, after the right SMS code.
pub async fn set_after_code(
    s: &Services<'_>,
    browser: &Browser,
    ids: (&str, &str),
    password: Secret,
    confirm: &Secret,
) -> anyhow::Result<Page> {
    let Some(flow) = answered(s, KIND, browser, ids.0, ids.1).await? else {
        return Ok(Page::Expired);
    };
    let State::Proven { account_id } = &flow.state else {
        return Ok(Page::Expired);
    };
    let Some(account) = enabled_account(s, account_id).await? else {
        return Ok(Page::Expired);
    };
    let new = match policy(password, confirm, &account) {
        Ok(new) => new,
        Err(rule) => {
            return Ok(Page::NewPassword {
                ids: (&flow).into(),
                token: None,
                error: Some(rule.to_string()),
            })
        }
    };
    // A double submit finds the procedure gone: the password is set once.
    if !flow.finish(s.ephemeral, KIND).await? {
        return Ok(Page::Expired);
    }
    changed(s, &account, &new, &browser.address).await?;
    let tx = live_tx(s, flow.tx).await?;
    Ok(Page::Done { tx })
}

/// The account, unless it was disabled meanwhile (a disabled account recovers nothing).
async fn enabled_account(s: &Services<'_>, id: &str) -> anyhow::Result<Option<Account>> {
    Ok(s.accounts
        .account(id)
        .await?
        .filter(|a| a.state != AccountState::Disabled))
}

fn policy(
    password: Secret,
    confirm: &Secret,
    account: &Account,
) -> Result<NewPassword, PasswordPolicyError> {
    if password.expose() != confirm.expose() {
        return Err(PasswordPolicyError::Mismatch);
    }
    NewPassword::for_account(password, account)
}

/// Sets the password (the one place: it ends sessions and grants, audits the change), records
/// the recovery, and tells the confirmed address.
async fn changed(
    s: &Services<'_>,
    account: &Account,
    new: &NewPassword,
    address: &str,
) -> anyhow::Result<()> {
    let now = s.now_ms();
    let actor = format!("account:{}", account.id);
    let author = lifecycle::Author {
        audit: s.audit,
        actor: &actor,
        address: Some(address),
    };
    lifecycle::set_password(
        s.accounts,
        s.passwords,
        s.sessions,
        author,
        &account.id,
        new,
        now,
    )
    .await?;
    let event = Event::new(&actor, Action::AccountPasswordRecovered, Outcome::Ok, now)
        .on_account(&account.id)
        .from_address(Some(address));
    audit::record(s.audit, event).await;
    if let Some(to) = account.confirmed_address() {
        let email = account_mail::password_changed(to, account, now)?;
        let message = Outgoing::email(
            s.kek,
            &email,
            Purpose::PasswordChanged,
            Some(&account.id),
            now,
        )?;
        s.outbox.enqueue(&message).await?;
    }
    metrics::counter!("educonnect_password_recoveries_total").increment(1);
    tracing::info!(account = %account.id, "password recovered");
    Ok(())
}

/// `<account id>.<secret>`, as the link carries it.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let (account_id, secret) = token.split_once('.')?;
    let plausible = !account_id.is_empty() && account_id.len() <= 64 && secret.len() <= 128;
    plausible.then_some((account_id, secret))
}

/// What the link's token proves, if it is still valid; spends nothing.
async fn peek_link(
    s: &Services<'_>,
    token: &str,
    address: &str,
) -> anyhow::Result<Option<(LinkProof, Account)>> {
    let Some((account_id, secret)) = split_token(token) else {
        return Ok(None);
    };
    let subject = link_subject(account_id);
    let proof = one_time::peek(
        s.ephemeral,
        &s.config.throttle,
        &subject,
        secret,
        address,
        s.now_ms(),
    )
    .await?;
    let Some(proof) = proof.and_then(|p| serde_json::from_str::<LinkProof>(&p).ok()) else {
        return Ok(None);
    };
    // Issue #17: the link is short-lived.
    if proof.account_id != account_id || proof.expires_at_ms <= s.now_ms() {
        return Ok(None);
    }
    Ok(enabled_account(s, account_id).await?.map(|a| (proof, a)))
}

/// The page a link opens: the new-password form, its token not spent (mail scanners open
/// links); a procedure is parked for this browser so that the form carries a CSRF token.
pub async fn open_link(s: &Services<'_>, browser: &Browser, token: &str) -> anyhow::Result<Page> {
    let Some((proof, account)) = peek_link(s, token, &browser.address).await? else {
        return Ok(Page::LinkInvalid);
    };
    let state = LinkState {
        account_id: account.id,
    };
    let config = &s.config.selfservice;
    let now_ms = s.clock.now_ms();
    let tx = proof.tx;
    Ok(
        match Flow::start(s.ephemeral, config, LINK_KIND, browser, now_ms, tx, state).await? {
            Some(flow) => Page::NewPassword {
                ids: (&flow).into(),
                token: Some(token.to_owned()),
                error: None,
            },
            None => Page::TooMany,
        },
    )
}

/// The new password, from the link's page: the token is taken now, once.
pub async fn set_from_link(
    s: &Services<'_>,
    browser: &Browser,
    ids: (&str, &str),
    token: &str,
    password: Secret,
    confirm: &Secret,
) -> anyhow::Result<Page> {
    let flow: Option<Flow<LinkState>> = Flow::load(s.ephemeral, LINK_KIND, ids.0).await?;
    let Some(flow) = flow.filter(|f| f.answered_by(browser, ids.1)) else {
        return Ok(Page::Expired);
    };
    let Some((_, account)) = peek_link(s, token, &browser.address).await? else {
        return Ok(Page::LinkInvalid);
    };
    if account.id != flow.state.account_id {
        return Ok(Page::LinkInvalid);
    }
    // The policy first: a refused password does not spend the link.
    let new = match policy(password, confirm, &account) {
        Ok(new) => new,
        Err(rule) => {
            return Ok(Page::NewPassword {
                ids: (&flow).into(),
                token: Some(token.to_owned()),
                error: Some(rule.to_string()),
            })
        }
    };
    let Some((_, secret)) = split_token(token) else {
        return Ok(Page::LinkInvalid);
    };
    let tried = one_time::try_code(
        s.ephemeral,
        &s.config.codes,
        &s.config.throttle,
        &link_subject(&account.id),
        secret,
        &browser.address,
        s.now_ms(),
    )
    .await?;
    if !matches!(tried, Tried::Valid(_)) {
        return Ok(Page::LinkInvalid);
    }
    flow.finish(s.ephemeral, LINK_KIND).await?;
    changed(s, &account, &new, &browser.address).await?;
    let tx = live_tx(s, flow.tx).await?;
    Ok(Page::Done { tx })
}
