//! The consent page's answer.

use crate::app::App;
use crate::error::OAuthError;
use crate::oidc::authorize::{self, transaction, AuthorizationResponse, Browser, Outcome};
use crate::oidc::session::Session;

const EXPIRED: &str =
    "Cette page a expiré. Retournez sur l'application pour vous connecter à nouveau.";

pub async fn answer(
    app: &App,
    tx_id: &str,
    csrf: &str,
    approve: bool,
    session: Option<Session>,
    browser: &Browser,
) -> anyhow::Result<Outcome> {
    let Some(tx) = transaction::load(app, tx_id).await? else {
        return Ok(Outcome::ErrorPage(EXPIRED.into()));
    };
    // The consent belongs to the browser that was shown the page (review #13.2), to the person
    // logged in there, and to this page.
    let Some(session) = session.filter(|s| tx.account_id.as_deref() == Some(s.account_id.as_str()))
    else {
        return Ok(Outcome::ErrorPage(EXPIRED.into()));
    };
    // A sign-in to Mon compte has no relying party to consent to.
    let Some(request) = tx.request.clone() else {
        return Ok(Outcome::ErrorPage(EXPIRED.into()));
    };
    if !tx.answered_by(browser, csrf) || !transaction::finish(app, &tx.id).await? {
        return Ok(Outcome::ErrorPage(EXPIRED.into()));
    }
    if !approve {
        let error = OAuthError::new(crate::error::ErrorCode::AccessDenied, "the person refused");
        return Ok(Outcome::Reply(AuthorizationResponse::error(
            &request.reply_to(),
            app.issuer(),
            &error,
        )));
    }
    let Some(client) = app.client(&request.client_id).await? else {
        return Ok(Outcome::ErrorPage(EXPIRED.into()));
    };
    app.durable
        .put_consent(
            &session.account_id,
            &client.id,
            request.scopes.as_vec(),
            app.now_ms(),
        )
        .await?;
    authorize::continue_authenticated(app, request, client, &session, true, browser).await
}
