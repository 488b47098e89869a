//! A demo relying party (embedded mode only): a "Se connecter avec EduConnect" button that runs
//! the real code flow with PKCE over HTTP against this provider, then shows the ID token claims
//! and the userinfo response. And the demo outbox (`/demo/outbox`): the messages the provider
//! queued, with their status and their text, so that a newcomer sees the e-mails without an
//! SMTP server.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::pages;
use crate::app::{App, AppState};
use crate::demo::{DEMO_CLIENT_ID, DEMO_SCOPE};
use crate::outbox::Message;
use crate::secrets::random_b64;
use crate::tokens::jwt;

const COOKIE: &str = "demo_rp";

#[derive(Template)]
#[template(path = "demo/index.html")]
#[derive(Default)]
struct DemoPage {
    message: Option<String>,
    id_token_claims: Option<String>,
    userinfo: String,
    logout_url: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/demo") }))
        .route("/demo", get(home))
        .route("/demo/login", get(start))
        .route("/demo/callback", get(callback))
        .route("/demo/outbox", get(outbox))
        .route("/demo/outbox/{id}/html", get(outbox_html))
        .route("/demo/gestion", get(backoffice))
}

/// One demo staff member, as the demo back-office page lists them.
struct ShownStaff {
    login: &'static str,
    name: String,
    role: &'static str,
    scope: String,
}

#[derive(Template)]
#[template(path = "demo/gestion.html")]
struct BackofficePage {
    staff: Vec<ShownStaff>,
    password: &'static str,
    code: String,
    seconds_left: i64,
    secret: &'static str,
}

/// The demo's back-office: the demo staff, their password, and the second factor's code now
/// (what their authenticator app would show), with the demo secret to add to a real app.
async fn backoffice(State(app): State<AppState>) -> Response {
    let now = app.now_ms();
    let step_ms = crate::staff::totp::STEP as i64 * 1000;
    let staff = crate::demo::DEMO_STAFF
        .iter()
        .map(|s| {
            let mut rights = Vec::new();
            if s.pupils {
                rights.push("comptes élèves");
            }
            if s.guardians {
                rights.push("comptes représentants légaux");
            }
            let place = match (s.uai, s.academy) {
                (Some(uai), _) => format!("établissement {uai}"),
                (None, Some(academy)) => format!("académie de {academy}"),
                (None, None) => "national".to_owned(),
            };
            ShownStaff {
                login: s.login,
                name: format!("{} {}", s.given_name, s.family_name),
                role: s.role.label(),
                scope: if rights.is_empty() {
                    place
                } else {
                    format!("{place} ({})", rights.join(", "))
                },
            }
        })
        .collect();
    let page = BackofficePage {
        staff,
        password: crate::demo::DEMO_STAFF_PASSWORD,
        code: crate::demo::demo_totp_code(now),
        seconds_left: (step_ms - now.rem_euclid(step_ms)) / 1000,
        secret: crate::demo::DEMO_TOTP_SECRET_BASE32,
    };
    let mut response = super::pages::render(StatusCode::OK, &page);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How many messages the demo outbox shows.
const OUTBOX_SHOWN: i64 = 100;

/// One message of the demo outbox, ready for the template.
struct ShownMessage {
    id: String,
    recipient: String,
    subject: String,
    purpose: &'static str,
    status: &'static str,
    status_class: &'static str,
    attempts: i64,
    created: String,
    sent: Option<String>,
    next_attempt: Option<String>,
    last_error: Option<String>,
    text: Option<String>,
    /// An SMS (no HTML version), rather than an e-mail.
    sms: bool,
}

#[derive(Template)]
#[template(path = "demo/outbox.html")]
struct OutboxPage {
    messages: Vec<ShownMessage>,
    smtp: bool,
    sms: bool,
}

fn purpose_label(purpose: &str) -> &'static str {
    match purpose {
        "notification" => "Notification du compte",
        "email_code" => "Code de confirmation d'adresse",
        "password_changed" => "Mot de passe modifié",
        "sms_code" => "Code de vérification par SMS",
        "recovery_link" => "Lien de nouveau mot de passe",
        "identifier_reminder" => "Rappel de l'identifiant",
        "assistance_filed" => "Nouvelle demande d'assistance",
        "assistance_update" => "Suivi d'une demande d'assistance",
        _ => "Autre",
    }
}

fn status_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "sent" => ("Envoyé", "sent"),
        "failed" => ("Échec définitif", "failed"),
        _ => ("En attente d'envoi", "pending"),
    }
}

/// `05/03/2027 à 08:15 UTC`.
fn shown_time(ms: i64) -> String {
    let date = crate::siecle::Date::from_epoch_ms(ms);
    let minutes = ms.rem_euclid(86_400_000) / 60_000;
    format!(
        "{:02}/{:02}/{} à {:02}:{:02} UTC",
        date.day,
        date.month,
        date.year,
        minutes / 60,
        minutes % 60
    )
}

