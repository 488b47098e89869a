//! "Mon compte": who the account is (names, identifier, profile), for a guardian the children
//! with their establishments, the accounts the import could not tell apart from this one and
//! attaching a child; the account's own contact details beside what the establishment's record
//! holds, and changing them (`contacts`); the password (`password`); the connected services
//! (`services`); its own sign-in and sign-out (`signin`).
//!
//! Reached with the SSO session; without one, `/compte` sends to `/compte/connexion`, a login
//! with no relying party. Forms carry a CSRF token derived from the session. A form that
//! succeeds redirects (303) back to the page, so reloading it never sends a password again; one
//! that fails shows the page again with the reason.

mod contacts;
mod franceconnect;
mod password;
mod services;
mod signin;

pub use contacts::{email, mobile};
pub use franceconnect::untie_franceconnect;
pub use password::change_password;
pub use services::revoke_service;
pub use signin::{sign_in, sign_out};

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
use crate::accounts::contacts::Mobile;
use crate::accounts::linking::{self, LinkCandidate, Linker, Proof, Refusal};
use crate::accounts::{Account, Profile};
use crate::app::{App, AppState};
use crate::oidc::session::Session;
use crate::secrets::{constant_time_eq, Secret};
use crate::selfservice::connected;
use crate::selfservice::contacts::{self as contact_changes, Channel};

const EXPIRED: &str = "Le formulaire a expiré. Rechargez la page et recommencez.";

/// What the page says after a form succeeded (`?fait=`).
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "rattache" => Some("L'enfant est maintenant rattaché à votre compte."),
        "reuni" => {
            Some("Les deux comptes n'en font plus qu'un : ses enfants sont rattachés à celui-ci.")
        }
        "distinct" => Some("C'est noté : ce compte reste distinct du vôtre."),
        "code-courriel" => Some(
            "Un code vous a été envoyé par courriel à la nouvelle adresse. Saisissez-le \
             ci-dessous pour la confirmer.",
        ),
        "code-mobile" => Some(
            "Un code vous a été envoyé par SMS au nouveau numéro. Saisissez-le ci-dessous pour \
             le confirmer.",
        ),
        "courriel" => Some(
            "Votre nouvelle adresse électronique est enregistrée. Elle n'est pas transmise à la \
             base Siècle de l'établissement : pensez à informer le secrétariat.",
        ),
        "mobile" => Some(
            "Votre nouveau numéro de téléphone portable est enregistré. Il n'est pas transmis \
             à la base Siècle de l'établissement : pensez à informer le secrétariat.",
        ),
        "annule" => Some("C'est noté : la modification est abandonnée."),
        "franceconnect-defait" => Some(
            "Votre compte n'est plus rattaché à votre identité FranceConnect, et les autres \
             connexions ouvertes avec FranceConnect sont fermées. Pour l'utiliser de nouveau, \
             choisissez « S'identifier avec FranceConnect » à votre prochaine connexion.",
        ),
        "revoque" => Some(
            "L'accès de ce service à votre compte est révoqué. Il vous demandera votre accord à \
             la prochaine connexion.",
        ),
        _ => None,
    }
}

/// A child as the page shows it.
struct ChildLine {
    name: String,
    establishment: String,
    division: Option<String>,
}

/// A connected service as the page shows it.
struct ServiceLine {
    client_id: String,
    name: String,
    gives: String,
    since: String,
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    profile: &'static str,
    guardian: bool,
    children: Vec<ChildLine>,
    candidates: Vec<LinkCandidate>,
    own_email: Option<String>,
    own_mobile: Option<String>,
    siecle_email: Option<String>,
    siecle_mobile: Option<String>,
    pending_email: Option<String>,
    pending_mobile: Option<String>,
    services: Vec<ServiceLine>,
    /// A guardian's tie to FranceConnect (issue #18); `None` when it is not enabled.
    franceconnect: Option<bool>,
    csrf: String,
    success: Option<&'a str>,
    error: Option<String>,
}

/// The profile, in French.
fn profile_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "élève",
        Profile::Guardian => "représentant légal",
        Profile::PersonInCharge => "personne en charge de l'élève",
    }
}

/// A stored mobile number as a person writes it (`06 12 34 56 78`).
fn spaced(number: &str) -> String {
    match Mobile::parse(number) {
        Some(mobile) => mobile
            .as_str()
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        None => number.to_owned(),
    }
}

fn french_date(ms: i64) -> String {
    crate::notify::letters::wording::french_date(crate::siecle::Date::from_epoch_ms(ms))
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

/// Contact changes, lent from the replica's state.
fn contact_changes(app: &App) -> contact_changes::ContactChanges<'_> {
    contact_changes::ContactChanges {
        codes: &*app.ephemeral,
        code_config: &app.config.codes,
        throttle: &app.config.throttle,
        accounts: &*app.durable,
        outbox: &*app.durable,
        audit: &*app.durable,
        sms: crate::notify::sms::SmsSender {
            outbox: &*app.durable,
            counters: &*app.ephemeral,
            kek: app.keys.kek(),
            clock: &*app.clock,
            config: &app.config.sms,
        },
        kek: app.keys.kek(),
        clock: &*app.clock,
    }
}

