//! Activation at first login: the login method that follows a temporary password (a
//! notification letter's). Inside the same authorization request, the person
//!
//! 1. chooses a password (the one policy, `NewPassword::for_account`; not the temporary one);
//! 2. gives an e-mail address, confirmed by a six-digit code sent there (`accounts::one_time`,
//!    through the outbox) — optional for a pupil (FAQ: one e-mail per pupil account, at any
//!    age), required for a guardian, whose Siècle address is offered;
//! 3. for a guardian, reviews the children linked to the account, and may say "this is not my
//!    child": the link is left out and the establishment gets a notice;
//!
//! then the account becomes `active`, a "password changed" e-mail goes to the confirmed
//! address, and the login completes (`super::complete`): the relying party gets its code as
//! if nothing had interrupted. The steps' progress is kept with the login transaction in the
//! ephemeral store; an activation abandoned after its first step resumes at the next login
//! with the chosen password (the account is still `notified`).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{complete, Authenticated, Completed};
use crate::accounts::contacts::EmailAddress;
use crate::accounts::lifecycle::{self, NewPassword, PasswordPolicyError};
use crate::accounts::one_time::{self, Subject, Tried};
use crate::accounts::{temporary, Account, AccountState, Profile};
use crate::app::App;
use crate::notify::account_mail;
use crate::oidc::authorize::{transaction, Browser, Transaction};
use crate::oidc::session::Session;
use crate::outbox::{Outgoing, Purpose};
use crate::secrets::Secret;
use crate::store::ephemeral::{get_json, put_json};

/// The purpose of the codes that confirm an address.
pub const EMAIL_CONFIRMATION: &str = "email-confirmation";

/// An activation under way, kept with its login transaction.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Activation {
    pub account_id: String,
    /// When the temporary password was checked: the new session's `auth_time`.
    pub auth_time: i64,
    pub password_chosen: bool,
    /// The address a code was sent to, until the code is typed.
    pub pending_email: Option<String>,
    pub confirmed_email: Option<String>,
    /// A pupil chose to give no address.
    pub email_skipped: bool,
}

/// Where an activation stands: the page to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Password,
    /// An address to give (`suggested`: the one Siècle holds, for a guardian).
    Email {
        optional: bool,
        suggested: Option<String>,
    },
    /// The code sent to `address` to type.
    Code {
        address: String,
    },
    /// A guardian's children to review.
    Children(Vec<ChildLine>),
}

/// A child as the review lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildLine {
    pub account_id: String,
    pub name: String,
    /// Establishment (name or UAI) and class.
    pub where_: String,
}

/// What the page shows: the step, its number of all, and the message of the last answer.
pub struct View {
    pub tx: Transaction,
    pub account: Account,
    pub step: Step,
    pub number: usize,
    pub of: usize,
    pub error: Option<String>,
    /// A message that is not an error (a code was sent).
    pub info: Option<String>,
}

/// What the person answered on a step's page.
pub enum Answer {
    Password {
        password: Secret,
        confirm: Secret,
    },
    SendCode {
        address: String,
    },
    ResendCode,
    ChangeAddress,
    SkipEmail,
    Code {
        code: String,
    },
    /// The children said not to be the guardian's (account ids).
    Children {
        not_mine: Vec<String>,
    },
}

#[allow(clippy::large_enum_variant)] // short-lived, like `LoginResult`
pub enum Next {
    /// The transaction expired, belongs to another browser, or has no activation.
    Expired,
    Show(View),
    Completed(Completed),
}

fn key(tx_id: &str) -> String {
    format!("activation:{tx_id}")
}

async fn save(app: &App, tx: &Transaction, activation: &Activation) -> anyhow::Result<()> {
    // Each step gives the whole request the transaction's lifetime again.
    let ttl = Duration::from_secs(app.config.tokens.login_transaction_seconds);
    transaction::save(app, tx).await?;
    put_json(&*app.ephemeral, &key(&tx.id), activation, ttl).await
}

