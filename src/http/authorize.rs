//! Authorization endpoint, login page and consent page: extract, call the pipeline, render.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::error::internal_page;
use super::pages::{self, ConsentPage, FormPostPage, LoginPage};
use super::{browser_cookies, session_cookie};
use crate::app::{App, AppState};
use crate::oidc::authorize::{self, transaction, Browser, Outcome, ResponseMode, Transaction};
use crate::oidc::consent;
use crate::oidc::login::password::{self, LoginResult, Rejection, Submission};
use crate::secrets::Secret;

#[tracing::instrument(skip_all)]
pub async fn authorize(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    RawForm(raw): RawForm,
) -> Response {
    let form = crate::oidc::form::decode(&raw);
    let (jar, binding) = browser_cookies::ensure_binding(&app, jar);
    let browser = Browser {
        binding,
        address: client_address(&app, peer, &headers),
    };
    let result = async {
        let session = session_cookie::current(&app, &jar).await?;
        authorize::authorize(&app, form, session, &browser).await
    };
    match result.await {
        Ok(outcome) => (jar, render_outcome(outcome)).into_response(),
        Err(e) => internal_page(e),
    }
}

/// The browser of a request: its binding cookie and its address.
pub(super) fn browser_of(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    jar: &CookieJar,
) -> Browser {
    Browser {
        binding: browser_cookies::binding(jar),
        address: client_address(app, peer, headers),
    }
}

/// Turns what the pipeline decided into a page or a redirect.
pub fn render_outcome(outcome: Outcome) -> Response {
    let response = match outcome {
        Outcome::ErrorPage(message) => pages::error_page(StatusCode::BAD_REQUEST, &message),
        Outcome::Reply(reply) => match reply.mode {
            ResponseMode::Query => Redirect::to(&reply.redirect_url()).into_response(),
            ResponseMode::FormPost => {
                let fields = reply.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                pages::form_post(&FormPostPage {
                    action: reply.redirect_uri.as_str(),
                    fields,
                })
            }
        },
        Outcome::Login(tx) => login_redirect(&tx),
        Outcome::Account => Redirect::to("/compte").into_response(),
        Outcome::TooManyRequests => pages::error_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY),
        Outcome::Consent(tx, client) => pages::render(
            StatusCode::OK,
            &ConsentPage {
                client_name: &client.name,
                tx: &tx.id,
                csrf: &tx.csrf,
                scopes: tx
                    .request
                    .iter()
                    .flat_map(|request| request.scopes.iter())
                    .filter_map(crate::oidc::scope::label)
                    .collect(),
            },
        ),
    };
    uncached(response)
}

