//! FranceConnect's routes: `/franceconnect/connexion` (the login page's button, a form posting
//! `tx` and `csrf`) sends the login transaction's browser to FranceConnect
//! (`oidc::login::franceconnect::start`); `/franceconnect/retour` is the
//! callback (`finish`). A failure shows the transaction's login page again with the reason, so
//! the person logs in with a password instead and the relying party's request survives.
//! `franceconnect.post_logout_redirect` (`/franceconnect/deconnexion`) is where FranceConnect's
//! logout returns (`oidc::upstream_logout::returned`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::authorize::{browser_of, login_page_with, render_outcome, uncached, EXPIRED};
use super::error::internal_page;
use super::{pages, session_cookie};
use crate::app::AppState;
use crate::federation::CallbackParams;
use crate::oidc::login::franceconnect::{self, Failure, Returned, Started};
use crate::oidc::login::Completed;

#[derive(Deserialize)]
pub struct StartForm {
    tx: String,
    csrf: String,
}

#[tracing::instrument(skip_all)]
pub async fn start(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<StartForm>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    match franceconnect::start(&app, &form.tx, &form.csrf, &browser).await {
        Ok(Started::Upstream(url)) => uncached(Redirect::to(url.as_str()).into_response()),
        Ok(Started::Expired) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Ok(Started::Disabled) => StatusCode::NOT_FOUND.into_response(),
        Ok(Started::Unavailable { tx_id }) => {
            let message = Failure::Unavailable.message();
            login_page_with(
                &app,
                &tx_id,
                &browser,
                message,
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
        Err(e) => internal_page(e),
    }
}

#[tracing::instrument(skip_all)]
pub async fn callback(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(params): Query<CallbackParams>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    let result = async {
        let previous = session_cookie::current(&app, &jar).await?;
        franceconnect::finish(&app, params, &browser, previous).await
    };
    match result.await {
        Ok(Returned::Completed(Completed { cookie, outcome })) => {
            let jar = session_cookie::set(&app, jar, &cookie);
            (jar, render_outcome(outcome)).into_response()
        }
        Ok(Returned::Untied { tx_id, identity }) => {
            super::franceconnect_tie::parked(&app, tx_id, identity, &browser).await
        }
        Ok(Returned::Failed {
            tx_id: Some(tx_id),
            failure,
        }) => {
            let status = match failure {
                Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                Failure::Cancelled => StatusCode::OK,
                Failure::Refused | Failure::AccountRefused => StatusCode::FORBIDDEN,
            };
            login_page_with(&app, &tx_id, &browser, failure.message(), status).await
        }
        Ok(Returned::Failed { tx_id: None, .. } | Returned::Expired) => {
            pages::error_page(StatusCode::BAD_REQUEST, EXPIRED)
        }
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct LoggedOutQuery {
    #[serde(default)]
    state: String,
}

/// FranceConnect's return after its logout (`franceconnect.post_logout_redirect`): on to the
/// relying party's post-logout page, or ours.
pub async fn logged_out(
    State(app): State<AppState>,
    Query(query): Query<LoggedOutQuery>,
) -> Response {
    match crate::oidc::upstream_logout::returned(&app, &query.state).await {
        Ok(Some(target)) => Redirect::to(target.as_str()).into_response(),
        Ok(None) => pages::render(StatusCode::OK, &pages::LoggedOutPage),
        Err(e) => internal_page(e),
    }
}
