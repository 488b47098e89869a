//! Signing in to the back-office: the password form (`/gestion`), the second factor
//! (`/gestion/second-facteur`: enrolment with a QR code at the first sign-in, a code as a
//! step-up later), the QR code itself, signing out. Forms that succeed redirect (303); one that
//! fails shows its page again with the reason.

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::chrome::Chrome;
use super::signed::{self, back_to, current, encode, internal, private};
use crate::app::AppState;
use crate::http::authorize::client_address;
use crate::http::pages;
use crate::secrets::{constant_time_eq, digest, Secret};
use crate::staff::signin::{self, SecondFactor};
use crate::staff::{session, totp};

#[derive(Template)]
#[template(path = "backoffice/signin.html")]
struct SignInPage<'a> {
    chrome: Option<Chrome>,
    login: &'a str,
    suite: &'a str,
    csrf: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/second_factor.html")]
struct SecondFactorPage<'a> {
    chrome: Option<Chrome>,
    name: &'a str,
    /// Enrolment: the secret in base32 (the QR code is `/gestion/second-facteur/qr.svg`).
    enrolling: Option<String>,
    suite: &'a str,
    csrf: &'a str,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Suite {
    #[serde(default)]
    suite: String,
}

/// The sign-in form's CSRF token, before any session: bound to the browser by a cookie of
/// its own (a form posted from another browser, or with another browser's token, is refused).
const PRE_SESSION: &str = "educonnect_gestion_form";

fn pre_session(app: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(cookie) = jar.get(PRE_SESSION) {
        let token = digest(format!("gestion-signin:{}", cookie.value()).as_bytes());
        return (jar, token);
    }
    let value = crate::secrets::random_b64(24);
    let token = digest(format!("gestion-signin:{value}").as_bytes());
    let cookie = axum_extra::extract::cookie::Cookie::build((PRE_SESSION, value))
        .http_only(true)
        .secure(app.config.issuer.starts_with("https://"))
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .path("/gestion")
        .build();
    (jar.add(cookie), token)
}

fn sign_in_page(
    csrf: &str,
    login: &str,
    suite: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    private(pages::render_with_script(
        status,
        &SignInPage {
            chrome: None,
            login,
            suite,
            csrf,
            error,
        },
    ))
}

