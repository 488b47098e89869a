//! « Mon mot de passe » (`/gestion/mot-de-passe`): a staff member replaces their password —
//! the initial one an operator or their head handed over, or any later one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::chrome::{Chrome, Section};
use super::signed::{internal, private, Signed};
use crate::app::AppState;
use crate::http::pages;
use crate::secrets::Secret;
use crate::staff::signin::{self, PasswordChangeError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/gestion/mot-de-passe", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "backoffice/password.html")]
struct PasswordPage {
    chrome: Option<Chrome>,
    csrf: String,
    login: String,
    done: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

fn render(signed: &Signed, status: StatusCode, done: bool, error: Option<String>) -> Response {
    let page = PasswordPage {
        chrome: Some(Chrome::new(signed, Section::Home)),
        csrf: signed.csrf(),
        login: signed.staff.login.clone(),
        done,
        error,
    };
    private(pages::render_with_script(status, &page))
}

pub async fn page(signed: Signed, Query(q): Query<Done>) -> Response {
    render(&signed, StatusCode::OK, q.fait == "1", None)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn submit(
    State(app): State<AppState>,
    signed: Signed,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refused(&form.csrf) {
        return refused;
    }
    let address = signed.actor.address().unwrap_or_default().to_owned();
    let changed = signin::change_password(
        &app,
        &signed.staff,
        &signed.session,
        &Secret::from_presented(&form.current),
        Secret::from_presented(&form.password),
        &Secret::from_presented(&form.confirm),
        &address,
    )
    .await;
    match changed {
        Ok(Ok(())) => Redirect::to("/gestion/mot-de-passe?fait=1").into_response(),
        Ok(Err(error)) => {
            let status = match error {
                PasswordChangeError::Throttled => StatusCode::TOO_MANY_REQUESTS,
                PasswordChangeError::WrongCurrent => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            render(&signed, status, false, Some(error.to_string()))
        }
        Err(error) => internal(error),
    }
}
