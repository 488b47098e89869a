//! Mon compte's password change (`/compte/mot-de-passe`). Changing it ends every session of the
//! account, this one too (`selfservice::password`): the page then says so and offers to sign in
//! again with the new password.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{private, render, signed_in, Refused, EXPIRED};
use crate::app::AppState;
use crate::http::authorize::client_address;
use crate::http::error::internal_page;
use crate::http::{pages, session_cookie};
use crate::secrets::{constant_time_eq, Secret};
use crate::selfservice::password::{self, PasswordChange, Refusal, Typed};

#[derive(Template)]
#[template(path = "account/password_changed.html")]
struct PasswordChangedPage;

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Refused {
        let status = match refusal {
            Refusal::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Refusal::WrongCurrent => StatusCode::UNAUTHORIZED,
            Refusal::Policy(_) => StatusCode::BAD_REQUEST,
        };
        Refused {
            status,
            message: refusal.to_string(),
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn change_password(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let result = async {
        let Some((session, account)) = signed_in(&app, &jar).await? else {
            return Ok(super::not_signed_in());
        };
        if !constant_time_eq(&form.csrf, &session.csrf_token()) {
            return Ok(private(pages::error_page(StatusCode::BAD_REQUEST, EXPIRED)));
        }
        let change = PasswordChange {
            verifier: app.credentials(),
            accounts: &*app.durable,
            passwords: &app.passwords,
            sessions: &app,
            audit: &*app.durable,
            outbox: &*app.durable,
            kek: app.keys.kek(),
            clock: &*app.clock,
        };
        let typed = Typed {
            current: Secret::from_presented(&form.current),
            new: Secret::from_presented(&form.new),
            confirm: Secret::from_presented(&form.confirm),
        };
        match password::change(&change, &account, typed, &address).await? {
            Ok(()) => Ok((
                session_cookie::clear(&app, jar),
                private(pages::render(StatusCode::OK, &PasswordChangedPage)),
            )
                .into_response()),
            Err(refusal) => {
                let refused = Refused::from(refusal);
                let message = Some(refused.message);
                render(&app, &session, &account, refused.status, None, message).await
            }
        }
    };
    result.await.unwrap_or_else(internal_page)
}
