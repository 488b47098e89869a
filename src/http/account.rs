//! "Mon compte": for a guardian, the children on the account, the accounts the import could not
//! tell apart from this one (confirmed with the other account's password, or declined), and
//! attaching a child with the child's login and password or an establishment's code. Reached
//! with the SSO session (after signing in to any service); forms carry a CSRF token derived from
//! the session.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::authorize::client_address;
use super::error::internal_page;
use super::pages;
use super::session_cookie;
use crate::accounts::affiliations::Child;
use crate::accounts::linking::{self, LinkCandidate, Proof, Refusal, Resolution};
use crate::accounts::{Account, Profile};
use crate::app::{App, AppState};
use crate::oidc::session::Session;
use crate::secrets::{constant_time_eq, Secret};

const NOT_SIGNED_IN: &str = "Vous n'êtes pas connecté. Connectez-vous d'abord à un service en \
    ligne avec EduConnect (votre espace numérique de travail, par exemple), puis revenez sur cette \
    page.";
const EXPIRED: &str = "Le formulaire a expiré. Rechargez la page et recommencez.";

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    guardian: bool,
    children: Vec<Child>,
    candidates: Vec<LinkCandidate>,
    csrf: String,
    success: Option<String>,
    error: Option<String>,
}

/// The signed-in account, if the session is live and the account usable.
async fn signed_in(app: &App, jar: &CookieJar) -> anyhow::Result<Option<(Session, Account)>> {
    let Some(session) = session_cookie::current(app, jar).await? else {
        return Ok(None);
    };
    let account = app.durable.account(&session.account_id).await?;
    Ok(account
        .filter(|a| a.state.can_log_in())
        .map(|a| (session, a)))
}

async fn render(
    app: &App,
    session: &Session,
    account: &Account,
    status: StatusCode,
    outcome: Result<Option<String>, String>,
) -> anyhow::Result<Response> {
    let guardian = account.profile != Profile::Pupil;
    let (children, candidates) = if guardian {
        let affiliations = app.durable.affiliations(&account.id).await?;
        let candidates = app.durable.candidates_of_account(&account.id).await?;
        (affiliations.children, candidates)
    } else {
        (Vec::new(), Vec::new())
    };
    let (success, error) = match outcome {
        Ok(success) => (success, None),
        Err(error) => (None, Some(error)),
    };
    Ok(pages::render(
        status,
        &AccountPage {
            given_name: &account.given_name,
            family_name: &account.family_name,
            login: &account.login,
            guardian,
            children,
            candidates,
            csrf: session.csrf_token(),
            success,
            error,
        },
    ))
}

pub async fn page(State(app): State<AppState>, jar: CookieJar) -> Response {
    let result = async {
        Ok::<_, anyhow::Error>(match signed_in(&app, &jar).await? {
            None => pages::error_page(StatusCode::UNAUTHORIZED, NOT_SIGNED_IN),
            Some((session, account)) => {
                render(&app, &session, &account, StatusCode::OK, Ok(None)).await?
            }
        })
    };
    result.await.unwrap_or_else(internal_page)
}

#[derive(Deserialize)]
pub struct AttachForm {
    csrf: String,
    proof: String,
    #[serde(default)]
    child_login: String,
    #[serde(default)]
    child_password: String,
    #[serde(default)]
    code: String,
}

pub async fn attach(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<AttachForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let result = async {
        let Some((session, account)) = signed_in(&app, &jar).await? else {
            return Ok(pages::error_page(StatusCode::UNAUTHORIZED, NOT_SIGNED_IN));
        };
        if !constant_time_eq(&form.csrf, &session.csrf_token()) {
            return Ok(pages::error_page(StatusCode::BAD_REQUEST, EXPIRED));
        }
        let proof = match form.proof.as_str() {
            "code" => Proof::Code(form.code),
            _ => Proof::Credentials {
                login: form.child_login,
                password: Secret::from_presented(&form.child_password),
            },
        };
        let outcome = linking::attach_child(&app, &account, proof, &address).await?;
        let (status, outcome) = match outcome {
            Ok(child) => (
                StatusCode::OK,
                Ok(Some(format!(
                    "{} {} est maintenant rattaché(e) à votre compte.",
                    child.given_name, child.family_name
                ))),
            ),
            Err(refusal) => (refusal_status(refusal), Err(refusal.to_string())),
        };
        render(&app, &session, &account, status, outcome).await
    };
    result.await.unwrap_or_else(internal_page)
}

#[derive(Deserialize)]
pub struct CandidateForm {
    csrf: String,
    action: String,
    other_login: String,
    #[serde(default)]
    password: String,
}

pub async fn candidate(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CandidateForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let result = async {
        let Some((session, account)) = signed_in(&app, &jar).await? else {
            return Ok(pages::error_page(StatusCode::UNAUTHORIZED, NOT_SIGNED_IN));
        };
        if !constant_time_eq(&form.csrf, &session.csrf_token()) {
            return Ok(pages::error_page(StatusCode::BAD_REQUEST, EXPIRED));
        }
        let outcome = if form.action == "reject" {
            decline(&app, &account, &form.other_login).await?
        } else {
            let password = Secret::from_presented(&form.password);
            linking::confirm_candidate(&app, &account, &form.other_login, &password, &address)
                .await?
                .map(|()| {
                    format!(
                        "Le compte {} est réuni avec celui-ci : ses enfants y sont rattachés.",
                        form.other_login
                    )
                })
        };
        let (status, outcome) = match outcome {
            Ok(message) => (StatusCode::OK, Ok(Some(message))),
            Err(refusal) => (refusal_status(refusal), Err(refusal.to_string())),
        };
        render(&app, &session, &account, status, outcome).await
    };
    result.await.unwrap_or_else(internal_page)
}

/// "Ce n'est pas moi": no proof needed to keep two accounts apart.
async fn decline(
    app: &App,
    account: &Account,
    other_login: &str,
) -> anyhow::Result<Result<String, Refusal>> {
    let candidates = app.durable.candidates_of_account(&account.id).await?;
    let Some(candidate) = candidates.iter().find(|c| c.other.login == other_login) else {
        return Ok(Err(Refusal::NotACandidate));
    };
    app.durable
        .resolve_candidate(
            &account.id,
            &candidate.other.id,
            Resolution::Reject,
            app.now_ms(),
        )
        .await?;
    Ok(Ok(format!(
        "C'est noté : le compte {other_login} reste distinct du vôtre."
    )))
}

fn refusal_status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::Throttled => StatusCode::TOO_MANY_REQUESTS,
        Refusal::WrongCredentials | Refusal::InvalidCode => StatusCode::UNAUTHORIZED,
        Refusal::NotAPupil | Refusal::NotAGuardian | Refusal::NotACandidate => {
            StatusCode::FORBIDDEN
        }
        Refusal::AlreadyAttached => StatusCode::CONFLICT,
    }
}
