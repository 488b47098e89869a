//! The login form's submission: CSRF, throttling, password check, a new SSO session, then the
//! authorization resumes where it stopped.

use crate::accounts::{throttle, LoginId};
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
    let login = LoginId::parse(&form.login);
    let throttle_key = login.as_ref().map(LoginId::as_str).unwrap_or("-");
    if throttle::is_throttled(
        &*app.ephemeral,
        &app.config.throttle,
        throttle_key,
        &form.address,
    )
    .await?
    {
        metrics::counter!("educonnect_logins_total", "result" => "throttled").increment(1);
        return Ok(LoginResult::Rejected {
            tx,
            message: THROTTLED,
        });
    }
    let account = match &login {
        Some(login) => app.durable.account_by_login(login.as_str()).await?,
        None => None,
    };
    let usable = account.as_ref().filter(|a| a.state.can_log_in());
    // Unknown logins still pay for one argon2 verification: the timing tells nothing.
    let verification = app
        .passwords
        .verify(
            &form.password,
            usable.and_then(|a| a.password_hash.as_deref()),
        )
        .await?;
    let Some(account) = usable.filter(|_| verification.ok) else {
        throttle::record_failure(
            &*app.ephemeral,
            &app.config.throttle,
            throttle_key,
            &form.address,
        )
        .await?;
        metrics::counter!("educonnect_logins_total", "result" => "failed").increment(1);
        return Ok(LoginResult::Rejected {
            tx,
            message: WRONG_CREDENTIALS,
        });
    };
    throttle::record_success(&*app.ephemeral, throttle_key).await?;
    if verification.needs_rehash {
        let hash = app.passwords.hash(&form.password).await?;
        app.durable
            .set_password_hash(&account.id, &hash, app.now_ms())
            .await?;
    }
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
