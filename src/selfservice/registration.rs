//! A guardian's self-registration by SMS (issue #17; FAQ: "guardians can self-register as soon
//! as their record is imported"). The steps, one function each, over a `Flow<Registration>`:
//!
//! 1. `start`: the mobile number typed. A code is issued (`accounts::one_time`) for *every*
//!    well-formed number, but an SMS is queued (`notify::sms`, its caps) only when guardians
//!    with that Siècle number exist: the page, the code's tries and the timing
//!    (`floor::answered_after`) are then the same for a known and an unknown number.
//! 2. `code`: the code typed; `resend`: a new one (still capped).
//! 3. `choose`: when several accounts share the number, which one (by name).
//! 4. `dates`: the birth date of every child linked to the guardian, all of them right; few
//!    tries per flow, and throttled per account (`accounts::throttle`).
//! 5. `password`: the one password policy, then `lifecycle::activate_with_password`; the
//!    number the code proved becomes the account's confirmed mobile.
//! 6. the done page offers to confirm an e-mail address (the activation's code by e-mail).
//!
//! An active account is not registered again (its identifier is shown, with the login and
//! recovery pages); a pupil, a disabled account and an unknown number are treated alike.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::floor::answered_after;
use super::flow::Flow;
use crate::accounts::contacts::{EmailAddress, Mobile};
use crate::accounts::lifecycle::{self, NewPassword, PasswordPolicyError};
use crate::accounts::one_time::{self, Subject, Tried};
use crate::accounts::{throttle, Account, AccountState, Profile};
use crate::app::App;
use crate::audit::{self, Action, Event, Outcome};
use crate::notify::sms::{self, SmsSender};
use crate::oidc::authorize::{transaction, Browser};
use crate::oidc::login::activation;
use crate::outbox::Purpose;
use crate::secrets::Secret;

const KIND: &str = "registration";
/// The purpose of the SMS codes of a registration (`one_time`), tied to the number.
pub const PURPOSE: &str = "registration";
/// Wrong birth dates allowed in one registration before it ends.
const DATE_TRIES: u32 = 3;

/// Where a registration stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Code,
    Choose,
    Dates,
    Password,
    Done,
}

/// What a registration keeps between its pages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Registration {
    /// The number typed, national form.
    mobile: String,
    stage: Stage,
    account_id: Option<String>,
    wrong_dates: u32,
    pending_email: Option<String>,
    confirmed_email: Option<String>,
}

/// A child whose birth date is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildDate {
    pub given_name: String,
}

/// The page to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    Code {
        masked: String,
    },
    Choose {
        names: Vec<(String, String)>,
    },
    Dates {
        children: Vec<ChildDate>,
    },
    Password {
        login: String,
    },
    Done {
        login: String,
        email: EmailStage,
    },
    /// The account is already active: its identifier, login and recovery pointed to.
    AlreadyActive {
        login: String,
    },
    /// No account to register for this number (unknown, disabled, or no child linked).
    NotRegistered,
    /// Too many wrong answers: the registration is over.
    Ended,
}

/// The e-mail offer on the done page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailStage {
    Offer,
    Code { address: String },
    Confirmed { address: String },
}

/// What a step answers.
pub struct View {
    pub flow_id: String,
    pub csrf: String,
    /// The live login transaction to go back to.
    pub tx: Option<String>,
    pub page: Page,
    pub error: Option<String>,
    pub info: Option<String>,
    pub throttled: bool,
}

pub enum Next {
    /// The number is not a mobile number (nothing started).
    BadNumber,
    /// Too many registrations started from this address.
    TooMany,
    /// The flow is gone or belongs to another browser.
    Expired,
    Show(View),
}

/// What the person answered.
pub enum Answer {
    Code { code: String },
    Resend,
    Choose { account_id: String },
    Dates { dates: Vec<String> },
    Password { password: Secret, confirm: Secret },
    SendEmail { address: String },
    EmailCode { code: String },
}

fn subject(mobile: &str) -> Subject {
    Subject {
        purpose: PURPOSE,
        id: mobile.to_owned(),
    }
}

fn floor(app: &App) -> Duration {
    Duration::from_millis(app.config.selfservice.response_floor_ms)
}