/// Starts (or resumes) the activation of `account` in `tx`, its password just checked.
pub async fn begin(
    app: &App,
    tx: &Transaction,
    account: &Account,
    auth_time: i64,
) -> anyhow::Result<()> {
    let activation = Activation {
        account_id: account.id.clone(),
        auth_time,
        // A chosen password (an activation interrupted after its first step): not asked again.
        password_chosen: account.password_expires_at.is_none(),
        pending_email: None,
        // Confirmed before the activation was interrupted: not asked again.
        confirmed_email: account.verified_email.clone(),
        email_skipped: false,
    };
    save(app, tx, &activation).await
}

/// Whether a checked password leads to activation rather than straight in.
pub fn needed(account: &Account) -> bool {
    account.state == AccountState::Notified
}

async fn load(
    app: &App,
    tx_id: &str,
    browser: &Browser,
    csrf: Option<&str>,
) -> anyhow::Result<Option<(Transaction, Activation, Account)>> {
    let Some(tx) = transaction::load(app, tx_id).await? else {
        return Ok(None);
    };
    let allowed = match csrf {
        Some(csrf) => tx.answered_by(browser, csrf),
        None => tx.belongs_to(browser),
    };
    if !allowed {
        return Ok(None);
    }
    let Some(activation): Option<Activation> = get_json(&*app.ephemeral, &key(tx_id)).await? else {
        return Ok(None);
    };
    let Some(account) = app.durable.account(&activation.account_id).await? else {
        return Ok(None);
    };
    // Disabled meanwhile (or activated in another tab): this activation is over.
    if account.state != AccountState::Notified {
        return Ok(None);
    }
    Ok(Some((tx, activation, account)))
}

/// The page of the activation under way in `tx_id`, for the browser it belongs to.
pub async fn page(app: &App, tx_id: &str, browser: &Browser) -> anyhow::Result<Option<View>> {
    let Some((tx, activation, account)) = load(app, tx_id, browser, None).await? else {
        return Ok(None);
    };
    Ok(Some(view(app, tx, &activation, account, None, None).await?))
}

fn is_guardian(account: &Account) -> bool {
    account.profile != Profile::Pupil
}

async fn view(
    app: &App,
    tx: Transaction,
    activation: &Activation,
    account: Account,
    error: Option<String>,
    info: Option<String>,
) -> anyhow::Result<View> {
    let of = if is_guardian(&account) { 3 } else { 2 };
    let (number, step) = if !activation.password_chosen {
        (1, Step::Password)
    } else if let Some(address) = &activation.pending_email {
        (
            2,
            Step::Code {
                address: address.clone(),
            },
        )
    } else if activation.confirmed_email.is_none() && !activation.email_skipped {
        let step = Step::Email {
            optional: !is_guardian(&account),
            suggested: account.email.clone().filter(|_| is_guardian(&account)),
        };
        (2, step)
    } else {
        (3, Step::Children(children(app, &account).await?))
    };
    Ok(View {
        tx,
        account,
        step,
        number,
        of,
        error,
        info,
    })
}

/// The guardian's children, each once, with where they are enrolled.
async fn children(app: &App, account: &Account) -> anyhow::Result<Vec<ChildLine>> {
    let affiliations = app.durable.affiliations(&account.id).await?;
    let mut lines: Vec<ChildLine> = Vec::new();
    for child in &affiliations.children {
        let establishment = app
            .durable
            .establishment(&child.enrolment.uai)
            .await?
            .and_then(|e| e.name)
            .unwrap_or_else(|| format!("établissement {}", child.enrolment.uai));
        let place = match &child.enrolment.division {
            Some(class) => format!("{establishment}, classe {class}"),
            None => establishment,
        };
        match lines.iter_mut().find(|l| l.account_id == child.account_id) {
            Some(line) => line.where_ = format!("{} ; {place}", line.where_),
            None => lines.push(ChildLine {
                account_id: child.account_id.clone(),
                name: format!("{} {}", child.given_name, child.family_name),
                where_: place,
            }),
        }
    }
    Ok(lines)
}

