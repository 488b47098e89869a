//! Mon compte's own sign-in and sign-out. The sign-in is the login of the relying parties
//! (its page, throttles, activation at first login, trusted devices) for a transaction with no
//! relying party: it ends on `/compte`. The sign-out ends the SSO session as the end-session
//! endpoint does (grants bound to it, back-channel logout of the services it reached).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{private, signed_in, EXPIRED};
use crate::app::AppState;
use crate::http::authorize::{client_address, login_redirect, TOO_MANY};
use crate::http::error::internal_page;
use crate::http::pages::{self, LoggedOutPage};
use crate::http::{browser_cookies, session_cookie};
use crate::oidc::authorize::{transaction, Browser};
use crate::oidc::logout;
use crate::secrets::constant_time_eq;

/// `/compte/connexion`: starts a sign-in to Mon compte (bound to this browser, limited per
/// address like every login transaction) and sends to the login page.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let (jar, binding) = browser_cookies::ensure_binding(&app, jar);
    let browser = Browser {
        binding,
        address: client_address(&app, peer, &headers),
    };
    match transaction::start(&app, None, None, &browser).await {
        Ok(Some(tx)) => (jar, private(login_redirect(&tx))).into_response(),
        Ok(None) => pages::error_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// `/compte/deconnexion`: ends the SSO session.
#[tracing::instrument(skip_all)]
pub async fn sign_out(
    State(app): State<AppState>,
    jar: CookieJar,
    Form(form): Form<SignOutForm>,
) -> Response {
    let result = async {
        let Some((session, _)) = signed_in(&app, &jar).await? else {
            return Ok(super::not_signed_in());
        };
        if !constant_time_eq(&form.csrf, &session.csrf_token()) {
            return Ok(private(pages::error_page(StatusCode::BAD_REQUEST, EXPIRED)));
        }
        logout::log_out(&app, &session).await?;
        Ok::<_, anyhow::Error>(
            (
                session_cookie::clear(&app, jar),
                private(pages::render(StatusCode::OK, &LoggedOutPage)),
            )
                .into_response(),
        )
    };
    result.await.unwrap_or_else(internal_page)
}