/// The guardians this number can register: not pupils, not disabled (treated as unknown).
async fn candidates(app: &App, mobile: &str) -> anyhow::Result<Vec<Account>> {
    let found = app.durable.guardians_by_siecle_mobile(mobile).await?;
    Ok(found
        .into_iter()
        .filter(|a| a.profile != Profile::Pupil && a.state != AccountState::Disabled)
        .collect())
}

/// Issues a code for `mobile`, and sends it only when the number is a guardian's. `false` when
/// too many codes were issued for the number this hour (the same for every number).
async fn send_code(app: &App, mobile: &str, address: &str) -> anyhow::Result<bool> {
    let Some(issued) = one_time::issue(
        &*app.ephemeral,
        &app.config.codes,
        &subject(mobile),
        mobile,
        app.now_ms(),
    )
    .await?
    else {
        return Ok(false);
    };
    let found = candidates(app, mobile).await?;
    if let Some(first) = found.first() {
        let minutes = app.config.codes.ttl_seconds / 60;
        let text = sms::code(mobile, &issued.code, minutes);
        let sender = SmsSender {
            outbox: &*app.durable,
            counters: &*app.ephemeral,
            kek: app.keys.kek(),
            clock: &*app.clock,
            config: &app.config.sms,
        };
        // A capped SMS is answered as a sent one (`notify::sms`): nothing tells them apart.
        sender
            .queue(&text, Purpose::SmsCode, Some(&first.id), address)
            .await?;
    }
    Ok(true)
}

/// Step 1: the number typed, from `browser`, coming from login transaction `tx`.
pub async fn start(
    app: &App,
    typed: &str,
    tx: Option<String>,
    browser: &Browser,
) -> anyhow::Result<Next> {
    let Some(mobile) = Mobile::parse(typed) else {
        return Ok(Next::BadNumber);
    };
    let started = Instant::now();
    answered_after(started, floor(app), async {
        let state = Registration {
            mobile: mobile.as_str().to_owned(),
            stage: Stage::Code,
            account_id: None,
            wrong_dates: 0,
            pending_email: None,
            confirmed_email: None,
        };
        let tx = tx.filter(|t| !t.is_empty());
        let Some(flow) = Flow::start(
            &*app.ephemeral,
            &app.config.selfservice,
            KIND,
            browser,
            tx,
            state,
        )
        .await?
        else {
            return Ok(Next::TooMany);
        };
        let sent = send_code(app, mobile.as_str(), &browser.address).await?;
        let error = (!sent).then(|| TOO_MANY_CODES.to_owned());
        Ok(Next::Show(
            view(app, &flow, page(app, &flow).await?, error, None).await?,
        ))
    })
    .await
}

const TOO_MANY_CODES: &str =
    "Trop de codes ont été demandés pour ce numéro. Réessayez dans une heure.";

/// Takes an answer to the flow `flow_id`, from `browser` with `csrf`.
pub async fn answer(
    app: &Arc<App>,
    flow_id: &str,
    csrf: &str,
    browser: &Browser,
    answer: Answer,
) -> anyhow::Result<Next> {
    let Some(mut flow) = Flow::<Registration>::load(&*app.ephemeral, KIND, flow_id).await? else {
        return Ok(Next::Expired);
    };
    // Review #13.2: a flow is answered only by the browser that started it.
    if !flow.answered_by(browser, csrf) {
        return Ok(Next::Expired);
    }
    let mut info = None;
    let outcome = match (&flow.state.stage, answer) {
        (Stage::Code, Answer::Code { code }) => {
            let started = Instant::now();
            answered_after(
                started,
                floor(app),
                code_step(app, &mut flow, &code, browser),
            )
            .await?
        }
        (Stage::Code, Answer::Resend) => {
            let started = Instant::now();
            let sent = answered_after(
                started,
                floor(app),
                send_code(app, &flow.state.mobile, &browser.address),
            )
            .await?;
            if sent {
                info = Some("Un nouveau code a été demandé.".to_owned());
                Ok(())
            } else {
                Err(Refusal::Wrong(TOO_MANY_CODES.into()))
            }
        }
        (Stage::Choose, Answer::Choose { account_id }) => {
            choose(app, &mut flow, &account_id).await?
        }
        (Stage::Dates, Answer::Dates { dates }) => {
            dates_step(app, &mut flow, &dates, browser).await?
        }
        (Stage::Password, Answer::Password { password, confirm }) => {
            password_step(app, &mut flow, password, &confirm, browser).await?
        }
        (Stage::Done, Answer::SendEmail { address }) => {
            email_step(app, &mut flow, &address).await?
        }
        (Stage::Done, Answer::EmailCode { code }) => {
            email_code_step(app, &mut flow, &code, browser).await?
        }
        // An answer to a step already passed (a double submit, the back button): shown again.
        _ => Ok(()),
    };
    flow.save(&*app.ephemeral, &app.config.selfservice, KIND)
        .await?;
    let (error, throttled) = match outcome {
        Ok(()) => (None, false),
        Err(Refusal::Wrong(message)) => (Some(message), false),
        Err(Refusal::Throttled(message)) => (Some(message), true),
    };
    let page = page(app, &flow).await?;
    if page == Page::Ended {
        flow.finish(&*app.ephemeral, KIND).await?;
    }
    let mut view = view(app, &flow, page, error, info).await?;
    view.throttled = throttled;
    Ok(Next::Show(view))
}

