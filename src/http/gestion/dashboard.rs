//! The establishment's dashboard (`/gestion/etablissements/{uai}`): its last Siècle import,
//! its accounts by profile and state, the activation of each class, the notices (marked read
//! here), the linking candidates (confirmed or declined here, which asks for the second
//! factor). `establishments::dashboard` decides what the actor sees.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::chrome::{Chrome, Section};
use super::home::{french_date, french_time};
use super::place::{self, base};
use super::signed::{private, refusal, Signed};
use crate::app::AppState;
use crate::establishments::{self, Candidates, ClassActivation, Decision, Resolver, StateCounts};
use crate::http::pages;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gestion/etablissements/{uai}", get(page))
        .route(
            "/gestion/etablissements/{uai}/notifications/{id}/lue",
            post(read_notice),
        )
        .route(
            "/gestion/etablissements/{uai}/rapprochements",
            post(resolve_candidate),
        )
}

pub struct NoticeView {
    pub id: String,
    pub message: String,
    pub at: String,
    pub unread: bool,
    /// Where to act on it, in the back-office.
    pub link: Option<(String, &'static str)>,
    pub disputed: bool,
}

pub struct CandidateView {
    pub account_id: String,
    pub account: String,
    pub other_id: String,
    pub other: String,
    pub reason: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "backoffice/dashboard.html")]
struct DashboardPage {
    chrome: Option<Chrome>,
    base: String,
    name: String,
    uai: String,
    csrf: String,
    done: Option<&'static str>,
    last_import: Option<(String, Option<String>)>,
    pupils: StateCounts,
    guardians: StateCounts,
    classes: Vec<ClassActivation>,
    notices: Vec<NoticeView>,
    unread: usize,
    /// `None`: not the actor's to see; `Some(None)`: the second factor opens them.
    candidates: Option<Option<Vec<CandidateView>>>,
    step_up: String,
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "lue" => Some("La notification est marquée comme lue."),
        "fusion" => Some("Les deux comptes n'en font plus qu'un."),
        "distincts" => Some("C'est noté : ces deux comptes restent distincts."),
        _ => None,
    }
}

/// A Siècle export date as written in the history (`2026-09-01`), in French.
fn export_day(date: &str) -> String {
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next(), parts.next(), parts.next());
    let french = match (year, month, day) {
        (Some(y), Some(m), Some(d)) => crate::siecle::Date::parse_french(&format!("{d}/{m}/{y}")),
        _ => None,
    };
    french
        .map(crate::notify::letters::wording::french_date)
        .unwrap_or_else(|| date.to_owned())
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Query(query): Query<Done>,
) -> Response {
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = base(&uai);
    let store = &*app.durable;
    let shown = match establishments::dashboard(&signed.actor, store, store, store, &uai).await {
        Ok(shown) => shown,
        Err(error) => return refusal(error, &here),
    };
    let name = place::display_name(&shown.establishment.name, &uai);
    let notices: Vec<NoticeView> = shown
        .notices
        .iter()
        .map(|n| NoticeView {
            id: n.id.clone(),
            message: n.message.clone(),
            at: french_time(n.created_at),
            unread: n.read_at.is_none(),
            link: match n.kind.as_str() {
                "new_identifiers" => Some((
                    format!("{here}/identifiants"),
                    "Télécharger le fichier des nouveaux identifiants",
                )),
                _ => None,
            },
            disputed: n.kind == crate::accounts::linking::model::DISPUTED_LINK_NOTICE,
        })
        .collect();
    let named = |a: &crate::accounts::linking::model::CandidateAccount| {
        format!("{} {} ({})", a.given_name, a.family_name, a.login)
    };
    let candidates = match shown.candidates {
        Candidates::Listed(listed) => Some(Some(
            listed
                .iter()
                .map(|c| CandidateView {
                    account_id: c.account.id.clone(),
                    account: named(&c.account),
                    other_id: c.other.id.clone(),
                    other: named(&c.other),
                    reason: c.reason.clone(),
                    at: french_date(c.created_at),
                })
                .collect(),
        )),
        Candidates::SecondFactor => Some(None),
        Candidates::NotHeld => None,
    };
    let page = DashboardPage {
        chrome: Some(Chrome::of(&signed, &uai, &name, Section::Dashboard)),
        step_up: format!(
            "/gestion/second-facteur?suite={}",
            place::query_value(&here)
        ),
        base: here,
        name,
        uai: uai.as_str().to_owned(),
        csrf: signed.csrf(),
        done: done_message(&query.fait),
        last_import: shown.last_import.map(|i| {
            (
                french_time(i.imported_at),
                i.export_date.as_deref().map(export_day),
            )
        }),
        pupils: shown.pupils,
        guardians: shown.guardians,
        classes: shown.classes,
        unread: notices.iter().filter(|n| n.unread).count(),
        notices,
        candidates,
    };
    private(pages::render_with_script(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn read_notice(
    State(app): State<AppState>,
    signed: Signed,
    Path((code, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = base(&uai);
    let store = &*app.durable;
    match establishments::read_notice(&signed.actor, store, store, &uai, &id, app.now_ms()).await {
        Ok(()) => Redirect::to(&format!("{here}?fait=lue#notifications")).into_response(),
        Err(error) => refusal(error, &here),
    }
}

#[derive(Deserialize)]
pub struct CandidateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    other: String,
    /// `fusion` (one person: `other` becomes part of `account`) or `distincts`.
    #[serde(default)]
    decision: String,
}

pub async fn resolve_candidate(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Form(form): Form<CandidateForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = base(&uai);
    let decision = match form.decision.as_str() {
        "fusion" => Decision::Merge,
        "distincts" => Decision::Decline,
        _ => {
            return private(pages::error_page(
                StatusCode::BAD_REQUEST,
                "Choisissez : même personne, ou deux personnes.",
            ))
        }
    };
    let resolver = Resolver {
        directory: &*app.durable,
        links: &*app.durable,
        sessions: &app,
    };
    let done = establishments::resolve_candidate(
        &signed.actor,
        &resolver,
        &*app.durable,
        &uai,
        &form.account,
        &form.other,
        decision,
        app.now_ms(),
    )
    .await;
    match done {
        Ok(()) => {
            Redirect::to(&format!("{here}?fait={}#rapprochements", form.decision)).into_response()
        }
        Err(error) => refusal(error, &here),
    }
}
