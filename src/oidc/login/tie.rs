//! Tying a FranceConnect identity to an EduConnect account, the first time it arrives (issue
//! #18). The callback (`franceconnect::finish`) hands over an upstream identity tied to no
//! account; it is parked here, bound to the browser and to the relying party's login
//! transaction, and the guardian proves which account is theirs:
//!
//! - with the account's identifier and password (`by_password`, throttled like the login);
//! - or, without an account yet, with the self-registration's proof (`selfservice::
//!   registration::start_tying`: an SMS code to the number Siècle knows, the children's birth
//!   dates, a new password); the registration ties the identity at its end and comes back here
//!   (`resume`).
//!
//! Either way the pivot identity's names must agree with the account's record
//! (`federation::names::agree`), the account must be a guardian's (pupils cannot use
//! FranceConnect) and able to log in; a refusal changes nothing. Once tied, the login completes
//! as every later FranceConnect login does (`franceconnect::authenticated`).

use std::sync::Arc;

use super::franceconnect::completed;
use super::Completed;
use crate::accounts::credentials::{self, Checked};
use crate::accounts::{Account, AccountState, Profile};
use crate::app::App;
use crate::audit::{self, Action, Event, Outcome};
use crate::federation::{names, UpstreamIdentity};
use crate::oidc::authorize::{transaction, Browser};
use crate::oidc::logout;
use crate::oidc::session::{self, Session};
use crate::secrets::Secret;
use crate::selfservice::flow::Flow;
use crate::store::TieOutcome;

/// The flows' kind in the ephemeral store.
pub const KIND: &str = "franceconnect-tie";

/// The upstream identity waiting to be tied, as parked between the pages.
pub type Tying = UpstreamIdentity;

pub const NAMES_DISAGREE: &str = "Les noms transmis par FranceConnect ne correspondent pas à \
     ceux que l'établissement a enregistrés pour ce compte : votre identité FranceConnect n'a pas \
     été rattachée, et rien n'a été modifié. Si votre nom a changé, demandez au secrétariat de \
     l'établissement de le corriger.";
pub const PUPIL: &str = "Les comptes élèves ne peuvent pas utiliser FranceConnect : les élèves se \
     connectent avec leur identifiant et leur mot de passe EduConnect.";
const NOT_ACTIVE: &str = "Ce compte n'est pas encore activé. Utilisez ci-dessous « Je n'ai pas \
     encore de compte EduConnect » avec votre numéro de téléphone portable, ou connectez-vous \
     d'abord avec le mot de passe provisoire de votre notification pour choisir votre mot de passe, \
     puis rattachez FranceConnect à la prochaine connexion.";
const TIED_ELSEWHERE: &str = "Cette identité FranceConnect est déjà rattachée à un autre compte \
     EduConnect.";
const ACCOUNT_TIED: &str = "Ce compte EduConnect est déjà rattaché à une autre identité \
     FranceConnect. Vous pouvez défaire ce rattachement dans Mon compte.";

/// Why a tie was refused: the French message the page shows; nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown login or wrong password (the login page's one message).
    WrongCredentials,
    Throttled,
    Refused(&'static str),
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::WrongCredentials => super::password::Rejection::WrongCredentials.message(),
            Refusal::Throttled => super::password::Rejection::Throttled.message(),
            Refusal::Refused(message) => message,
        }
    }
}

#[allow(clippy::large_enum_variant)] // short-lived
pub enum Tied {
    /// Tied and logged in: back to the relying party.
    Completed(Completed),
    /// Shown again with why.
    Refused { flow: Flow<Tying>, refusal: Refusal },
    /// The flow expired, belongs to another browser, or its login transaction is gone.
    Expired,
}

/// Parks `identity` for the login transaction `tx_id`'s browser; `None` when that address
/// started too many procedures this minute.
pub async fn park(
    app: &App,
    tx_id: String,
    identity: UpstreamIdentity,
    browser: &Browser,
) -> anyhow::Result<Option<Flow<Tying>>> {
    Flow::start(
        &*app.ephemeral,
        &app.config.selfservice,
        KIND,
        browser,
        app.now_ms(),
        Some(tx_id),
        identity,
    )
    .await
}

