//! The signed-in staff member of a back-office request, as an extractor: the session of the
//! back-office cookie (its idle timeout restarted), the staff member (active), their roles, and
//! the `Actor` they act as (from where the request came). A request without a live session is
//! sent to the sign-in page, and back to where it was going once signed in.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::app::{App, AppState};
use crate::establishments::{Actor, OperationError};
use crate::http::authorize::client_address;
use crate::http::pages;
use crate::secrets::{constant_time_eq, Secret};
use crate::staff::session::{self, StaffSession};
use crate::staff::{Role, Staff, StaffState};

pub struct Signed {
    pub staff: Staff,
    pub roles: Vec<Role>,
    pub session: StaffSession,
    pub actor: Actor,
}

impl Signed {
    pub fn csrf(&self) -> String {
        self.session.csrf_token()
    }

    /// The answer to a form whose CSRF token is not this session's (a 403 page); `None`
    /// when it is.
    pub fn csrf_refused(&self, presented: &str) -> Option<Response> {
        (!constant_time_eq(&self.csrf(), presented))
            .then(|| private(pages::error_page(StatusCode::FORBIDDEN, EXPIRED)))
    }
}

pub const EXPIRED: &str = "Le formulaire a expiré. Rechargez la page et recommencez.";
const REFUSED: &str = "Cette opération ne fait pas partie des droits qui vous sont attribués. \
    Demandez au chef d'établissement de vous accorder la délégation nécessaire.";

/// The peer address of a request, as the throttles and the audit see it.
pub fn address_of(app: &App, parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    client_address(app, peer, &parts.headers)
}

/// The live back-office session of these cookies, and its staff member (active).
pub async fn current(app: &App, jar: &CookieJar) -> anyhow::Result<Option<(StaffSession, Staff)>> {
    let Some(cookie) = jar.get(&app.config.backoffice.cookie_name) else {
        return Ok(None);
    };
    let Some(session) = session::from_cookie(app, cookie.value()).await? else {
        return Ok(None);
    };
    let staff = app.durable.staff(&session.staff_id).await?;
    match staff.filter(|s| s.state == StaffState::Active) {
        Some(staff) => Ok(Some((session, staff))),
        None => {
            session::end(app, &session.sid).await?;
            Ok(None)
        }
    }
}

/// What a request's cookies give.
enum Found {
    Signed(Box<Signed>),
    /// Signed in with the password, second factor not enrolled yet: nothing but enrolling it.
    Enrolling,
    Nobody,
}

async fn find(app: &App, jar: &CookieJar, address: String) -> anyhow::Result<Found> {
    let Some((session, staff)) = current(app, jar).await? else {
        return Ok(Found::Nobody);
    };
    if staff.totp_enrolled_at.is_none() {
        return Ok(Found::Enrolling);
    }
    let roles = app.durable.roles_of(&staff.id).await?;
    let actor = crate::staff::actor(&staff, &roles, session.second_factor(), app.now_ms())
        .from_address(address);
    Ok(Found::Signed(Box::new(Signed {
        staff,
        roles,
        session,
        actor,
    })))
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Signed, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let address = address_of(app, parts);
        match find(app, &jar, address).await {
            Ok(Found::Signed(signed)) => Ok(*signed),
            Ok(Found::Enrolling) => Err(Redirect::to("/gestion/second-facteur").into_response()),
            Ok(Found::Nobody) => {
                let back = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/gestion/accueil");
                Err(Redirect::to(&format!("/gestion?suite={}", encode(back))).into_response())
            }
            Err(error) => Err(internal(error)),
        }
    }
}

pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Where to go back to after signing in or presenting the second factor: a back-office path,
/// never elsewhere.
pub fn back_to(suite: &str) -> &str {
    let local = suite.starts_with("/gestion/")
        && !suite.starts_with("//")
        && !suite.contains('\\')
        && !suite.chars().any(char::is_control);
    if local {
        suite
    } else {
        "/gestion/accueil"
    }
}

/// The answer to an operation that was not carried out: a 403 page for what is outside the
/// actor's rights, the step-up for what needs the second factor (then back to `suite`, a GET
/// page), a 404 page for what does not exist, a 400 page for what was refused as invalid.
pub fn refusal(error: OperationError, suite: &str) -> Response {
    let message = error.to_string();
    match error {
        OperationError::OutOfScope => private(pages::error_page(StatusCode::FORBIDDEN, REFUSED)),
        OperationError::SecondFactorRequired => Redirect::to(&format!(
            "/gestion/second-facteur?suite={}",
            encode(back_to(suite))
        ))
        .into_response(),
        OperationError::UnknownEstablishment(_)
        | OperationError::UnknownNotice { .. }
        | OperationError::NoOpenCandidate
        | OperationError::UnknownPupil(_)
        | OperationError::NotNotifiable(_)
        | OperationError::UnknownStaff(_)
        | OperationError::UnknownRole
        | OperationError::UnknownAccount(_)
        | OperationError::UnknownAssistance(_) => private(pages::error_page(
            StatusCode::NOT_FOUND,
            &capitalized(&message),
        )),
        OperationError::InvalidName
        | OperationError::InvalidStaff(_)
        | OperationError::StaffLoginTaken(_)
        | OperationError::InvalidAssistance { .. }
        | OperationError::Upload(_)
        // The establishment's accounts (back-office, #16).
        | OperationError::InvalidEmail
        | OperationError::InvalidPhone
        | OperationError::NotAGuardian
        | OperationError::NotAPupil => private(pages::error_page(
            StatusCode::BAD_REQUEST,
            &capitalized(&message),
        )),
        OperationError::AssistanceChanged => private(pages::error_page(
            StatusCode::CONFLICT,
            &capitalized(&message),
        )),
        OperationError::Internal(error) => internal(error),
    }
}

fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

pub fn internal(error: anyhow::Error) -> Response {
    super::super::error::internal_page(error)
}

/// Back-office pages name people and carry a CSRF token: never cached.
pub fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The back-office cookie: HttpOnly, SameSite=Strict, path `/gestion`, Secure behind https; a
/// cookie of the browsing session (the server ends the session first).
pub fn set_cookie(app: &App, jar: CookieJar, value: &Secret) -> CookieJar {
    jar.add(
        Cookie::build((
            app.config.backoffice.cookie_name.clone(),
            value.expose().to_owned(),
        ))
        .http_only(true)
        .secure(app.config.issuer.starts_with("https://"))
        .same_site(SameSite::Strict)
        .path("/gestion")
        .build(),
    )
}

pub fn clear_cookie(app: &App, jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(app.config.backoffice.cookie_name.clone()).path("/gestion"))
}