enum Refusal {
    Wrong(String),
    Throttled(String),
}

type Step = Result<(), Refusal>;

const ASK_NEW_CODE: &str = "Ce code n'est plus valable. Demandez un nouveau code.";

/// Step 2: the SMS code. For an unknown number it is a code nobody received.
async fn code_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &str,
    browser: &Browser,
) -> anyhow::Result<Step> {
    let tried = one_time::try_code(
        &*app.ephemeral,
        &app.config.codes,
        &app.config.throttle,
        &subject(&flow.state.mobile),
        typed,
        &browser.address,
        app.now_ms(),
    )
    .await?;
    Ok(match tried {
        Tried::Valid(proven) if proven == flow.state.mobile => {
            let found = candidates(app, &flow.state.mobile).await?;
            match found.as_slice() {
                [one] => {
                    flow.state.account_id = Some(one.id.clone());
                    flow.state.stage = Stage::Dates;
                }
                [] => flow.state.account_id = None,
                _ => flow.state.stage = Stage::Choose,
            }
            if found.is_empty() {
                flow.state.stage = Stage::Done;
            }
            Ok(())
        }
        Tried::Valid(_) | Tried::Spent => Err(Refusal::Wrong(ASK_NEW_CODE.into())),
        Tried::Wrong { left } => Err(Refusal::Wrong(format!(
            "Code incorrect. Il vous reste {left} essai{}.",
            if left > 1 { "s" } else { "" }
        ))),
        Tried::Throttled => Err(Refusal::Throttled(THROTTLED.into())),
    })
}

const THROTTLED: &str = "Trop d'essais. Réessayez dans quelques minutes.";

/// Step 3: one of the accounts sharing the number.
async fn choose(
    app: &App,
    flow: &mut Flow<Registration>,
    account_id: &str,
) -> anyhow::Result<Step> {
    let found = candidates(app, &flow.state.mobile).await?;
    if !found.iter().any(|a| a.id == account_id) {
        return Ok(Err(Refusal::Wrong(
            "Choisissez l'une des personnes proposées.".into(),
        )));
    }
    flow.state.account_id = Some(account_id.to_owned());
    flow.state.stage = Stage::Dates;
    Ok(Ok(()))
}

/// The children linked to the guardian, each once.
async fn children(app: &App, account_id: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut children: Vec<(String, String)> = Vec::new();
    for child in app.durable.affiliations(account_id).await?.children {
        if !children.iter().any(|(id, _)| *id == child.account_id) {
            children.push((child.account_id, child.given_name));
        }
    }
    Ok(children)
}