/// The parked flow `flow_id`, shown only to its browser.
pub async fn shown(
    app: &App,
    flow_id: &str,
    browser: &Browser,
) -> anyhow::Result<Option<Flow<Tying>>> {
    let flow = Flow::<Tying>::load(&*app.ephemeral, KIND, flow_id).await?;
    Ok(flow.filter(|f| f.belongs_to(browser)))
}

/// The parked flow `flow_id`, answered by its browser with its CSRF token.
pub async fn answered(
    app: &App,
    flow_id: &str,
    csrf: &str,
    browser: &Browser,
) -> anyhow::Result<Option<Flow<Tying>>> {
    let flow = Flow::<Tying>::load(&*app.ephemeral, KIND, flow_id).await?;
    Ok(flow.filter(|f| f.answered_by(browser, csrf)))
}

/// The first way: the account's identifier and password.
pub async fn by_password(
    app: &App,
    flow_id: &str,
    csrf: &str,
    browser: &Browser,
    login: &str,
    password: &Secret,
    previous: Option<Session>,
) -> anyhow::Result<Tied> {
    let Some(flow) = answered(app, flow_id, csrf, browser).await? else {
        return Ok(Tied::Expired);
    };
    // A proof of the account, throttled like the login page (no trusted browser: this is the
    // first FranceConnect login, and the proof ties a new way in to the account).
    let checked =
        credentials::check(&app.credentials(), login, password, &browser.address, None).await?;
    super::password::record_attempt(app, login, &checked, &browser.address).await;
    let account = match checked {
        Checked::Valid(account) => account,
        Checked::Temporary(_) | Checked::TemporaryExpired { .. } => {
            return Ok(refused(flow, Refusal::Refused(NOT_ACTIVE)));
        }
        Checked::Wrong { .. } => return Ok(refused(flow, Refusal::WrongCredentials)),
        Checked::Throttled => return Ok(refused(flow, Refusal::Throttled)),
    };
    if let Err(refusal) = tie(app, &flow.state, &account, &browser.address).await? {
        return Ok(refused(flow, refusal));
    }
    finish(app, flow, account, browser, previous).await
}

/// The second way, after the self-registration tied the identity (`registration::
/// start_tying`): the login goes on, if the identity is tied now.
pub async fn resume(
    app: &App,
    flow_id: &str,
    csrf: &str,
    browser: &Browser,
    previous: Option<Session>,
) -> anyhow::Result<Tied> {
    let Some(flow) = answered(app, flow_id, csrf, browser).await? else {
        return Ok(Tied::Expired);
    };
    let tied = app
        .durable
        .account_of_upstream(&flow.state.issuer, &flow.state.subject)
        .await?;
    let account = match tied {
        Some(id) => app.durable.account(&id).await?,
        None => None,
    };
    match account {
        Some(account) if usable(&account).is_ok() => {
            finish(app, flow, account, browser, previous).await
        }
        _ => Ok(Tied::Expired),
    }
}

/// The checks every way shares, then the tie itself (recorded in the audit trail).
pub async fn tie(
    app: &App,
    tying: &Tying,
    account: &Account,
    address: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    if let Err(refusal) = usable(account) {
        return Ok(Err(refusal));
    }
    if !names_agree(app, tying, account, address).await {
        return Ok(Err(Refusal::Refused(NAMES_DISAGREE)));
    }
    let outcome = app
        .durable
        .tie_upstream(&tying.issuer, &tying.subject, &account.id, app.now_ms())
        .await?;
    let refusal = match outcome {
        TieOutcome::Tied => {
            record(app, account, address, Outcome::Ok, "tied").await;
            return Ok(Ok(()));
        }
        TieOutcome::IdentityTiedElsewhere { .. } => Refusal::Refused(TIED_ELSEWHERE),
        TieOutcome::AccountTiedToAnother => Refusal::Refused(ACCOUNT_TIED),
    };
    record(app, account, address, Outcome::Failed, "already tied").await;
    Ok(Err(refusal))
}

