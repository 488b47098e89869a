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
//!
//! Started from a FranceConnect login whose identity is tied to no account yet
//! (`start_tying`, issue #18), the same steps are the guardian's proof: after the birth dates
//! the pivot identity's names must agree with the record (else the registration ends and
//! nothing changed), and the password step ties the identity (`oidc::login::tie`); the done
//! page then goes on to the relying party as a FranceConnect login.
//!
//! `steps.rs` holds the checks of each answer, `page.rs` the page a flow's state shows.

mod page;
mod steps;

use page::{page, view};
pub use page::{ChildDate, EmailStage, Page, View};
use steps::{choose, code_step, dates_step, email_code_step, email_step, password_step, Refusal};

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
use crate::oidc::login::tie::{self, Tying};
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
    /// A FranceConnect identity's names disagree with the record: over, nothing changed.
    NamesDisagree,
}

/// The FranceConnect identity a registration proves an account for, and the tie flow
/// (`oidc::login::tie`) to go back to at the end.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Federated {
    tie_flow: String,
    tie_csrf: String,
    tying: Tying,
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
    #[serde(default)]
    federated: Option<Federated>,
}

#[allow(clippy::large_enum_variant)] // short-lived, one per request
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
    begin(app, typed, tx, browser, None).await
}

/// Step 1 of a FranceConnect tie's proof: the number typed on the tie page of `tie`.
pub async fn start_tying(
    app: &App,
    typed: &str,
    tie: &Flow<Tying>,
    browser: &Browser,
) -> anyhow::Result<Next> {
    let federated = Federated {
        tie_flow: tie.id.clone(),
        tie_csrf: tie.csrf.clone(),
        tying: tie.state.clone(),
    };
    begin(app, typed, tie.tx.clone(), browser, Some(federated)).await
}

async fn begin(
    app: &App,
    typed: &str,
    tx: Option<String>,
    browser: &Browser,
    federated: Option<Federated>,
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
            federated,
        };
        let tx = tx.filter(|t| !t.is_empty());
        let Some(flow) = Flow::start(
            &*app.ephemeral,
            &app.config.selfservice,
            KIND,
            browser,
            app.now_ms(),
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
    if matches!(page, Page::Ended | Page::NamesDisagree) {
        flow.finish(&*app.ephemeral, KIND).await?;
    }
    let mut view = view(app, &flow, page, error, info).await?;
    view.throttled = throttled;
    Ok(Next::Show(view))
}