/// Step 4: every child's birth date, all right.
async fn dates_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &[String],
    browser: &Browser,
) -> anyhow::Result<Step> {
    let Some(account_id) = flow.state.account_id.clone() else {
        return Ok(Ok(()));
    };
    let counters = throttle::subject(
        &app.config.throttle,
        &format!("registration-dates:{account_id}"),
        &browser.address,
    );
    let Some(attempt) = throttle::begin(&*app.ephemeral, &app.config.throttle, counters).await?
    else {
        return Ok(Err(Refusal::Throttled(THROTTLED.into())));
    };
    let children = children(app, &account_id).await?;
    let mut all_right = !children.is_empty() && typed.len() == children.len();
    for ((child_id, _), date) in children.iter().zip(typed) {
        let known = app.durable.pupil_birth_date(child_id).await?;
        all_right &= known.as_deref() == Some(date.trim());
    }
    if all_right {
        attempt.passed(&*app.ephemeral).await?;
        flow.state.stage = Stage::Password;
        return Ok(Ok(()));
    }
    attempt.failed();
    flow.state.wrong_dates += 1;
    let left = DATE_TRIES.saturating_sub(flow.state.wrong_dates);
    Ok(Err(Refusal::Wrong(format!(
        "Au moins une date de naissance ne correspond pas à celle que l'établissement a \
         enregistrée. Il vous reste {left} essai{}.",
        if left > 1 { "s" } else { "" }
    ))))
}

fn by_the_person<'a>(app: &'a App, actor: &'a str, address: &'a str) -> lifecycle::Author<'a> {
    lifecycle::Author {
        audit: &*app.durable,
        actor,
        address: Some(address),
    }
}

/// Step 5: the new password, then the account is active.
async fn password_step(
    app: &Arc<App>,
    flow: &mut Flow<Registration>,
    password: Secret,
    confirm: &Secret,
    browser: &Browser,
) -> anyhow::Result<Step> {
    let Some(account) = registering(app, flow).await? else {
        return Ok(Ok(()));
    };
    if password.expose() != confirm.expose() {
        return Ok(Err(Refusal::Wrong(
            PasswordPolicyError::Mismatch.to_string(),
        )));
    }
    let new = match NewPassword::for_account(password, &account) {
        Ok(new) => new,
        Err(rule) => return Ok(Err(Refusal::Wrong(rule.to_string()))),
    };
    let now = app.now_ms();
    let actor = format!("account:{}", account.id);
    let author = by_the_person(app, &actor, &browser.address);
    match lifecycle::activate_with_password(
        &*app.durable,
        &app.passwords,
        app,
        author,
        &account,
        &new,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(lifecycle::StateChangeError::Disabled { .. }) => {
            flow.state.account_id = None;
            flow.state.stage = Stage::Done;
            return Ok(Ok(()));
        }
        Err(lifecycle::StateChangeError::Store(e)) => return Err(e),
    }
    // The SMS code proved the number reaches this person: it is the account's confirmed
    // mobile now (recovery by SMS works at once), kept apart from Siècle's copy.
    app.durable
        .set_verified_phone(&account.id, &flow.state.mobile, now)
        .await?;
    let event = Event::new(&actor, Action::AccountSelfRegistered, Outcome::Ok, now)
        .on_account(&account.id)
        .from_address(Some(&browser.address));
    audit::record(&*app.durable, event).await;
    metrics::counter!("educonnect_self_registrations_total").increment(1);
    tracing::info!(account = %account.id, "guardian self-registered");
    flow.state.stage = Stage::Done;
    Ok(Ok(()))
}

/// The account being registered, while it is not active yet (a double submit of the password
/// finds it active and shows the done page).
async fn registering(app: &App, flow: &mut Flow<Registration>) -> anyhow::Result<Option<Account>> {
    let Some(id) = &flow.state.account_id else {
        return Ok(None);
    };
    let account = app.durable.account(id).await?;
    match account {
        Some(a) if matches!(a.state, AccountState::Created | AccountState::Notified) => Ok(Some(a)),
        _ => {
            flow.state.stage = Stage::Done;
            Ok(None)
        }
    }
}

async fn registered(app: &App, flow: &Flow<Registration>) -> anyhow::Result<Option<Account>> {
    match &flow.state.account_id {
        Some(id) => Ok(app
            .durable
            .account(id)
            .await?
            .filter(|a| a.state == AccountState::Active)),
        None => Ok(None),
    }
}