/// Issue #18: the pivot identity's names agree with the account's record; a disagreement is
/// recorded in the audit trail (a tie refused).
pub async fn names_agree(app: &App, tying: &Tying, account: &Account, address: &str) -> bool {
    let agree = names::agree(&tying.pivot, &account.given_name, &account.family_name);
    if !agree {
        record(app, account, address, Outcome::Failed, "names disagree").await;
    }
    agree
}

/// A guardian's (or a person in charge's) active account: pupils cannot use FranceConnect.
fn usable(account: &Account) -> Result<(), Refusal> {
    if account.profile == Profile::Pupil {
        return Err(Refusal::Refused(PUPIL));
    }
    if account.state != AccountState::Active {
        return Err(Refusal::Refused(NOT_ACTIVE));
    }
    Ok(())
}

fn refused(flow: Flow<Tying>, refusal: Refusal) -> Tied {
    Tied::Refused { flow, refusal }
}

/// The login the flow was parked for completes, as a FranceConnect login.
async fn finish(
    app: &App,
    flow: Flow<Tying>,
    account: Account,
    browser: &Browser,
    previous: Option<Session>,
) -> anyhow::Result<Tied> {
    let Some(tx_id) = flow.tx.clone() else {
        return Ok(Tied::Expired);
    };
    let Some(tx) = transaction::load(app, &tx_id).await? else {
        return Ok(Tied::Expired);
    };
    if !tx.belongs_to(browser) || !flow.finish(&*app.ephemeral, KIND).await? {
        return Ok(Tied::Expired);
    }
    Ok(
        match completed(app, tx, flow.state, account, previous, browser).await? {
            Some(completed) => Tied::Completed(completed),
            None => Tied::Expired,
        },
    )
}

/// Whether `account` is tied to an identity of the configured upstream (Mon compte shows it);
/// `None` when FranceConnect is not enabled.
pub async fn is_tied(app: &App, account: &Account) -> anyhow::Result<Option<bool>> {
    let Some(upstream) = app.franceconnect.as_deref() else {
        return Ok(None);
    };
    let subject = app
        .durable
        .upstream_of_account(&account.id, upstream.issuer())
        .await?;
    Ok(Some(subject.is_some()))
}

/// Mon compte: the guardian undoes the tie (issue #18); the next FranceConnect login asks for
/// the account again. False when there was none. The account's other SSO sessions opened
/// through FranceConnect end with it, as a logout ends them (grants bound to the session,
/// access tokens, back-channel notices): whoever holds them came in by the way now closed.
/// `current`, where the guardian undoes it, stays; so do offline grants (refresh tokens a
/// service keeps beyond the session), which a password change, unlike this, also revokes.
/// Once the tie is gone the undoing is recorded, then the sessions are ended one by one: one
/// that cannot be ended is logged and the others still are.
pub async fn untie(
    app: &Arc<App>,
    account: &Account,
    current: &Session,
    address: &str,
) -> anyhow::Result<bool> {
    let Some(upstream) = app.franceconnect.as_deref() else {
        return Ok(false);
    };
    let undone = app
        .durable
        .untie_upstream(&account.id, upstream.issuer())
        .await?;
    if !undone {
        return Ok(false);
    }
    let event = Event::new(
        &format!("account:{}", account.id),
        Action::AccountFranceConnectUntied,
        Outcome::Ok,
        app.now_ms(),
    )
    .on_account(&account.id)
    .from_address(Some(address));
    audit::record(&*app.durable, event).await;
    for sid in session::of_account(app, &account.id).await? {
        if sid == current.sid {
            continue;
        }
        let ended = async {
            match session::by_sid(app, &sid).await? {
                Some(other) if other.upstream_id_token.is_some() => {
                    logout::log_out(app, &other).await
                }
                _ => Ok(()),
            }
        };
        if let Err(error) = ended.await {
            tracing::warn!(%error, account = %account.id, "a FranceConnect session outlived the undone tie");
        }
    }
    Ok(true)
}

async fn record(app: &App, account: &Account, address: &str, outcome: Outcome, detail: &str) {
    let event = Event::new(
        &format!("account:{}", account.id),
        Action::AccountFranceConnectTied,
        outcome,
        app.now_ms(),
    )
    .on_account(&account.id)
    .from_address(Some(address))
    .detail(detail);
    audit::record(&*app.durable, event).await
}
