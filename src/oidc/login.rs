//! The login form's submission: CSRF, throttling, password check, a new SSO session, then the
//! authorization resumes where it stopped.

use crate::accounts::credentials::{self, Checked};
use crate::app::App;
use crate::oidc::authorize::{self, transaction, Outcome, Transaction};
use crate::oidc::session::{self, Session};
use crate::secrets::Secret;

/// What the person typed.
pub struct Submission {
    pub tx_id: String,
    pub csrf: String,
    pub login: String,
    pub password: Secret,
    /// The client's address, for throttling.
    pub address: String,
}

#[allow(clippy::large_enum_variant)] // short-lived
pub enum LoginResult {
    /// The transaction expired, was already used, or the CSRF token does not match.
    Expired,
    /// Shown again with a message; the message never says whether the login exists.
    Rejected {
        tx: Transaction,
        message: &'static str,
    },
    Authenticated {
        cookie: Secret,
        outcome: Outcome,
    },
}

pub const WRONG_CREDENTIALS: &str = "Identifiant ou mot de passe incorrect.";
pub const THROTTLED: &str = "Trop de tentatives de connexion. Réessayez dans quelques minutes.";

pub async fn login(
    app: &App,
    form: Submission,
    previous: Option<Session>,
) -> anyhow::Result<LoginResult> {
    let Some(tx) = transaction::load(app, &form.tx_id).await? else {
        return Ok(LoginResult::Expired);
    };
    if !tx.csrf_matches(&form.csrf) {
        return Ok(LoginResult::Expired);
    }
    let account = match credentials::check(app, &form.login, &form.password, &form.address).await? {
        Checked::Valid(account) => account,
        Checked::Throttled => {
            metrics::counter!("educonnect_logins_total", "result" => "throttled").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                message: THROTTLED,
            });
        }
        Checked::Wrong => {
            metrics::counter!("educonnect_logins_total", "result" => "failed").increment(1);
            return Ok(LoginResult::Rejected {
                tx,
                message: WRONG_CREDENTIALS,
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
    let Some(client) = app.client(&tx.request.client_id).await? else {
        return Ok(LoginResult::Authenticated {
            cookie,
            outcome: Outcome::ErrorPage("Cette application n'est plus enregistrée.".into()),
        });
    };
    let outcome =
        authorize::continue_authenticated(app, tx.request, client, &session, false).await?;
    Ok(LoginResult::Authenticated { cookie, outcome })
}
