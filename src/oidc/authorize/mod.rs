//! The authorization endpoint (OpenID Connect Core §3.1.2) as a pipeline read top to bottom:
//! identify the client and trust its redirect URI (else an error page), validate the request
//! (else an error response to the RP), then decide: login, consent, or a code.

mod checks;
pub mod code;
pub mod request;
pub mod respond;
pub mod transaction;

use checks::{PageError, Params};
pub use request::{AuthorizationRequest, Prompt, ReplyTo, ResponseMode};
pub use respond::AuthorizationResponse;
pub use transaction::{Browser, Transaction};

use crate::app::App;
use crate::clients::Client;
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::form::FormPairs;
use crate::oidc::scope::Scopes;
use crate::oidc::session::{self, Session};
use crate::tokens::jwt;

/// What the endpoint does next (short-lived: its size does not matter).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Nothing may be sent to the RP (unknown client, unregistered redirect URI).
    ErrorPage(String),
    /// A code or an error, to the RP's redirect URI.
    Reply(AuthorizationResponse),
    Login(Transaction),
    /// A sign-in to Mon compte completed: on to the account's pages.
    Account,
    Consent(Transaction, Client),
    /// The browser's address started too many transactions (review #13.5).
    TooManyRequests,
}

enum Invalid {
    Page(PageError),
    Reply(ReplyTo, OAuthError),
}

/// Runs the authorization endpoint for the request's parameters (query or form) and the SSO
/// session of the browser, if any.
pub async fn authorize(
    app: &App,
    form: FormPairs,
    session: Option<Session>,
    browser: &Browser,
) -> anyhow::Result<Outcome> {
    let (request, client) = match validate(app, form).await? {
        Ok(valid) => valid,
        Err(Invalid::Page(PageError(message))) => return Ok(Outcome::ErrorPage(message)),
        Err(Invalid::Reply(reply, error)) => {
            return Ok(Outcome::Reply(AuthorizationResponse::error(
                &reply,
                app.issuer(),
                &error,
            )))
        }
    };
    decide(app, request, client, session, browser).await
}

async fn validate(
    app: &App,
    form: FormPairs,
) -> anyhow::Result<Result<(AuthorizationRequest, Client), Invalid>> {
    let malformed = form.malformed;
    let (params, repeated) = Params::new(form.pairs);
    let page = |e: PageError| Ok(Err(Invalid::Page(e)));
    // Until the redirect URI is trusted, nothing goes back to the RP.
    if let Err(e) = checks::check_no_repeated_identity(&repeated, &malformed) {
        return page(e);
    }
    let client_id = match checks::check_client_id(&params) {
        Ok(id) => id,
        Err(e) => return page(e),
    };
    let client = match checks::check_client_known(app.client(client_id).await?) {
        Ok(client) => client,
        Err(e) => return page(e),
    };
    let redirect_uri = match checks::check_redirect_uri(&params, &client) {
        Ok(uri) => uri,
        Err(e) => return page(e),
    };
    // `state` is echoed untouched or not at all: one too long (or not UTF-8, then absent from
    // `params`) is refused below without being sent back.
    let state = params
        .get("state")
        .filter(|s| checks::max_length("state").is_none_or(|max| s.len() <= max))
        .map(str::to_owned);
    let mut reply = ReplyTo {
        redirect_uri,
        response_mode: ResponseMode::Query,
        state,
    };
    let refuse = |reply: ReplyTo, e: OAuthError| Ok(Err(Invalid::Reply(reply, e)));
    match checks::check_response_mode(&params) {
        Ok(mode) => reply.response_mode = mode,
        Err(e) => return refuse(reply, e),
    }
    // From here on, every failure is an error response to the trusted redirect URI.
    let checked = (|| {
        checks::check_utf8(&malformed)?;
        checks::check_no_repeated_parameters(&repeated)?;
        checks::check_lengths(&params)?;
        checks::check_no_request_object(&params)?;
        checks::check_response_type(&params)?;
        checks::check_client_may_use_code(&client)?;
        let scopes = checks::check_scope(&params, &client)?;
        let code_challenge = checks::check_pkce(&params)?;
        let prompt = checks::check_prompt(&params)?;
        let max_age = checks::check_max_age(&params)?;
        Ok::<_, OAuthError>((scopes, code_challenge, prompt, max_age))
    })();
    let (scopes, code_challenge, prompt, max_age) = match checked {
        Ok(values) => values,
        Err(e) => return refuse(reply, e),
    };
    let hinted_sub = match params.get("id_token_hint") {
        None => None,
        Some(hint) => match hinted_subject(app, hint, &client).await? {
            Some(sub) => Some(sub),
            None => {
                return refuse(
                    reply,
                    OAuthError::invalid_request("id_token_hint is not a valid ID token of ours"),
                )
            }
        },
    };
    let request = AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: reply.redirect_uri,
        response_mode: reply.response_mode,
        scopes,
        state: reply.state,
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        hinted_sub,
        login_hint: params.get("login_hint").map(str::to_owned),
        ui_locales: params.get("ui_locales").map(str::to_owned),
        acr_values: params.get("acr_values").map(str::to_owned),
    };
    Ok(Ok((request, client)))
}