async fn outbox(State(app): State<AppState>) -> Response {
    let opened =
        match crate::outbox::opened::recent(&*app.durable, app.keys.kek(), OUTBOX_SHOWN).await {
            Ok(opened) => opened,
            Err(error) => return super::error::internal_page(error),
        };
    let messages = opened
        .into_iter()
        .map(|o| {
            let s = o.status;
            let (status, status_class) = status_label(s.status);
            ShownMessage {
                purpose: purpose_label(s.purpose),
                status,
                status_class,
                attempts: s.attempts,
                created: shown_time(s.created_at),
                sent: s.sent_at.map(shown_time),
                next_attempt: s.next_attempt_at.filter(|_| s.attempts > 0).map(shown_time),
                last_error: s.last_error,
                sms: matches!(o.message, Some(Message::Sms(_))),
                text: o.message.map(|m| match m {
                    Message::Email(e) => e.text,
                    Message::Sms(s) => s.text,
                }),
                id: s.id,
                recipient: s.recipient,
                subject: s.subject,
            }
        })
        .collect();
    let page = OutboxPage {
        messages,
        smtp: app.mailer.is_some(),
        sms: app.sms.is_some(),
    };
    let mut response = pages::render(StatusCode::OK, &page);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTML part of a message, as its own document under a sandbox: the CSP gives it an opaque
/// origin (no cookie, no storage), no script, no form, nothing loaded from anywhere (a tracking
/// image or a remote font included); inline styles only, as e-mail HTML uses. Not framed in
/// the outbox page: every page of the provider refuses to be framed.
async fn outbox_html(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let opened = match crate::outbox::opened::one(&*app.durable, app.keys.kek(), &id).await {
        Ok(opened) => opened,
        Err(error) => return super::error::internal_page(error),
    };
    let Some(Message::Email(email)) = opened.and_then(|o| o.message) else {
        return pages::error_page(
            StatusCode::NOT_FOUND,
            "Ce message n'existe pas dans la boîte d'envoi de démonstration.",
        );
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        email.html,
    )
        .into_response()
}

async fn home() -> Response {
    pages::render(StatusCode::OK, &DemoPage::default())
}

fn redirect_uri(app: &App) -> String {
    app.config.endpoint("/demo/callback")
}

async fn start(State(app): State<AppState>, jar: CookieJar) -> Response {
    let (state, nonce, verifier) = (random_b64(16), random_b64(16), random_b64(32));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&app.config.endpoint("/authorize")).expect("issuer is a URL");
    url.query_pairs_mut()
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("scope", DEMO_SCOPE)
        .append_pair("redirect_uri", &redirect_uri(&app))
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let cookie = Cookie::build((COOKIE, format!("{state}.{nonce}.{verifier}")))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/demo");
    (jar.add(cookie), Redirect::to(url.as_str())).into_response()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(app): State<AppState>,
    jar: CookieJar,
    Query(cb): Query<Callback>,
) -> Response {
    let (status, page) = match finish(&app, &jar, cb).await {
        Ok(page) => (StatusCode::OK, page),
        Err(message) => (
            StatusCode::BAD_REQUEST,
            DemoPage {
                message: Some(message),
                ..DemoPage::default()
            },
        ),
    };
    (
        jar.remove(Cookie::build(COOKIE).path("/demo")),
        pages::render(status, &page),
    )
        .into_response()
}

/// The RP's side of the code flow: check state and iss, redeem the code, validate the ID token,
/// call userinfo.
async fn finish(app: &App, jar: &CookieJar, cb: Callback) -> Result<DemoPage, String> {
    if let Some(error) = cb.error {
        return Err(format!(
            "EduConnect a répondu {error} : {}",
            cb.error_description.unwrap_or_default()
        ));
    }
    let stored = jar
        .get(COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or("Session de démonstration absente.")?;
    let mut parts = stored.splitn(3, '.');
    let (state, nonce, verifier) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    if cb.state.as_deref() != Some(state) {
        return Err("Paramètre state inattendu.".into());
    }
    if cb.iss.as_deref() != Some(app.issuer()) {
        return Err("Paramètre iss inattendu (RFC 9207).".into());
    }
    let code = cb.code.ok_or("Pas de code dans la réponse.")?;
    let response: serde_json::Value = app
        .http
        .post(app.config.endpoint("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri(app)),
            ("client_id", DEMO_CLIENT_ID),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .map_err(|e| format!("Appel au point de jeton impossible : {e}"))?
        .json()
        .await
        .map_err(|e| format!("Réponse du point de jeton illisible : {e}"))?;
    let id_token = response["id_token"]
        .as_str()
        .ok_or_else(|| format!("Échec de l'échange du code : {response}"))?;
    let access_token = response["access_token"].as_str().unwrap_or_default();
    let claims = jwt::verify(&app.keys, app.issuer(), id_token, Some(app.now_ms()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("Jeton d'identité refusé : {e}"))?;
    if claims["nonce"].as_str() != Some(nonce) || claims["aud"].as_str() != Some(DEMO_CLIENT_ID) {
        return Err("Jeton d'identité refusé : nonce ou audience inattendus.".into());
    }
    let userinfo: serde_json::Value = app
        .http
        .get(app.config.endpoint("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| format!("Appel à userinfo impossible : {e}"))?
        .json()
        .await
        .map_err(|e| format!("Réponse de userinfo illisible : {e}"))?;
    let mut logout = url::Url::parse(&app.config.endpoint("/logout")).expect("issuer is a URL");
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", &app.config.endpoint("/demo"))
        .append_pair("state", &random_b64(8));
    Ok(DemoPage {
        message: None,
        id_token_claims: Some(serde_json::to_string_pretty(&claims).unwrap_or_default()),
        userinfo: serde_json::to_string_pretty(&userinfo).unwrap_or_default(),
        logout_url: logout.to_string(),
    })
}
