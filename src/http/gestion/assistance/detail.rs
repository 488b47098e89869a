//! One request: who filed it and for whom, the accounts it is about, what happened since, and
//! the forms — a comment (the assistance and the establishment), a new status, closing and
//! reopening (the assistance). A form that succeeds comes back here saying what was done.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::super::home::french_time;
use super::super::signed::{internal, private, refusal};
use super::super::{Chrome, Section, Signed};
use super::{badge, desk, establishment_name, Choice};
use crate::accounts::Profile;
use crate::app::AppState;
use crate::assistance::{self, Change, Detail, Status};
use crate::establishments::{OperationError, Right};
use crate::http::pages;
use crate::siecle::Uai;

pub struct AccountRow {
    pub name: String,
    pub login: String,
    pub profile: &'static str,
    /// The account's page, for the establishment's staff.
    pub href: Option<String>,
}

pub struct EventRow {
    pub at: String,
    pub author: String,
    pub side: &'static str,
    pub change: Option<String>,
    pub body: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/assistance_detail.html")]
struct DetailPage {
    chrome: Option<Chrome>,
    csrf: String,
    id: String,
    uai: String,
    establishment: String,
    academy: String,
    category: &'static str,
    status: &'static str,
    badge: &'static str,
    closed: bool,
    filer: String,
    created: String,
    updated: String,
    on_behalf: Option<(String, String)>,
    description: String,
    accounts: Vec<AccountRow>,
    events: Vec<EventRow>,
    handle: bool,
    next_statuses: Vec<Choice>,
    done: Option<String>,
    /// The form refused (`comment` or `status`), the value typed, and why.
    error_on: &'static str,
    typed: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    fait: String,
}

fn profile_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "Élève",
        Profile::Guardian => "Représentant légal",
        Profile::PersonInCharge => "Personne en charge",
    }
}

fn done_message(fait: &str, detail: &Detail) -> Option<String> {
    let request = &detail.request;
    match fait {
        "deposee" => Some(format!(
            "Votre demande n° {} est déposée : l'assistance de l'académie de {} en est informée \
             par courriel.",
            request.id, request.academy
        )),
        "commentaire" => Some("Votre commentaire est enregistré.".to_owned()),
        "statut" => Some(format!(
            "Le statut de la demande est maintenant « {} ».",
            request.status.label()
        )),
        _ => None,
    }
}

/// A refused form, to show again.
struct Refused {
    on: &'static str,
    typed: String,
    message: String,
}

async fn detail_view(
    app: &AppState,
    signed: &Signed,
    id: &str,
    fait: &str,
    refused: Option<Refused>,
) -> Response {
    let path = format!("/gestion/assistance/{id}");
    let detail = match assistance::request(&signed.actor, &desk(app), id, app.now_ms()).await {
        Ok(detail) => detail,
        Err(error) => return refusal(error, &path),
    };
    let result = async {
        let request = &detail.request;
        let name = establishment_name(app, &request.uai).await?;
        let filer = match &request.filed_by {
            Some(staff_id) => match app.durable.staff(staff_id).await? {
                Some(staff) => staff.display_name(),
                None => request.filed_by_label.clone(),
            },
            None => request.filed_by_label.clone(),
        };
        let uai = Uai::parse(&request.uai).map_err(anyhow::Error::msg)?;
        // The account pages are the establishment's.
        let of_establishment = signed.actor.check(&uai, Right::View).is_ok()
            && signed.actor.check(&uai, Right::FileRequest).is_ok();
        let accounts = request
            .accounts
            .iter()
            .map(|a| AccountRow {
                name: format!("{} {}", a.given_name, a.family_name),
                login: a.login.clone(),
                profile: profile_label(a.profile),
                href: of_establishment.then(|| {
                    format!(
                        "/gestion/etablissements/{}/comptes/{}",
                        request.uai, a.account_id
                    )
                }),
            })
            .collect();
        let events = detail
            .events
            .iter()
            .map(|e| EventRow {
                at: french_time(e.at),
                author: e.author_name.clone(),
                side: if e.by_assistance {
                    "Assistance"
                } else {
                    "Établissement"
                },
                change: e
                    .previous_status
                    .zip(e.status)
                    .map(|(from, to)| format!("{} → {}", from.label(), to.label())),
                body: e.body.clone(),
            })
            .collect();
        let chrome = if detail.access.handle {
            Chrome::new(signed, Section::Queue)
        } else {
            Chrome::of(signed, &uai, &name, Section::Assistance)
        };
        let (error_on, typed, error) = match refused {
            Some(r) => (r.on, r.typed, Some(r.message)),
            None => ("", String::new(), None),
        };
        let status = if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let page = DetailPage {
            chrome: Some(chrome),
            csrf: signed.csrf(),
            id: request.id.clone(),
            uai: request.uai.clone(),
            establishment: name,
            academy: request.academy.clone(),
            category: request.category.label(),
            status: request.status.label(),
            badge: badge(request.status),
            closed: request.status == Status::Closed,
            filer,
            created: french_time(request.created_at),
            updated: french_time(request.updated_at),
            on_behalf: request
                .on_behalf
                .as_ref()
                .map(|o| (o.name.clone(), o.contact.clone())),
            description: request.description.clone(),
            accounts,
            events,
            handle: detail.access.handle,
            next_statuses: Status::ALL
                .into_iter()
                .filter(|s| request.status.may_become(*s))
                .map(|s| Choice {
                    value: s.as_str(),
                    label: s.label(),
                })
                .collect(),
            done: if error.is_none() {
                done_message(fait, &detail)
            } else {
                None
            },
            error_on,
            typed,
            error,
        };
        Ok::<_, anyhow::Error>(private(pages::render_with_script(status, &page)))
    }
    .await;
    result.unwrap_or_else(internal)
}

