//! The login form's submission: the browser and CSRF token, throttling, password check, a new
//! SSO session, then the authorization resumes where it stopped.

use std::time::Duration;

use crate::accounts::credentials::{self, Checked};
use crate::accounts::devices;
use crate::app::App;
use crate::oidc::authorize::{self, transaction, Browser, Outcome, Transaction};
use crate::oidc::session::{self, Session};
use crate::secrets::Secret;

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
}

impl Rejection {
    pub fn message(self) -> &'static str {
        match self {
            Rejection::WrongCredentials => "Identifiant ou mot de passe incorrect.",
            Rejection::Throttled => {
                "Trop de tentatives de connexion. Réessayez dans quelques minutes."
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
    Authenticated {
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
    let account = match checked {
        Checked::Valid(account) => account,
        Checked::Throttled => {
            metrics::counter!("educonnect_logins_total", "result" => "throttled").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                rejection: Rejection::Throttled,
            });
        }
        Checked::Wrong => {
            metrics::counter!("educonnect_logins_total", "result" => "failed").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                rejection: Rejection::WrongCredentials,
            });
        }
    };
    if !transaction::finish(app, &tx.id).await? {
        return Ok(LoginResult::Expired);
    }
    // The session id is renewed at login: the previous session (if any) ends here.
    if let Some(previous) = previous {
        session::destroy(app, &previous.sid).await?;
    }
    let (session, cookie) = session::create(app, &account.id, vec!["pwd".into()]).await?;
    metrics::counter!("educonnect_logins_total", "result" => "ok").increment(1);
    let trust = Duration::from_secs(app.config.throttle.trusted_device_days * 86_400);
    let devices = devices::remember(
        &*app.ephemeral,
        &account.login,
        form.devices,
        trusted,
        trust,
    )
    .await?;
    let Some(client) = app.client(&tx.request.client_id).await? else {
        return Ok(LoginResult::Authenticated {
            cookie,
            devices,
            outcome: Outcome::ErrorPage("Cette application n'est plus enregistrée.".into()),
        });
    };
    let outcome =
        authorize::continue_authenticated(app, tx.request, client, &session, false, &form.browser)
            .await?;
    Ok(LoginResult::Authenticated {
        cookie,
        devices,
        outcome,
    })
}