/// Takes the person's answer to the current step.
pub async fn answer(
    app: &Arc<App>,
    tx_id: &str,
    csrf: &str,
    browser: &Browser,
    answer: Answer,
    previous: Option<Session>,
) -> anyhow::Result<Next> {
    let Some((tx, mut activation, account)) = load(app, tx_id, browser, Some(csrf)).await? else {
        return Ok(Next::Expired);
    };
    let refused = |message: String| Some(message);
    let mut info = None;
    let error = match answer {
        Answer::Password { password, confirm } if !activation.password_chosen => {
            match choose_password(app, &account, password, &confirm, &browser.address).await? {
                Ok(()) => {
                    activation.password_chosen = true;
                    None
                }
                Err(rule) => refused(rule.to_string()),
            }
        }
        Answer::SendCode { address } if activation.password_chosen => {
            match EmailAddress::parse(&address).map(|a| a.as_str().to_owned()) {
                None => refused(
                    "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.".into(),
                ),
                Some(address) => match send_code(app, &account, &address).await? {
                    true => {
                        info = Some(format!("Un code à 6 chiffres a été envoyé à {address}."));
                        activation.pending_email = Some(address);
                        None
                    }
                    false => refused(TOO_MANY_CODES.into()),
                },
            }
        }
        Answer::ResendCode => match activation.pending_email.clone() {
            Some(address) => match send_code(app, &account, &address).await? {
                true => {
                    info = Some(format!("Un nouveau code a été envoyé à {address}."));
                    None
                }
                false => refused(TOO_MANY_CODES.into()),
            },
            None => None,
        },
        Answer::ChangeAddress => {
            activation.pending_email = None;
            None
        }
        Answer::SkipEmail if activation.password_chosen && !is_guardian(&account) => {
            activation.pending_email = None;
            activation.email_skipped = true;
            None
        }
        Answer::Code { code } => match activation.pending_email.clone() {
            Some(address) => {
                let tried = one_time::try_code(
                    &*app.ephemeral,
                    &app.config.codes,
                    &app.config.throttle,
                    &code_subject(&account),
                    &code,
                    &browser.address,
                    app.now_ms(),
                )
                .await?;
                match tried {
                    Tried::Valid(proven) if proven == address => {
                        app.durable
                            .set_verified_email(&account.id, &address, app.now_ms())
                            .await?;
                        activation.pending_email = None;
                        activation.confirmed_email = Some(address);
                        None
                    }
                    Tried::Valid(_) | Tried::Spent => {
                        refused("Ce code n'est plus valable. Demandez un nouveau code.".into())
                    }
                    Tried::Wrong { left } => refused(format!(
                        "Code incorrect. Il vous reste {left} essai{}.",
                        if left > 1 { "s" } else { "" }
                    )),
                    Tried::Throttled => {
                        refused("Trop d'essais. Réessayez dans quelques minutes.".into())
                    }
                }
            }
            None => None,
        },
        Answer::Children { not_mine } if ready_for_children(&activation, &account) => {
            let listed = children(app, &account).await?;
            for line in listed.iter().filter(|l| not_mine.contains(&l.account_id)) {
                let message = format!(
                    "{} {} (identifiant {}) indique ne pas être le responsable légal de {} \
                     ({}). Le lien n'apparaît plus sur son compte : vérifiez la fiche Siècle.",
                    account.given_name, account.family_name, account.login, line.name, line.where_
                );
                app.durable
                    .dispute_link(&account.id, &line.account_id, &message, app.now_ms())
                    .await?;
            }
            return finish(app, tx, activation, account, previous, browser).await;
        }
        // An answer to a step already passed (a second tab, the back button): shown again.
        _ => None,
    };
    if error.is_none()
        && !is_guardian(&account)
        && activation.password_chosen
        && activation.pending_email.is_none()
        && (activation.confirmed_email.is_some() || activation.email_skipped)
    {
        return finish(app, tx, activation, account, previous, browser).await;
    }
    save(app, &tx, &activation).await?;
    Ok(Next::Show(
        view(app, tx, &activation, account, error, info).await?,
    ))
}

const TOO_MANY_CODES: &str =
    "Trop de codes ont été envoyés pour ce compte. Réessayez dans une heure.";

fn ready_for_children(activation: &Activation, account: &Account) -> bool {
    is_guardian(account) && activation.password_chosen && activation.confirmed_email.is_some()
}

