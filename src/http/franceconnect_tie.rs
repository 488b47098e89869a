//! The tie pages (issue #18): a FranceConnect identity tied to no account yet is parked
//! (`oidc::login::tie::park`, from the callback) and `/franceconnect/rattachement` asks which
//! EduConnect account is the guardian's — by its identifier and password, or, without one,
//! through the self-registration's steps (`/inscription/etape` then, their done page coming
//! back here with `continue`). Handlers translate only.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::authorize::{browser_of, render_outcome, uncached};
use super::error::internal_page;
use super::{pages, registration, session_cookie};
use crate::app::AppState;
use crate::oidc::authorize::Browser;
use crate::oidc::login::tie::{self, Refusal, Tied, Tying};
use crate::oidc::login::Completed;
use crate::secrets::Secret;
use crate::selfservice::flow::Flow;
use crate::selfservice::registration as self_registration;

const EXPIRED: &str = "Cette démarche a expiré ou a été ouverte dans un autre navigateur. \
                       Retournez sur le service de votre établissement et reconnectez-vous.";
const TOO_MANY: &str = "Trop de démarches ont été commencées depuis votre connexion. \
                        Réessayez dans une minute.";

#[derive(Template)]
#[template(path = "public/franceconnect_tie.html")]
struct TiePage<'a> {
    flow: &'a str,
    csrf: &'a str,
    /// The pivot identity's given names and family name, as FranceConnect gives them.
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

fn tie_page(flow: &Flow<Tying>, login: &str, refusal: Option<&Refusal>) -> Response {
    let status = match refusal {
        None => StatusCode::OK,
        Some(Refusal::WrongCredentials) => StatusCode::UNAUTHORIZED,
        Some(Refusal::Throttled) => StatusCode::TOO_MANY_REQUESTS,
        Some(Refusal::Refused(_)) => StatusCode::FORBIDDEN,
    };
    uncached(pages::render(
        status,
        &TiePage {
            flow: &flow.id,
            csrf: &flow.csrf,
            given_name: &flow.state.pivot.given_name,
            family_name: &flow.state.pivot.family_name,
            login,
            error: refusal.map(Refusal::message),
        },
    ))
}

/// Where the callback sends an identity tied to no account: parked, then its page.
pub(super) async fn parked(
    app: &AppState,
    tx_id: String,
    identity: crate::federation::UpstreamIdentity,
    browser: &Browser,
) -> Response {
    match tie::park(app, tx_id, identity, browser).await {
        Ok(Some(flow)) => uncached(
            Redirect::to(&format!("/franceconnect/rattachement?flow={}", flow.id)).into_response(),
        ),
        Ok(None) => pages::error_page(StatusCode::TOO_MANY_REQUESTS, TOO_MANY),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    flow: String,
}

#[tracing::instrument(skip_all)]
pub async fn page(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<PageQuery>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    match tie::shown(&app, &query.flow, &browser).await {
        Ok(Some(flow)) => tie_page(&flow, "", None),
        Ok(None) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => internal_page(e),
    }
}

#[derive(Deserialize)]
pub struct TieForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    mobile: String,
}

#[tracing::instrument(skip_all)]
pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<TieForm>,
) -> Response {
    let browser = browser_of(&app, peer, &headers, &jar);
    if form.action == "register" {
        // The self-registration's steps, as the guardian's proof.
        let result = async {
            match tie::answered(&app, &form.flow, &form.csrf, &browser).await? {
                Some(flow) => self_registration::start_tying(&app, &form.mobile, &flow, &browser)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        return match result.await {
            Ok(Some(next)) => registration::answered(Ok(next), ""),
            Ok(None) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
            Err(e) => internal_page(e),
        };
    }
    let result = async {
        let previous = session_cookie::current(&app, &jar).await?;
        match form.action.as_str() {
            "password" => {
                let password = Secret::from_presented(&form.password);
                tie::by_password(
                    &app,
                    &form.flow,
                    &form.csrf,
                    &browser,
                    &form.login,
                    &password,
                    previous,
                )
                .await
            }
            "continue" => tie::resume(&app, &form.flow, &form.csrf, &browser, previous).await,
            _ => Ok(Tied::Expired),
        }
    };
    match result.await {
        Ok(Tied::Completed(Completed { cookie, outcome })) => {
            let jar = session_cookie::set(&app, jar, &cookie);
            (jar, render_outcome(outcome)).into_response()
        }
        Ok(Tied::Refused { flow, refusal }) => tie_page(&flow, &form.login, Some(&refusal)),
        Ok(Tied::Expired) => pages::error_page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => internal_page(e),
    }
}