/// Pages of the flow carry one-time values: never cached.
pub(super) fn uncached(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

pub(super) fn login_redirect(tx: &Transaction) -> Response {
    let mut url = url::Url::parse("http://localhost/login").expect("static URL");
    url.query_pairs_mut().append_pair("tx", &tx.id);
    let target = format!("/login?{}", url.query().unwrap_or_default());
    Redirect::to(&target).into_response()
}

#[derive(Deserialize)]
pub struct TxQuery {
    pub(super) tx: String,
}

pub(super) const EXPIRED: &str =
    "Cette page de connexion a expiré. Retournez sur l'application pour vous connecter à nouveau.";
/// Where a sign-in without a relying party leads (the login page's "pour accéder à …").
const MON_COMPTE: &str = "Mon compte";
pub(super) const TOO_MANY: &str =
    "Trop de demandes de connexion depuis votre réseau. Réessayez dans une minute.";

pub async fn login_page(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<TxQuery>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    let tx = match transaction::load(&app, &query.tx).await {
        // Review #13.2: another browser would learn the page's CSRF token.
        Ok(Some(tx)) if tx.account_id.is_none() && tx.belongs_to(&browser) => tx,
        Ok(_) => return pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => return internal_page(e),
    };
    render_login(
        &app,
        &tx,
        tx.request
            .as_ref()
            .and_then(|request| request.login_hint.as_deref())
            .unwrap_or_default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The login page of the transaction `tx_id` again, with `message` (another method failed);
/// the expired page when the transaction is gone or another browser's.
pub(super) async fn login_page_with(
    app: &App,
    tx_id: &str,
    browser: &Browser,
    message: &str,
    status: StatusCode,
) -> Response {
    match transaction::load(app, tx_id).await {
        Ok(Some(tx)) if tx.account_id.is_none() && tx.belongs_to(browser) => {
            render_login(app, &tx, "", Some(message), status).await
        }
        Ok(_) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => internal_page(e),
    }
}

async fn render_login(
    app: &App,
    tx: &Transaction,
    login: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let client_name = match &tx.request {
        // A sign-in of its own: the page says it leads to Mon compte.
        None => MON_COMPTE.to_owned(),
        Some(request) => match app.client(&request.client_id).await {
            Ok(Some(client)) => client.name,
            Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
            Err(e) => return internal_page(e),
        },
    };
    uncached(pages::render(
        status,
        &LoginPage {
            client_name: &client_name,
            tx: &tx.id,
            csrf: &tx.csrf,
            login,
            message,
            franceconnect: app.franceconnect.is_some(),
        },
    ))
}

#[derive(Deserialize)]
pub struct LoginForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

#[tracing::instrument(skip_all)]
pub async fn login_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let typed_login = form.login.clone();
    let submission = Submission {
        tx_id: form.tx,
        csrf: form.csrf,
        login: form.login,
        password: Secret::from_presented(&form.password),
        browser: browser_of(&app, peer, &headers, &jar),
        devices: browser_cookies::devices(&jar),
    };
    let result = async {
        let previous = session_cookie::current(&app, &jar).await?;
        password::login(&app, submission, previous).await
    };
    match result.await {
        Ok(LoginResult::Expired) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Ok(LoginResult::Rejected { tx, rejection }) => {
            let status = match rejection {
                Rejection::Throttled => StatusCode::TOO_MANY_REQUESTS,
                Rejection::WrongCredentials | Rejection::TemporaryExpired => {
                    StatusCode::UNAUTHORIZED
                }
            };
            render_login(&app, &tx, &typed_login, Some(rejection.message()), status).await
        }
        Ok(LoginResult::Activation { tx_id }) => uncached(to_activation(&tx_id)),
        Ok(LoginResult::Completed {
            cookie,
            devices,
            outcome,
        }) => {
            let mut jar = session_cookie::set(&app, jar, &cookie);
            if let Some(devices) = devices {
                jar = browser_cookies::set_devices(&app, jar, &devices);
            }
            (jar, render_outcome(outcome)).into_response()
        }
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    tx: String,
    csrf: String,
    decision: String,
}

pub async fn consent_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<ConsentForm>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    let result = async {
        let session = session_cookie::current(&app, &jar).await?;
        consent::answer(
            &app,
            &form.tx,
            &form.csrf,
            form.decision == "approve",
            session,
            &browser,
        )
        .await
    };
    match result.await {
        Ok(outcome) => render_outcome(outcome),
        Err(e) => internal_page(e),
    }
}

/// The peer address, or behind a trusted proxy the address that proxy saw.
/// Where the login page sends a temporary password: the activation of its transaction.
fn to_activation(tx_id: &str) -> Response {
    let mut url = url::Url::parse("http://localhost/activation").expect("static URL");
    url.query_pairs_mut().append_pair("tx", tx_id);
    Redirect::to(&format!("/activation?{}", url.query().unwrap_or_default())).into_response()
}

pub fn client_address(app: &App, peer: SocketAddr, headers: &HeaderMap) -> String {
    if app.config.trust_forwarded_for {
        let header = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(address) = header.and_then(forwarded_client) {
            return address;
        }
    }
    peer.ip().to_string()
}

/// The right-most `X-Forwarded-For` entry: the one the proxy in front of us added. Entries to
/// its left come from the client and can say anything (a throttle keyed on them is dodged by
/// changing the header).
fn forwarded_client(header: &str) -> Option<String> {
    let last = header.rsplit(',').next()?.trim();
    last.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_proxy_s_own_entry_is_taken_not_the_client_s() {
        use super::forwarded_client;
        assert_eq!(forwarded_client("203.0.113.7"), Some("203.0.113.7".into()));
        // The client sent "1.2.3.4"; the proxy appended the address it saw.
        assert_eq!(
            forwarded_client("1.2.3.4, 203.0.113.7"),
            Some("203.0.113.7".into())
        );
        assert_eq!(
            forwarded_client("1.2.3.4, 2001:db8::1 "),
            Some("2001:db8::1".into())
        );
        assert_eq!(forwarded_client("1.2.3.4, not-an-address"), None);
        assert_eq!(forwarded_client(""), None);
    }
}
