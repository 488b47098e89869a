//! The activation pages (`oidc::login::activation`): one page per step, one form action.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use axum_extra::extract::Form;
use serde::Deserialize;

use super::authorize::{browser_of, render_outcome, uncached, TxQuery, EXPIRED};
use super::error::internal_page;
use super::{pages, session_cookie};
use crate::app::AppState;
use crate::oidc::login::activation::{self, Answer, Next, Step, View};
use crate::secrets::Secret;

#[derive(Template)]
#[template(path = "public/activation.html")]
struct ActivationPage<'a> {
    tx: &'a str,
    csrf: &'a str,
    login: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    number: usize,
    of: usize,
    title: &'a str,
    step: &'a Step,
    error: Option<&'a str>,
    info: Option<&'a str>,
}

fn render(view: &View) -> Response {
    let title = match view.step {
        Step::Password => "mon mot de passe",
        Step::Email { .. } | Step::Code { .. } => "mon adresse électronique",
        Step::Children(_) => "mes enfants",
    };
    let status = if view.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    uncached(pages::render(
        status,
        &ActivationPage {
            tx: &view.tx.id,
            csrf: &view.tx.csrf,
            login: &view.account.login,
            given_name: &view.account.given_name,
            family_name: &view.account.family_name,
            number: view.number,
            of: view.of,
            title,
            step: &view.step,
            error: view.error.as_deref(),
            info: view.info.as_deref(),
        },
    ))
}

pub async fn page(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<TxQuery>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    match activation::page(&app, &query.tx, &browser).await {
        Ok(Some(view)) => render(&view),
        Ok(None) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct ActivationForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    not_mine: Vec<String>,
}

#[tracing::instrument(skip_all)]
pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<ActivationForm>,
) -> Response {
    let answer = match form.action.as_str() {
        "password" => Answer::Password {
            password: Secret::from_presented(&form.password),
            confirm: Secret::from_presented(&form.confirm),
        },
        "send_code" => Answer::SendCode {
            address: form.email,
        },
        "resend_code" => Answer::ResendCode,
        "change_address" => Answer::ChangeAddress,
        "skip_email" => Answer::SkipEmail,
        "code" => Answer::Code { code: form.code },
        "children" => Answer::Children {
            not_mine: form.not_mine,
        },
        _ => return pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
    };
    let browser = browser_of(&app, peer, &headers, &jar);
    let result = async {
        let previous = session_cookie::current(&app, &jar).await?;
        activation::answer(&app, &form.tx, &form.csrf, &browser, answer, previous).await
    };
    match result.await {
        Ok(Next::Expired) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Ok(Next::Show(view)) => render(&view),
        Ok(Next::Completed(completed)) => {
            let jar = session_cookie::set(&app, jar, &completed.cookie);
            (jar, render_outcome(completed.outcome)).into_response()
        }
        Err(e) => internal_page(e),
    }
}