/// Step 6: an address to confirm, a code sent there (the activation's e-mail code).
async fn email_step(app: &App, flow: &mut Flow<Registration>, typed: &str) -> anyhow::Result<Step> {
    let Some(account) = registered(app, flow).await? else {
        return Ok(Ok(()));
    };
    let Some(address) = EmailAddress::parse(typed) else {
        return Ok(Err(Refusal::Wrong(
            "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.".into(),
        )));
    };
    if !activation::send_code(app, &account, address.as_str()).await? {
        return Ok(Err(Refusal::Wrong(
            "Trop de codes ont été envoyés pour ce compte. Réessayez dans une heure.".into(),
        )));
    }
    flow.state.pending_email = Some(address.as_str().to_owned());
    Ok(Ok(()))
}

async fn email_code_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &str,
    browser: &Browser,
) -> anyhow::Result<Step> {
    let (Some(account), Some(address)) = (
        registered(app, flow).await?,
        flow.state.pending_email.clone(),
    ) else {
        return Ok(Ok(()));
    };
    let tried = one_time::try_code(
        &*app.ephemeral,
        &app.config.codes,
        &app.config.throttle,
        &activation::code_subject(&account),
        typed,
        &browser.address,
        app.now_ms(),
    )
    .await?;
    Ok(match tried {
        Tried::Valid(proven) if proven == address => {
            app.durable
                .set_verified_email(&account.id, &address, app.now_ms())
                .await?;
            flow.state.pending_email = None;
            flow.state.confirmed_email = Some(address);
            Ok(())
        }
        Tried::Valid(_) | Tried::Spent => {
            flow.state.pending_email = None;
            Err(Refusal::Wrong(ASK_NEW_CODE.into()))
        }
        Tried::Wrong { left } => Err(Refusal::Wrong(format!(
            "Code incorrect. Il vous reste {left} essai{}.",
            if left > 1 { "s" } else { "" }
        ))),
        Tried::Throttled => Err(Refusal::Throttled(THROTTLED.into())),
    })
}

/// The page a flow's state shows.
async fn page(app: &App, flow: &Flow<Registration>) -> anyhow::Result<Page> {
    let state = &flow.state;
    if state.wrong_dates >= DATE_TRIES {
        return Ok(Page::Ended);
    }
    let account = match &state.account_id {
        Some(id) => app.durable.account(id).await?,
        None => None,
    };
    Ok(match (&state.stage, account) {
        (Stage::Code, _) => Page::Code {
            masked: Mobile::parse(&state.mobile)
                .map(|m| m.masked())
                .unwrap_or_default(),
        },
        (Stage::Choose, _) => Page::Choose {
            names: candidates(app, &state.mobile)
                .await?
                .into_iter()
                .map(|a| (a.id, format!("{} {}", a.given_name, a.family_name)))
                .collect(),
        },
        (_, None) => Page::NotRegistered,
        (_, Some(a)) if a.state == AccountState::Disabled => Page::NotRegistered,
        (Stage::Done, Some(a)) => Page::Done {
            login: a.login,
            email: match (&state.pending_email, &state.confirmed_email) {
                (_, Some(address)) => EmailStage::Confirmed {
                    address: address.clone(),
                },
                (Some(address), None) => EmailStage::Code {
                    address: address.clone(),
                },
                (None, None) => EmailStage::Offer,
            },
        },
        // Not registered again: an active account is pointed to the login and recovery.
        (_, Some(a)) if a.state == AccountState::Active => Page::AlreadyActive { login: a.login },
        (Stage::Dates, Some(a)) => {
            let children = children(app, &a.id).await?;
            if children.is_empty() {
                // Nothing to prove who the guardian is: the establishment registers them.
                Page::NotRegistered
            } else {
                Page::Dates {
                    children: children
                        .into_iter()
                        .map(|(_, given_name)| ChildDate { given_name })
                        .collect(),
                }
            }
        }
        (Stage::Password, Some(a)) => Page::Password { login: a.login },
    })
}

async fn view(
    app: &App,
    flow: &Flow<Registration>,
    page: Page,
    error: Option<String>,
    info: Option<String>,
) -> anyhow::Result<View> {
    let tx = match &flow.tx {
        Some(id) => transaction::load(app, id).await?.map(|t| t.id),
        None => None,
    };
    Ok(View {
        flow_id: flow.id.clone(),
        csrf: flow.csrf.clone(),
        tx,
        page,
        error,
        info,
        throttled: false,
    })
}
