//! The forms of an account's page, also posted from the pupil troubleshooting (`retour`
//! `depannage`, with its search `q`): notify (a letter as a PDF download, or an e-mail; with
//! or without a new temporary password), disable or enable, correct a guardian's contact
//! details, unblock a throttled login, issue an attachment code. Each checks its CSRF token
//! first, calls one domain function, and redirects to a page that says what was done — but a
//! letter, which is the answer itself, and an attachment code, shown once.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::account::{self, ContactError};
use super::chrome::{Chrome, Section};
use super::home::french_date;
use super::notifying;
use super::place::{self, base, query_value};
use super::signed::{private, refusal, Signed};
use crate::app::AppState;
use crate::establishments::model::CarrierKind;
use crate::establishments::{self, ActivePasswords, OperationError, Switch};
use crate::http::pages;
use crate::siecle::Uai;

pub fn routes() -> Router<AppState> {
    let account = "/gestion/etablissements/{uai}/comptes/{account_id}";
    Router::new()
        .route(account, get(account::page))
        .route(&format!("{account}/notifier"), post(notify))
        .route(&format!("{account}/etat"), post(switch))
        .route(&format!("{account}/coordonnees"), post(contact))
        .route(&format!("{account}/debloquer"), post(unblock))
        .route(
            &format!("{account}/code-rattachement"),
            post(attachment_code),
        )
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// `depannage`: back to the pupil troubleshooting, with its search `q`.
    #[serde(default)]
    retour: String,
    #[serde(default)]
    q: String,
    /// Notify: `pdf` or `email`; with `reinitialiser=1`, active accounts get a new password.
    #[serde(default)]
    support: String,
    #[serde(default)]
    reinitialiser: String,
    /// `desactive` or `active`.
    #[serde(default)]
    etat: String,
    #[serde(default)]
    courriel: String,
    #[serde(default)]
    mobile: String,
}

/// The page the form came from: the account page, or the troubleshooting with its search.
fn origin(uai: &Uai, account_id: &str, form: &ActionForm) -> String {
    if form.retour == "depannage" {
        format!("{}/depannage?q={}", base(uai), query_value(&form.q))
    } else {
        format!("{}/comptes/{account_id}", base(uai))
    }
}

fn done(origin: &str, what: &str) -> Response {
    let separator = if origin.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{origin}{separator}fait={what}")).into_response()
}

/// A form posted on an account: the staff member signed in, the form's CSRF token checked, the
/// establishment of the path, and where to go back. Each handler takes it instead of its
/// parts; a refusal (not signed in, expired form, unknown establishment) is the answer.
pub struct Posted {
    signed: Signed,
    uai: Uai,
    account_id: String,
    form: ActionForm,
    back: String,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, app: &AppState) -> Result<Posted, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, app).await?;
        let Path((code, account_id)) =
            Path::<(String, String)>::from_request_parts(&mut parts, app)
                .await
                .map_err(IntoResponse::into_response)?;
        let Form(form) = Form::<ActionForm>::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(expired) = signed.csrf_refused(&form.csrf) {
            return Err(expired);
        }
        let uai = place::uai(&code)?;
        let back = origin(&uai, &account_id, &form);
        Ok(Posted {
            signed,
            uai,
            account_id,
            form,
            back,
        })
    }
}

pub async fn notify(State(app): State<AppState>, posted: Posted) -> Response {
    let carrier = match posted.form.support.as_str() {
        "email" => CarrierKind::Email,
        _ => CarrierKind::Letters,
    };
    let active = if posted.form.reinitialiser == "1" {
        ActivePasswords::Reset
    } else {
        ActivePasswords::Keep
    };
    let result = async {
        let desk = place::desk(&app);
        let account = establishments::notifiable(
            &posted.signed.actor,
            &desk,
            &posted.uai,
            &posted.account_id,
            app.now_ms(),
        )
        .await?;
        let chosen = [(account.profile, account.login.clone())];
        let sent = notifying::send(
            &app,
            &posted.signed.actor,
            &posted.uai,
            &chosen,
            carrier,
            active,
        )
        .await?;
        Ok::<_, OperationError>((account, sent))
    }
    .await;
    match result {
        Ok((account, sent)) => match sent.pdf {
            Some(pdf) => {
                notifying::letters_download(pdf, &format!("courrier-{}.pdf", account.login))
            }
            None if sent.notified.is_empty() => done(&posted.back, "sans-adresse"),
            None => done(&posted.back, "courriel"),
        },
        Err(error) => refusal(error, &posted.back),
    }
}

