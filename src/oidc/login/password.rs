//! The password method: the login form's submission. The transaction must belong to this browser
//! and carry the page's CSRF token; the password is checked (throttled, `accounts::credentials`);
//! the login completes (`super::complete`); the browser is remembered as trusted for the account.
//! Every attempt is one event of the audit trail.

use std::time::Duration;

use super::{activation, complete, Authenticated, Completed};
use crate::accounts::credentials::{self, Checked};
use crate::accounts::devices;
use crate::app::App;
use crate::audit::{self, Action, Event};
use crate::oidc::authorize::{transaction, Browser, Outcome, Transaction};
use crate::oidc::session::Session;
use crate::secrets::Secret;

pub use super::{PASSWORD_ACR as ACR, PASSWORD_AMR as AMR};

/// What the person typed, and where it comes from.
pub struct Submission {
    pub tx_id: String,
    pub csrf: String,
    pub login: String,
    pub password: Secret,
    pub browser: Browser,
    /// The trusted-browser tokens the browser presented (ADR 0008).
    pub devices: Vec<String>,
}

/// Why the login page is shown again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The message never says whether the login exists.
    WrongCredentials,
    Throttled,
    /// The right temporary password, past its letter's validity.
    TemporaryExpired,
}

impl Rejection {
    pub fn message(self) -> &'static str {
        match self {
            Rejection::WrongCredentials => "Identifiant ou mot de passe incorrect.",
            Rejection::Throttled => {
                "Trop de tentatives de connexion. Réessayez dans quelques minutes."
            }
            Rejection::TemporaryExpired => {
                "Votre mot de passe provisoire a expiré. Demandez un nouveau courrier à votre \
                 établissement."
            }
        }
    }
}

#[allow(clippy::large_enum_variant)] // short-lived
pub enum LoginResult {
    /// The transaction expired, was already used, belongs to another browser, or the CSRF
    /// token does not match.
    Expired,
    /// Shown again with a message.
    Rejected {
        tx: Transaction,
        rejection: Rejection,
    },
    /// A temporary password (or an activation interrupted after its password): the activation
    /// at first login goes on, in the same transaction (`super::activation`).
    Activation { tx_id: String },
    Completed {
        cookie: Secret,
        /// The browser's trusted-browser tokens to keep, this account's first; `None`: unchanged.
        devices: Option<Vec<String>>,
        outcome: Outcome,
    },
}

pub async fn login(
    app: &App,
    form: Submission,
    previous: Option<Session>,
) -> anyhow::Result<LoginResult> {
    let Some(tx) = transaction::load(app, &form.tx_id).await? else {
        return Ok(LoginResult::Expired);
    };
    // Review #13.2: only the browser that started the transaction may answer it.
    if !tx.answered_by(&form.browser, &form.csrf) || tx.account_id.is_some() {
        return Ok(LoginResult::Expired);
    }
    let trusted = devices::recognized(
        &*app.ephemeral,
        &credentials::throttle_key(&form.login),
        &form.devices,
    )
    .await?;
    let checked = credentials::check(
        &app.credentials(),
        &form.login,
        &form.password,
        &form.browser.address,
        trusted.as_deref(),
    )
    .await?;
    record_attempt(app, &form.login, &checked, &form.browser.address).await;
    let account = match checked {
        Checked::Valid(account) if !activation::needed(&account) => account,
        Checked::Valid(account) | Checked::Temporary(account) => {
            metrics::counter!("educonnect_logins_total", "result" => "activation").increment(1);
            activation::begin(app, &tx, &account, app.now_ms() / 1000).await?;
            return Ok(LoginResult::Activation { tx_id: tx.id });
        }
        Checked::TemporaryExpired { .. } => {
            metrics::counter!("educonnect_logins_total", "result" => "expired").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                rejection: Rejection::TemporaryExpired,
            });
        }
        Checked::Throttled => {
            metrics::counter!("educonnect_logins_total", "result" => "throttled").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                rejection: Rejection::Throttled,
            });
        }
        Checked::Wrong { .. } => {
            metrics::counter!("educonnect_logins_total", "result" => "failed").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                rejection: Rejection::WrongCredentials,
            });
        }
    };
    let browser = form.browser;
    let who = Authenticated {
        acr: ACR.to_owned(),
        amr: vec![AMR.to_owned()],
        auth_time: app.now_ms() / 1000,
        account,
        upstream_id_token: None,
    };
    let login = who.account.login.clone();
    let Some(Completed { cookie, outcome }) = complete(app, tx, who, previous, &browser).await?
    else {
        return Ok(LoginResult::Expired);
    };
    let trust = Duration::from_secs(app.config.throttle.trusted_device_days * 86_400);
    let devices = devices::remember(&*app.ephemeral, &login, form.devices, trusted, trust).await?;
    Ok(LoginResult::Completed {
        cookie,
        devices,
        outcome,
    })
}

/// The attempt in the audit trail, one INSERT: on the account when the login names one (its
/// last sign-in is `AuditStore::last_event`); else under a pseudonym of the login, so that the
/// failures on one unknown login read together without what was typed being kept (a login
/// field sometimes holds a password). Never the password. The login page's attempts, and the
/// FranceConnect tie's proof by password (`tie::by_password`).
pub(super) async fn record_attempt(app: &App, login: &str, checked: &Checked, address: &str) {
    let (account_id, outcome, detail) = match checked {
        Checked::Valid(account) => (Some(account.id.as_str()), audit::Outcome::Ok, None),
        Checked::Temporary(account) => (
            Some(account.id.as_str()),
            audit::Outcome::Ok,
            Some("temporary_password"),
        ),
        Checked::TemporaryExpired { account_id } => (
            Some(account_id.as_str()),
            audit::Outcome::Failed,
            Some("temporary_expired"),
        ),
        Checked::Wrong { account_id } => (
            account_id.as_deref(),
            audit::Outcome::Failed,
            Some(if account_id.is_some() {
                "wrong_password"
            } else {
                "unknown_login"
            }),
        ),
        Checked::Throttled => (None, audit::Outcome::Failed, Some("throttled")),
    };
    let actor = match account_id {
        Some(id) => format!("account:{id}"),
        None => login_pseudonym(app, login),
    };
    let mut event = Event::new(&actor, Action::AccountSignIn, outcome, app.now_ms())
        .from_address(Some(address));
    if let Some(id) = account_id {
        event = event.on_account(id);
    }
    if let Some(detail) = detail {
        event = event.detail(detail);
    }
    audit::record(&*app.durable, event).await
}

/// `login:` and 12 characters of the login's keyed pseudonym (72 bits: no two logins share it
/// in practice).
fn login_pseudonym(app: &App, login: &str) -> String {
    let key = credentials::throttle_key(login);
    let pseudonym = app.keys.kek().pseudonym("audit-login", key.as_bytes());
    format!("login:{}", &pseudonym[..12])
}
