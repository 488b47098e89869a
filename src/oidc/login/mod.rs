//! Logging in. A login method (`password.rs`; `activation.rs`, which follows a temporary
//! password; `franceconnect.rs`, an upstream identity tied to the account) proves who is at the browser and produces an [`Authenticated`]; then
//! [`complete`] does what every method shares: the parked authorization request is taken, the
//! browser's SSO session is replaced by one that records the method's `acr` and `amr`, and the
//! authorization resumes where it stopped. A new method is a new file here that ends in
//! `complete`: the authorization pipeline does not change.

pub mod activation;
pub mod franceconnect;
pub mod password;
pub mod tie;

use crate::accounts::Account;
use crate::app::App;
use crate::oidc::authorize::{self, transaction, Browser, Outcome, Transaction};
use crate::oidc::session::{self, Session, UpstreamIdToken};
use crate::secrets::Secret;

/// The authentication context classes the methods assert (discovery's `acr_values_supported`).
pub const ACR_VALUES: [&str; 1] = [PASSWORD_ACR];

/// Authentication context reference of a password login (eIDAS level "low"); an activation
/// completes one, and asserts the same.
pub const PASSWORD_ACR: &str = "eidas1";
/// RFC 8176: a password.
pub const PASSWORD_AMR: &str = "pwd";

/// What a login method proved: who is there, how (OpenID Connect Core §2 `acr`, RFC 8176
/// `amr`), and when (seconds since the epoch: `auth_time`).
pub struct Authenticated {
    pub account: Account,
    pub acr: String,
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// A login through an upstream provider: its ID token, kept with the session for the
    /// upstream logout.
    pub upstream_id_token: Option<UpstreamIdToken>,
}

/// A login completed: the new session's cookie, and where the authorization went on.
pub struct Completed {
    pub cookie: Secret,
    pub outcome: Outcome,
}

/// Completes a login for the transaction `tx`, which the method has checked belongs to this
/// browser. `None` when the transaction was taken meanwhile (a double submit): nothing started.
pub async fn complete(
    app: &App,
    tx: Transaction,
    who: Authenticated,
    previous: Option<Session>,
    browser: &Browser,
) -> anyhow::Result<Option<Completed>> {
    if !transaction::finish(app, &tx.id).await? {
        return Ok(None);
    }
    // The session id is renewed at login: the previous session (if any) ends here.
    if let Some(previous) = previous {
        session::destroy(app, &previous.sid).await?;
    }
    let (session, cookie) = session::create(
        app,
        &who.account.id,
        &who.acr,
        who.amr,
        who.auth_time,
        who.upstream_id_token,
    )
    .await?;
    metrics::counter!("educonnect_logins_total", "result" => "ok").increment(1);
    let outcome = resume(app, tx, &session, browser).await?;
    Ok(Some(Completed { cookie, outcome }))
}

/// The parked authorization request goes on, for the session just started.
async fn resume(
    app: &App,
    tx: Transaction,
    session: &Session,
    browser: &Browser,
) -> anyhow::Result<Outcome> {
    // A sign-in to Mon compte has no relying party to go back to.
    let Some(request) = tx.request else {
        return Ok(Outcome::Account);
    };
    let Some(client) = app.client(&request.client_id).await? else {
        return Ok(Outcome::ErrorPage(
            "Cette application n'est plus enregistrée.".into(),
        ));
    };
    authorize::continue_authenticated(app, request, client, session, false, browser).await
}
