//! The self-registration pages (`selfservice::registration`): the number form, then one form
//! action for every step of the flow.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use axum_extra::extract::Form;
use serde::Deserialize;

use super::authorize::{browser_of, uncached};
use super::browser_cookies;
use super::error::internal_page;
use super::pages;
use crate::app::AppState;
use crate::oidc::authorize::Browser;
use crate::secrets::Secret;
use crate::selfservice::registration::{self, Answer, EmailStage, Next, Page, View};

const EXPIRED: &str = "Cette démarche a expiré ou a été ouverte dans un autre navigateur. \
                       Recommencez la création de votre compte.";
const TOO_MANY: &str = "Trop de démarches ont été commencées depuis votre connexion. \
                        Réessayez dans une minute.";
const BAD_NUMBER: &str =
    "Saisissez un numéro de téléphone portable français, par exemple 06 12 34 56 78.";

/// What the page shows: the number form, or a step of the flow.
enum Shown<'a> {
    Number,
    Step(&'a Page),
}

#[derive(Template)]
#[template(path = "selfservice/registration.html")]
struct RegistrationPage<'a> {
    page: Shown<'a>,
    flow: &'a str,
    csrf: &'a str,
    /// The number form's login transaction (maybe empty).
    start_tx: &'a str,
    /// The flow's live login transaction.
    tx: Option<&'a str>,
    error: Option<&'a str>,
    info: Option<&'a str>,
    /// Started from a FranceConnect tie: its flow and CSRF token.
    tie: Option<(&'a str, &'a str)>,
}

fn number_page(status: StatusCode, tx: &str, error: Option<&str>) -> Response {
    uncached(pages::render(
        status,
        &RegistrationPage {
            page: Shown::Number,
            flow: "",
            csrf: "",
            start_tx: tx,
            tx: None,
            error,
            info: None,
            tie: None,
        },
    ))
}

fn render(view: &View) -> Response {
    let status = match (&view.error, view.throttled) {
        (_, true) => StatusCode::TOO_MANY_REQUESTS,
        (Some(_), false) => StatusCode::BAD_REQUEST,
        (None, false) => StatusCode::OK,
    };
    uncached(pages::render(
        status,
        &RegistrationPage {
            page: Shown::Step(&view.page),
            flow: &view.flow_id,
            csrf: &view.csrf,
            start_tx: "",
            tx: view.tx.as_deref(),
            error: view.error.as_deref(),
            info: view.info.as_deref(),
            tie: view.tie.as_ref().map(|(f, c)| (f.as_str(), c.as_str())),
        },
    ))
}

pub(super) fn answered(result: anyhow::Result<Next>, tx: &str) -> Response {
    match result {
        Ok(Next::Show(view)) => render(&view),
        Ok(Next::BadNumber) => number_page(StatusCode::BAD_REQUEST, tx, Some(BAD_NUMBER)),
        Ok(Next::TooMany) => pages::error_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY),
        Ok(Next::Expired) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    tx: String,
}

#[tracing::instrument(skip_all)]
pub async fn page(
    State(app): State<AppState>,
    jar: CookieJar,
    Query(query): Query<StartQuery>,
) -> Response {
    // The flow started by the next form is bound to this browser.
    let (jar, _) = browser_cookies::ensure_binding(&app, jar);
    (jar, number_page(StatusCode::OK, &query.tx, None)).into_response()
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    mobile: String,
}

#[tracing::instrument(skip_all)]
pub async fn start(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<StartForm>,
) -> Response {
    let (jar, binding) = browser_cookies::ensure_binding(&app, jar);
    let browser = Browser {
        binding,
        address: super::authorize::client_address(&app, peer, &headers),
    };
    let tx = Some(form.tx.clone());
    let result = registration::start(&app, &form.mobile, tx, &browser).await;
    (jar, answered(result, &form.tx)).into_response()
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    date: Vec<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    email: String,
}

#[tracing::instrument(skip_all)]
pub async fn step(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<StepForm>,
) -> Response {
    let answer = match form.action.as_str() {
        "code" => Answer::Code { code: form.code },
        "resend" => Answer::Resend,
        "choose" => Answer::Choose {
            account_id: form.account,
        },
        "dates" => Answer::Dates { dates: form.date },
        "password" => Answer::Password {
            password: Secret::from_presented(&form.password),
            confirm: Secret::from_presented(&form.confirm),
        },
        "send_email" => Answer::SendEmail {
            address: form.email,
        },
        "email_code" => Answer::EmailCode { code: form.code },
        _ => return pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
    };
    let browser = browser_of(&app, peer, &headers, &jar);
    let result = registration::answer(&app, &form.flow, &form.csrf, &browser, answer).await;
    answered(result, "")
}