/// OpenID Connect Core §3.1.2.1: an ID token we issued to this client, expired or not.
async fn hinted_subject(app: &App, hint: &str, client: &Client) -> anyhow::Result<Option<String>> {
    let Ok(claims) = jwt::verify(&app.keys, app.issuer(), hint, None).await? else {
        return Ok(None);
    };
    let audience_ok = match &claims["aud"] {
        serde_json::Value::String(aud) => aud == &client.id,
        serde_json::Value::Array(auds) => {
            auds.iter().any(|a| a.as_str() == Some(client.id.as_str()))
        }
        _ => false,
    };
    Ok(claims["sub"]
        .as_str()
        .filter(|_| audience_ok)
        .map(str::to_owned))
}

/// Whether the session can answer this request without a new login.
fn session_suffices(app: &App, request: &AuthorizationRequest, session: &Session) -> bool {
    if request.prompt.login || request.prompt.select_account {
        return false;
    }
    // OpenID Connect Core §3.1.2.1 max_age: re-authenticate when the last one is older.
    if let Some(max_age) = request.max_age {
        if app.clock.now_secs() - session.auth_time > max_age {
            return false;
        }
    }
    // The RP expects this person: another one is logged in here.
    request
        .hinted_sub
        .as_ref()
        .is_none_or(|sub| *sub == session.account_id)
}

async fn decide(
    app: &App,
    request: AuthorizationRequest,
    client: Client,
    session: Option<Session>,
    browser: &Browser,
) -> anyhow::Result<Outcome> {
    let session = session.filter(|s| session_suffices(app, &request, s));
    let Some(session) = session else {
        if request.prompt.none {
            let error = OAuthError::new(ErrorCode::LoginRequired, "the person must log in");
            return Ok(Outcome::Reply(AuthorizationResponse::error(
                &request.reply_to(),
                app.issuer(),
                &error,
            )));
        }
        return Ok(
            match transaction::start(app, Some(request), None, browser).await? {
                Some(tx) => Outcome::Login(tx),
                None => Outcome::TooManyRequests,
            },
        );
    };
    continue_authenticated(app, request, client, &session, false, browser).await
}

/// After authentication: ask for consent if needed, else issue the code. `consented` is set when
/// the person just answered the consent page.
pub async fn continue_authenticated(
    app: &App,
    request: AuthorizationRequest,
    client: Client,
    session: &Session,
    consented: bool,
    browser: &Browser,
) -> anyhow::Result<Outcome> {
    if !consented && needs_consent(app, &request, &client, session).await? {
        if request.prompt.none {
            let error = OAuthError::new(ErrorCode::ConsentRequired, "the person must consent");
            return Ok(Outcome::Reply(AuthorizationResponse::error(
                &request.reply_to(),
                app.issuer(),
                &error,
            )));
        }
        let account = Some(session.account_id.clone());
        return Ok(
            match transaction::start(app, Some(request), account, browser).await? {
                Some(tx) => Outcome::Consent(tx, client),
                None => Outcome::TooManyRequests,
            },
        );
    }
    let code = code::issue(app, &request, session).await?;
    session::add_client(app, session, &client.id).await?;
    Ok(Outcome::Reply(AuthorizationResponse::code(
        &request.reply_to(),
        app.issuer(),
        code.expose(),
    )))
}

async fn needs_consent(
    app: &App,
    request: &AuthorizationRequest,
    client: &Client,
    session: &Session,
) -> anyhow::Result<bool> {
    if request.prompt.consent {
        return Ok(true);
    }
    // offline_access needs explicit consent (OpenID Connect Core §11).
    let sensitive = client.require_consent || request.scopes.contains("offline_access");
    if !sensitive {
        return Ok(false);
    }
    let given = Scopes::parse(
        &app.durable
            .consented_scopes(&session.account_id, &client.id)
            .await?
            .join(" "),
    );
    Ok(!request.scopes.is_subset_of(&given))
}