pub async fn switch(State(app): State<AppState>, posted: Posted) -> Response {
    let (switch, what) = match posted.form.etat.as_str() {
        "desactive" => (Switch::Disable, "desactive"),
        "active" => (Switch::Enable, "active"),
        _ => {
            return private(pages::error_page(
                StatusCode::BAD_REQUEST,
                "Choisissez : désactiver ou réactiver le compte.",
            ))
        }
    };
    let desk = place::desk(&app);
    match establishments::switch(
        &posted.signed.actor,
        &desk,
        &posted.uai,
        &posted.account_id,
        switch,
        app.now_ms(),
    )
    .await
    {
        Ok(_) => done(&posted.back, what),
        Err(error) => refusal(error, &posted.back),
    }
}

pub async fn contact(State(app): State<AppState>, posted: Posted) -> Response {
    let desk = place::desk(&app);
    let now = app.now_ms();
    let corrected = establishments::correct_contact(
        &posted.signed.actor,
        &desk,
        &posted.uai,
        &posted.account_id,
        &posted.form.courriel,
        &posted.form.mobile,
        now,
    )
    .await;
    let refused = |email: Option<String>, phone: Option<String>| ContactError {
        email,
        phone,
        typed_email: posted.form.courriel.clone(),
        typed_phone: posted.form.mobile.clone(),
    };
    let contact = match corrected {
        Ok(()) => return done(&posted.back, "coordonnees"),
        Err(error @ OperationError::InvalidEmail) => refused(Some(capitalized(&error)), None),
        Err(error @ OperationError::InvalidPhone) => refused(None, Some(capitalized(&error))),
        Err(error) => return refusal(error, &posted.back),
    };
    account::render(
        &app,
        &posted.signed,
        &posted.uai,
        &posted.account_id,
        StatusCode::BAD_REQUEST,
        None,
        contact,
    )
    .await
    .unwrap_or_else(|error| refusal(error, &posted.back))
}

fn capitalized(error: &OperationError) -> String {
    let message = error.to_string();
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => message,
    }
}

pub async fn unblock(State(app): State<AppState>, posted: Posted) -> Response {
    let desk = place::desk(&app);
    match establishments::unblock(
        &posted.signed.actor,
        &desk,
        &posted.uai,
        &posted.account_id,
        app.now_ms(),
    )
    .await
    {
        Ok(()) => done(&posted.back, "debloque"),
        Err(error) => refusal(error, &posted.back),
    }
}

#[derive(Template)]
#[template(path = "backoffice/attachment_code.html")]
struct CodePage {
    chrome: Option<Chrome>,
    code: String,
    pupil: String,
    until: String,
    back: String,
}

/// The code is shown once, on the answer to the form (never in an address).
pub async fn attachment_code(State(app): State<AppState>, posted: Posted) -> Response {
    let result = async {
        let desk = place::desk(&app);
        let issued = establishments::pupil_attachment_code(
            &posted.signed.actor,
            &desk,
            &posted.uai,
            &posted.account_id,
            app.now_ms(),
        )
        .await?;
        let chrome =
            place::chrome(&app, &posted.signed, &posted.uai, Section::Troubleshooting).await?;
        Ok::<_, OperationError>(CodePage {
            chrome: Some(chrome),
            code: issued.code,
            pupil: format!("{} {}", issued.pupil.given_name, issued.pupil.family_name),
            until: french_date(issued.expires_at),
            back: posted.back.clone(),
        })
    }
    .await;
    match result {
        Ok(page) => private(pages::render_with_script(StatusCode::OK, &page)),
        Err(error) => refusal(error, &posted.back),
    }
}
