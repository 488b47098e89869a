//! The pages of a forgotten password and a forgotten identifier (`selfservice::recovery`,
//! `selfservice::identifiers`): handlers only. Every answer is `no-store`; the layout already
//! sends `Referrer-Policy: no-referrer` (the link's page would otherwise leak its token).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use axum_extra::extract::Form;
use serde::Deserialize;
use tokio::time::Instant;

use super::authorize::{browser_of, client_address, uncached};
use super::browser_cookies::ensure_binding;
use super::error::internal_page;
use super::pages;
use crate::app::AppState;
use crate::oidc::authorize::Browser;
use crate::secrets::Secret;
use crate::selfservice::identifiers::{self, Page as IdentifierPage};
use crate::selfservice::recovery::{self, Channel, Page, LINK_PATH};
use crate::selfservice::services::Services;

const EXPIRED: &str =
    "Cette page a expiré. Recommencez votre demande depuis la page de connexion de votre \
     application.";
const TOO_MANY: &str = "Trop de demandes depuis votre réseau. Réessayez dans une minute.";
const LINK_INVALID: &str = "Ce lien n'est plus valable : il a déjà servi, ou il a expiré. \
     Faites une nouvelle demande avec « Mot de passe oublié ? » sur la page de connexion.";

#[derive(Template)]
#[template(path = "selfservice/recovery_form.html")]
struct FormPage<'a> {
    flow: &'a str,
    csrf: &'a str,
    tx: Option<&'a str>,
    login: &'a str,
    channel: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "selfservice/recovery_sent.html")]
struct SentPage<'a> {
    tx: Option<&'a str>,
    minutes: u64,
}

#[derive(Template)]
#[template(path = "selfservice/recovery_code.html")]
struct CodePage<'a> {
    flow: &'a str,
    csrf: &'a str,
    minutes: u64,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "selfservice/recovery_password.html")]
struct PasswordPage<'a> {
    action: &'a str,
    flow: &'a str,
    csrf: &'a str,
    token: Option<&'a str>,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "selfservice/recovery_done.html")]
struct DonePage<'a> {
    tx: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "selfservice/identifier_form.html")]
struct IdentifierFormPage<'a> {
    flow: &'a str,
    csrf: &'a str,
    tx: Option<&'a str>,
    contact: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "selfservice/identifier_sent.html")]
struct IdentifierSentPage<'a> {
    tx: Option<&'a str>,
}

fn status_of(error: &Option<String>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// What was typed, shown again on a refused form.
#[derive(Default)]
struct Typed<'a> {
    login: &'a str,
    channel: &'a str,
}

fn render(app: &AppState, page: Page, typed: Typed<'_>) -> Response {
    let minutes = app.config.selfservice.recovery_link_seconds / 60;
    let response = match &page {
        Page::Form { ids, error } => pages::render(
            status_of(error),
            &FormPage {
                flow: &ids.flow,
                csrf: &ids.csrf,
                tx: ids.tx.as_deref(),
                login: typed.login,
                channel: typed.channel,
                error: error.as_deref(),
            },
        ),
        Page::LinkSent { tx } => pages::render(
            StatusCode::OK,
            &SentPage {
                tx: tx.as_deref(),
                minutes,
            },
        ),
        Page::Code { ids, error } => pages::render(
            status_of(error),
            &CodePage {
                flow: &ids.flow,
                csrf: &ids.csrf,
                minutes: app.config.codes.ttl_seconds / 60,
                error: error.as_deref(),
            },
        ),
        Page::NewPassword { ids, token, error } => pages::render(
            status_of(error),
            &PasswordPage {
                action: if token.is_some() {
                    LINK_PATH
                } else {
                    "/mot-de-passe-oublie"
                },
                flow: &ids.flow,
                csrf: &ids.csrf,
                token: token.as_deref(),
                error: error.as_deref(),
            },
        ),
        Page::Done { tx } => pages::render(StatusCode::OK, &DonePage { tx: tx.as_deref() }),
        Page::LinkInvalid => pages::error_page(StatusCode::BAD_REQUEST, LINK_INVALID),
        Page::Expired => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Page::TooMany => pages::error_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY),
    };
    uncached(response)
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    tx: Option<String>,
}