pub async fn page(
    State(app): State<AppState>,
    Path(id): Path<String>,
    signed: Signed,
    Query(query): Query<DetailQuery>,
) -> Response {
    detail_view(&app, &signed, &id, &query.fait, None).await
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    comment: String,
}

fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Makes `change`, then back to the request saying what was done (`fait`), or the page again
/// with the form refused (`on`).
async fn change(
    app: &AppState,
    signed: &Signed,
    id: &str,
    change: Change,
    fait: &str,
    on: &'static str,
) -> Response {
    let now = app.now_ms();
    let desk = desk(app);
    let made = assistance::update(&signed.actor, &desk, Some(&signed.staff), id, &change, now);
    match made.await {
        Ok(_) => Redirect::to(&format!("/gestion/assistance/{id}?fait={fait}")).into_response(),
        Err(OperationError::InvalidAssistance { message, .. }) => {
            let refused = Refused {
                on,
                typed: change.comment.unwrap_or_default(),
                message: capitalized(&message),
            };
            detail_view(app, signed, id, "", Some(refused)).await
        }
        Err(error) => refusal(error, &format!("/gestion/assistance/{id}")),
    }
}

pub async fn comment(
    State(app): State<AppState>,
    Path(id): Path<String>,
    signed: Signed,
    Form(form): Form<CommentForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let asked = Change {
        comment: Some(form.comment),
        status: None,
    };
    change(&app, &signed, &id, asked, "commentaire", "comment").await
}

pub async fn status(
    State(app): State<AppState>,
    Path(id): Path<String>,
    signed: Signed,
    Form(form): Form<StatusForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let Some(next) = Status::parse(form.status.trim()) else {
        let refused = Refused {
            on: "status",
            typed: form.comment,
            message: "Choisissez le nouveau statut de la demande.".to_owned(),
        };
        // Only who may handle the request is told more than that it is refused.
        return match assistance::request(&signed.actor, &desk(&app), &id, app.now_ms()).await {
            Ok(detail) if detail.access.handle => {
                detail_view(&app, &signed, &id, "", Some(refused)).await
            }
            Ok(_) => refusal(
                OperationError::OutOfScope,
                &format!("/gestion/assistance/{id}"),
            ),
            Err(error) => refusal(error, &format!("/gestion/assistance/{id}")),
        };
    };
    let asked = Change {
        comment: Some(form.comment),
        status: Some(next),
    };
    change(&app, &signed, &id, asked, "statut", "status").await
}