pub(crate) fn code_subject(account: &Account) -> Subject {
    Subject {
        purpose: EMAIL_CONFIRMATION,
        id: account.id.clone(),
    }
}

/// The new password, checked against the policy and the temporary one, then set (its
/// sessions and grants ended, though an account being activated has none).
async fn choose_password(
    app: &Arc<App>,
    account: &Account,
    password: Secret,
    confirm: &Secret,
    address: &str,
) -> anyhow::Result<Result<(), PasswordPolicyError>> {
    if password.expose() != confirm.expose() {
        return Ok(Err(PasswordPolicyError::Mismatch));
    }
    let new = match NewPassword::for_account(password, account) {
        Ok(new) => new,
        Err(rule) => return Ok(Err(rule)),
    };
    if account.password_expires_at.is_some() {
        let as_temporary = temporary::typed(new.expose());
        let same = app
            .passwords
            .verify(&as_temporary, account.password_hash.as_deref())
            .await?;
        if same.ok {
            return Ok(Err(PasswordPolicyError::SameAsTemporary));
        }
    }
    let now = app.now_ms();
    let actor = format!("account:{}", account.id);
    let author = by_the_person(app, &actor, address);
    lifecycle::set_password(
        &*app.durable,
        &app.passwords,
        app,
        author,
        &account.id,
        &new,
        now,
    )
    .await?;
    Ok(Ok(()))
}

/// The person activating their own account, for the audit trail.
fn by_the_person<'a>(app: &'a App, actor: &'a str, address: &'a str) -> lifecycle::Author<'a> {
    lifecycle::Author {
        audit: &*app.durable,
        actor,
        address: Some(address),
    }
}

/// Sends a code confirming `address` (through the outbox); false when too many were sent.
pub(crate) async fn send_code(app: &App, account: &Account, address: &str) -> anyhow::Result<bool> {
    let Some(issued) = one_time::issue(
        &*app.ephemeral,
        &app.config.codes,
        &code_subject(account),
        address,
        app.now_ms(),
    )
    .await?
    else {
        return Ok(false);
    };
    let minutes = app.config.codes.ttl_seconds / 60;
    let email = account_mail::code(address, account, &issued.code, minutes)?;
    let message = Outgoing::email(
        app.keys.kek(),
        &email,
        Purpose::EmailCode,
        Some(&account.id),
        app.now_ms(),
    )?;
    app.durable.enqueue(&message).await?;
    Ok(true)
}

/// The account becomes active, the confirmed address is told its password changed, and the
/// login completes.
async fn finish(
    app: &Arc<App>,
    tx: Transaction,
    activation: Activation,
    account: Account,
    previous: Option<Session>,
    browser: &Browser,
) -> anyhow::Result<Next> {
    let now = app.now_ms();
    let actor = format!("account:{}", account.id);
    let author = by_the_person(app, &actor, &browser.address);
    match lifecycle::activate(&*app.durable, author, &account, now).await {
        Ok(()) => {}
        Err(lifecycle::StateChangeError::Disabled { .. }) => return Ok(Next::Expired),
        Err(lifecycle::StateChangeError::Store(e)) => return Err(e),
    }
    if let Some(address) = &activation.confirmed_email {
        let email = account_mail::password_changed(address, &account, now)?;
        let message = Outgoing::email(
            app.keys.kek(),
            &email,
            Purpose::PasswordChanged,
            Some(&account.id),
            now,
        )?;
        app.durable.enqueue(&message).await?;
    }
    app.ephemeral.delete(&key(&tx.id)).await?;
    metrics::counter!("educonnect_activations_total").increment(1);
    tracing::info!(account = %account.id, "account activated");
    let account = app.durable.account(&account.id).await?.unwrap_or(account);
    let who = Authenticated {
        account,
        acr: super::PASSWORD_ACR.to_owned(),
        amr: vec![super::PASSWORD_AMR.to_owned()],
        auth_time: activation.auth_time,
        upstream_id_token: None,
    };
    Ok(match complete(app, tx, who, previous, browser).await? {
        Some(completed) => Next::Completed(completed),
        None => Next::Expired,
    })
}