/// A browser that opens a self-service page directly (a link in an e-mail) gets its binding
/// cookie here, as `/authorize` gives one.
fn bound_browser(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    jar: CookieJar,
) -> (CookieJar, Browser) {
    let (jar, binding) = ensure_binding(app, jar);
    let address = client_address(app, peer, headers);
    (jar, Browser { binding, address })
}

#[tracing::instrument(skip_all)]
pub async fn password_start(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<StartQuery>,
) -> Response {
    let (jar, browser) = bound_browser(&app, peer, &headers, jar);
    match recovery::start(&Services::of(&app), &browser, query.tx).await {
        Ok(page) => (jar, render(&app, page, Typed::default())).into_response(),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    jeton: String,
}

#[tracing::instrument(skip_all)]
pub async fn password_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Response {
    let started = Instant::now();
    let browser = browser_of(&app, peer, &headers, &jar);
    let s = Services::of(&app);
    let ids = (form.flow.as_str(), form.csrf.as_str());
    let channel = match form.channel.as_str() {
        "email" => Some(Channel::Email),
        "sms" => Some(Channel::Sms),
        _ => None,
    };
    let result = match form.action.as_str() {
        "request" => recovery::request(&s, started, &browser, ids, &form.login, channel).await,
        "code" => recovery::enter_code(&s, &browser, ids, &form.code).await,
        "password" => {
            let password = Secret::from_presented(&form.password);
            let confirm = Secret::from_presented(&form.confirm);
            recovery::set_after_code(&s, &browser, ids, password, &confirm).await
        }
        _ => Ok(Page::Expired),
    };
    let typed = Typed {
        login: &form.login,
        channel: &form.channel,
    };
    match result {
        Ok(page) => render(&app, page, typed),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    jeton: String,
}

#[tracing::instrument(skip_all)]
pub async fn link_page(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<LinkQuery>,
) -> Response {
    let (jar, browser) = bound_browser(&app, peer, &headers, jar);
    match recovery::open_link(&Services::of(&app), &browser, &query.jeton).await {
        Ok(page) => (jar, render(&app, page, Typed::default())).into_response(),
        Err(e) => internal_page(e),
    }
}

#[tracing::instrument(skip_all)]
pub async fn link_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    let ids = (form.flow.as_str(), form.csrf.as_str());
    let password = Secret::from_presented(&form.password);
    let confirm = Secret::from_presented(&form.confirm);
    let s = Services::of(&app);
    match recovery::set_from_link(&s, &browser, ids, &form.jeton, password, &confirm).await {
        Ok(page) => render(&app, page, Typed::default()),
        Err(e) => internal_page(e),
    }
}

fn render_identifier(page: IdentifierPage, contact: &str) -> Response {
    let response = match &page {
        IdentifierPage::Form { ids, error } => pages::render(
            status_of(error),
            &IdentifierFormPage {
                flow: &ids.flow,
                csrf: &ids.csrf,
                tx: ids.tx.as_deref(),
                contact,
                error: error.as_deref(),
            },
        ),
        IdentifierPage::Sent { tx } => {
            pages::render(StatusCode::OK, &IdentifierSentPage { tx: tx.as_deref() })
        }
        IdentifierPage::Expired => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        IdentifierPage::TooMany => pages::error_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY),
    };
    uncached(response)
}

#[tracing::instrument(skip_all)]
pub async fn identifier_start(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<StartQuery>,
) -> Response {
    let (jar, browser) = bound_browser(&app, peer, &headers, jar);
    match identifiers::start(&Services::of(&app), &browser, query.tx).await {
        Ok(page) => (jar, render_identifier(page, "")).into_response(),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct IdentifierForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    contact: String,
}

#[tracing::instrument(skip_all)]
pub async fn identifier_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<IdentifierForm>,
) -> Response {
    let started = Instant::now();
    let browser = browser_of(&app, peer, &headers, &jar);
    let ids = (form.flow.as_str(), form.csrf.as_str());
    let s = Services::of(&app);
    match identifiers::remind(&s, started, &browser, ids, &form.contact).await {
        Ok(page) => render_identifier(page, &form.contact),
        Err(e) => internal_page(e),
    }
}
