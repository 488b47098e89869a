//! "Mon compte": for a guardian, the children on the account, the accounts the import could not
//! tell apart from this one (confirmed with the other account's password, or declined), and
//! attaching a child with the child's login and password or an establishment's code. Reached
//! with the SSO session (after signing in to any service); forms carry a CSRF token derived from
//! the session. A form that succeeds redirects (303) back to the page, so reloading it never
//! sends a password again; one that fails shows the page again with the reason.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::authorize::client_address;
use super::error::internal_page;
use super::pages;
use super::session_cookie;
use crate::accounts::affiliations::Child;
use crate::accounts::linking::{self, LinkCandidate, Linker, Proof, Refusal};
use crate::accounts::{Account, Profile};
use crate::app::{App, AppState};
use crate::oidc::session::Session;
use crate::secrets::{constant_time_eq, Secret};

const NOT_SIGNED_IN: &str = "Vous n'êtes pas connecté. Connectez-vous d'abord à un service en \
    ligne avec EduConnect (votre espace numérique de travail, par exemple), puis revenez sur cette \
    page.";
const EXPIRED: &str = "Le formulaire a expiré. Rechargez la page et recommencez.";

/// What the page says after a form succeeded (`?fait=`).
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "rattache" => Some("L'enfant est maintenant rattaché à votre compte."),
        "reuni" => {
            Some("Les deux comptes n'en font plus qu'un : ses enfants sont rattachés à celui-ci.")
        }
        "distinct" => Some("C'est noté : ce compte reste distinct du vôtre."),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    guardian: bool,
    children: Vec<Child>,
    candidates: Vec<LinkCandidate>,
    csrf: String,
    success: Option<&'a str>,
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
    success: Option<&str>,
    error: Option<String>,
) -> anyhow::Result<Response> {
    let guardian = account.profile != Profile::Pupil;
    let (children, candidates) = if guardian {
        let affiliations = app.durable.affiliations(&account.id).await?;
        let candidates = app.durable.candidates_of_account(&account.id).await?;
        (affiliations.children, candidates)
    } else {
        (Vec::new(), Vec::new())
    };
    let page = AccountPage {
        given_name: &account.given_name,
        family_name: &account.family_name,
        login: &account.login,
        guardian,
        children,
        candidates,
        csrf: session.csrf_token(),
        success,
        error,
    };
    Ok(private(pages::render(status, &page)))
}

/// What the linking flows need, lent from the replica's state.
fn linker(app: &AppState) -> Linker<'_> {
    Linker {
        verifier: app.credentials(),
        links: &*app.durable,
        sessions: app,
    }
}

/// Names of children and a CSRF token: never cached.
fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn not_signed_in() -> Response {
    private(pages::error_page(StatusCode::FORBIDDEN, NOT_SIGNED_IN))
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    fait: String,
}

pub async fn page(
    State(app): State<AppState>,
    jar: CookieJar,
    Query(query): Query<PageQuery>,
) -> Response {
    let result = async {
        Ok::<_, anyhow::Error>(match signed_in(&app, &jar).await? {
            None => not_signed_in(),
            Some((session, account)) => {
                let success = done_message(&query.fait);
                render(&app, &session, &account, StatusCode::OK, success, None).await?
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
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf.clone(), |account| async move {
        let app = acting;
        let proof = match form.proof.as_str() {
            "code" => Proof::Code(form.code),
            _ => Proof::Credentials {
                login: form.child_login,
                password: Secret::from_presented(&form.child_password),
            },
        };
        let attached = linking::attach_child(&linker(&app), &account, proof, &address).await?;
        Ok(attached.map(|_| "rattache"))
    })
    .await
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
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf.clone(), |account| async move {
        let app = acting;
        Ok(if form.action == "reject" {
            linking::decline_candidate(&linker(&app), &account, &form.other_login)
                .await?
                .map(|()| "distinct")
        } else {
            let password = Secret::from_presented(&form.password);
            let linker = linker(&app);
            linking::confirm_candidate(&linker, &account, &form.other_login, &password, &address)
                .await?
                .map(|()| "reuni")
        })
    })
    .await
}

/// A form of the page: the session and its CSRF token checked, then `act` on the account;
/// success redirects to the page with what was done, a refusal shows the page with its reason.
async fn submitted<F, Fut>(app: &App, jar: &CookieJar, csrf: &str, act: F) -> Response
where
    F: FnOnce(Account) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Result<&'static str, Refusal>>>,
{
    let result = async {
        let Some((session, account)) = signed_in(app, jar).await? else {
            return Ok(not_signed_in());
        };
        if !constant_time_eq(csrf, &session.csrf_token()) {
            return Ok(private(pages::error_page(StatusCode::BAD_REQUEST, EXPIRED)));
        }
        match act(account.clone()).await? {
            Ok(done) => Ok(Redirect::to(&format!("/compte?fait={done}")).into_response()),
            Err(refusal) => {
                let status = refusal_status(refusal);
                render(
                    app,
                    &session,
                    &account,
                    status,
                    None,
                    Some(refusal.to_string()),
                )
                .await
            }
        }
    };
    result.await.unwrap_or_else(internal_page)
}

fn refusal_status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::Throttled => StatusCode::TOO_MANY_REQUESTS,
        Refusal::WrongCredentials | Refusal::InvalidCode => StatusCode::BAD_REQUEST,
        Refusal::NotAPupil | Refusal::NotAGuardian | Refusal::NotACandidate => {
            StatusCode::FORBIDDEN
        }
        Refusal::AlreadyAttached => StatusCode::CONFLICT,
    }
}