/// Connected services, lent from the replica's state.
fn services_of(app: &App) -> connected::Services<'_> {
    connected::Services {
        clients: &*app.durable,
        consents: &*app.durable,
        grants: &*app.durable,
        tokens: app,
        audit: &*app.durable,
        clock: &*app.clock,
    }
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
        let mut children = Vec::new();
        for child in affiliations.children {
            let uai = child.enrolment.uai;
            let name = app.durable.establishment(&uai).await?.and_then(|e| e.name);
            children.push(ChildLine {
                name: format!("{} {}", child.given_name, child.family_name),
                establishment: match name {
                    Some(name) => format!("{name} ({uai})"),
                    None => uai,
                },
                division: child.enrolment.division,
            });
        }
        (children, candidates)
    } else {
        (Vec::new(), Vec::new())
    };
    let changes = contact_changes(app);
    let pending_email = contact_changes::pending(&changes, account, Channel::Email).await?;
    let pending_mobile = match guardian {
        true => contact_changes::pending(&changes, account, Channel::Mobile).await?,
        false => None,
    };
    let services = connected::list(&services_of(app), &account.id)
        .await?
        .into_iter()
        .map(|s| ServiceLine {
            client_id: s.client_id,
            name: s.name,
            gives: s.gives.join(", "),
            since: french_date(s.since_ms),
        })
        .collect();
    let page = AccountPage {
        given_name: &account.given_name,
        family_name: &account.family_name,
        login: &account.login,
        profile: profile_label(account.profile),
        guardian,
        children,
        candidates,
        own_email: account.verified_email.clone(),
        own_mobile: account.verified_phone.as_deref().map(spaced),
        siecle_email: account.email.clone(),
        siecle_mobile: account.phone.as_deref().map(spaced),
        pending_email,
        pending_mobile: pending_mobile.as_deref().map(spaced),
        services,
        franceconnect: match guardian {
            true => crate::oidc::login::tie::is_tied(app, account).await?,
            false => None,
        },
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

/// No session: on to Mon compte's own sign-in.
fn not_signed_in() -> Response {
    private(Redirect::to("/compte/connexion").into_response())
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    fait: String,
}

#[tracing::instrument(skip_all)]
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

#[tracing::instrument(skip_all)]
pub async fn attach(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<AttachForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf.clone(), |_, account| async move {
        let app = acting;
        let proof = match form.proof.as_str() {
            "code" => Proof::Code(form.code),
            _ => Proof::Credentials {
                login: form.child_login,
                password: Secret::from_presented(&form.child_password),
            },
        };
        let attached = linking::attach_child(&linker(&app), &account, proof, &address).await?;
        Ok(attached.map(|_| "rattache").map_err(Refused::from))
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

#[tracing::instrument(skip_all)]
pub async fn candidate(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CandidateForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf.clone(), |_, account| async move {
        let app = acting;
        let done = if form.action == "reject" {
            linking::decline_candidate(&linker(&app), &account, &form.other_login)
                .await?
                .map(|()| "distinct")
        } else {
            let password = Secret::from_presented(&form.password);
            let linker = linker(&app);
            linking::confirm_candidate(&linker, &account, &form.other_login, &password, &address)
                .await?
                .map(|()| "reuni")
        };
        Ok(done.map_err(Refused::from))
    })
    .await
}

/// Why a form of the page was refused: the status and the French message shown with the page.
struct Refused {
    status: StatusCode,
    message: String,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Refused {
        let status = match refusal {
            Refusal::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Refusal::WrongCredentials | Refusal::InvalidCode => StatusCode::BAD_REQUEST,
            Refusal::NotAPupil | Refusal::NotAGuardian | Refusal::NotACandidate => {
                StatusCode::FORBIDDEN
            }
            Refusal::AlreadyAttached => StatusCode::CONFLICT,
        };
        Refused {
            status,
            message: refusal.to_string(),
        }
    }
}

/// A form of the page: the session and its CSRF token checked, then `act` on the account;
/// success redirects to the page with what was done, a refusal shows the page with its reason.
async fn submitted<F, Fut>(app: &App, jar: &CookieJar, csrf: &str, act: F) -> Response
where
    F: FnOnce(Session, Account) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Result<&'static str, Refused>>>,
{
    let result = async {
        let Some((session, account)) = signed_in(app, jar).await? else {
            return Ok(not_signed_in());
        };
        if !constant_time_eq(csrf, &session.csrf_token()) {
            return Ok(private(pages::error_page(StatusCode::BAD_REQUEST, EXPIRED)));
        }
        match act(session.clone(), account.clone()).await? {
            Ok(done) => Ok(Redirect::to(&format!("/compte?fait={done}")).into_response()),
            Err(refused) => {
                // The page shows the account as it is now (a change may have been written).
                let account = app.durable.account(&account.id).await?.unwrap_or(account);
                let message = Some(refused.message);
                render(app, &session, &account, refused.status, None, message).await
            }
        }
    };
    result.await.unwrap_or_else(internal_page)
}