pub async fn page(State(app): State<AppState>, jar: CookieJar, Query(q): Query<Suite>) -> Response {
    match current(&app, &jar).await {
        Ok(Some(_)) => return Redirect::to(back_to(&q.suite)).into_response(),
        Ok(None) => {}
        Err(error) => return internal(error),
    }
    let (jar, csrf) = pre_session(&app, jar);
    (
        jar,
        sign_in_page(&csrf, "", back_to(&q.suite), StatusCode::OK, None),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    suite: String,
}

pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    let suite = back_to(&form.suite).to_owned();
    let (jar, csrf) = pre_session(&app, jar);
    if !constant_time_eq(&csrf, &form.csrf) {
        return (
            jar,
            sign_in_page(
                &csrf,
                &form.login,
                &suite,
                StatusCode::FORBIDDEN,
                Some(signed::EXPIRED.into()),
            ),
        )
            .into_response();
    }
    let address = client_address(&app, peer, &headers);
    let password = Secret::from_presented(&form.password);
    match signin::sign_in(&app, &form.login, &password, &address).await {
        Ok(Ok(signed_in)) => {
            let jar = signed::set_cookie(&app, jar, &signed_in.cookie);
            let next = if signed_in.staff.totp_enrolled_at.is_none() {
                "/gestion/second-facteur".to_owned()
            } else {
                suite
            };
            (jar, Redirect::to(&next)).into_response()
        }
        Ok(Err(error)) => {
            let status = match error {
                signin::SignInError::Throttled => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            (
                jar,
                sign_in_page(&csrf, &form.login, &suite, status, Some(error.to_string())),
            )
                .into_response()
        }
        Err(error) => internal(error),
    }
}

async fn second_factor_response(
    app: &AppState,
    jar: &CookieJar,
    suite: &str,
    status: StatusCode,
    error: Option<String>,
) -> anyhow::Result<Response> {
    let Some((mut session, staff)) = current(app, jar).await? else {
        return Ok(Redirect::to(&format!("/gestion?suite={}", encode(suite))).into_response());
    };
    let enrolling = match signin::second_factor(app, &staff, &mut session).await? {
        SecondFactor::Enrolled => None,
        SecondFactor::Enrolling(enrolment) => Some(enrolment.base32),
    };
    let page = SecondFactorPage {
        chrome: None,
        name: &staff.display_name(),
        enrolling,
        suite,
        csrf: &session.csrf_token(),
        error,
    };
    Ok(private(pages::render_with_script(status, &page)))
}

pub async fn second_factor_page(
    State(app): State<AppState>,
    jar: CookieJar,
    Query(q): Query<Suite>,
) -> Response {
    second_factor_response(&app, &jar, back_to(&q.suite), StatusCode::OK, None)
        .await
        .unwrap_or_else(internal)
}

/// The QR code of the enrolment under way (SVG, no remote content); 404 when none is.
pub async fn qr_code(State(app): State<AppState>, jar: CookieJar) -> Response {
    let result = async {
        let Some((session, staff)) = current(&app, &jar).await? else {
            return Ok(None);
        };
        let (Some(sealed), None) = (&session.enrolling, staff.totp_enrolled_at) else {
            return Ok(None);
        };
        let secret = totp::open(app.keys.kek(), &staff.id, sealed)?;
        Ok::<_, anyhow::Error>(Some(totp::enrolment(&secret, &staff.login)?.qr_svg))
    }
    .await;
    match result {
        Ok(Some(svg)) => {
            let mut response = ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response();
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'"),
            );
            private(response)
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => internal(error),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    suite: String,
}

pub async fn second_factor_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Response {
    let suite = back_to(&form.suite).to_owned();
    let result = async {
        let Some((session, staff)) = current(&app, &jar).await? else {
            return Ok(Redirect::to("/gestion").into_response());
        };
        if !constant_time_eq(&session.csrf_token(), &form.csrf) {
            return Ok(private(pages::error_page(
                StatusCode::FORBIDDEN,
                signed::EXPIRED,
            )));
        }
        let address = client_address(&app, peer, &headers);
        match signin::present_code(&app, &staff, session, &form.code, &address).await? {
            Ok((_, cookie)) => {
                let jar = signed::set_cookie(&app, jar.clone(), &cookie);
                Ok((jar, Redirect::to(&suite)).into_response())
            }
            Err(error) => {
                let status = match error {
                    signin::SignInError::Throttled => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::UNAUTHORIZED,
                };
                second_factor_response(&app, &jar, &suite, status, Some(error.to_string())).await
            }
        }
    }
    .await;
    result.unwrap_or_else(internal)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(app): State<AppState>,
    jar: CookieJar,
    Form(form): Form<SignOutForm>,
) -> Response {
    let result = async {
        if let Some((session, staff)) = current(&app, &jar).await? {
            if !constant_time_eq(&session.csrf_token(), &form.csrf) {
                return Ok(private(pages::error_page(
                    StatusCode::FORBIDDEN,
                    signed::EXPIRED,
                )));
            }
            session::end(&app, &session.sid).await?;
            let event = crate::audit::Event::new(
                &format!("staff:{}", staff.login),
                crate::audit::Action::StaffSignOut,
                crate::audit::Outcome::Ok,
                app.now_ms(),
            );
            crate::audit::record(&*app.durable, event).await;
        }
        let jar = signed::clear_cookie(&app, jar.clone());
        Ok::<_, anyhow::Error>((jar, Redirect::to("/gestion")).into_response())
    }
    .await;
    result.unwrap_or_else(internal)
}
