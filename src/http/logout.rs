//! End-session endpoint and its confirmation form.

use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::error::internal_page;
use super::pages::{self, LoggedOutPage, LogoutConfirmPage};
use super::session_cookie;
use crate::app::AppState;
use crate::oidc::logout::{self, LogoutOutcome};

#[tracing::instrument(skip_all)]
pub async fn end_session(
    State(app): State<AppState>,
    jar: CookieJar,
    RawForm(raw): RawForm,
) -> Response {
    let form = crate::oidc::form::decode(&raw);
    let result = async {
        let session = session_cookie::current(&app, &jar).await?;
        logout::end_session(&app, form, session).await
    };
    match result.await {
        Ok(outcome) => render(&app, jar, outcome),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
}

pub async fn confirm(
    State(app): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let result = async {
        let session = session_cookie::current(&app, &jar).await?;
        logout::confirm_logout(&app, &form.csrf, session).await
    };
    match result.await {
        Ok(outcome) => render(&app, jar, outcome),
        Err(e) => internal_page(e),
    }
}

fn render(app: &crate::app::App, jar: CookieJar, outcome: LogoutOutcome) -> Response {
    match outcome {
        LogoutOutcome::Redirect(target) => (
            session_cookie::clear(app, jar),
            Redirect::to(target.as_str()),
        )
            .into_response(),
        LogoutOutcome::LoggedOut => (
            session_cookie::clear(app, jar),
            pages::render(StatusCode::OK, &LoggedOutPage),
        )
            .into_response(),
        LogoutOutcome::BadRequest(message) => pages::error_page(StatusCode::BAD_REQUEST, message),
        LogoutOutcome::Confirm { csrf } => {
            pages::render(StatusCode::OK, &LogoutConfirmPage { csrf: &csrf })
        }
    }
}
