//! Assistance requests through the administration API: filing one for an establishment (on a
//! guardian's behalf: the tokens are national), the queue by académie and status, one request
//! with its events, a comment or a change of status. The same domain functions as the
//! back-office's pages (`crate::assistance`), under the same rights.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::errors::body_rejection;
use super::{found, uai, AdminError};
use crate::app::{App, AppState};
use crate::assistance::{
    self, AccountRef, Category, Change, Desk, Filing, OnBehalf, QueueFilter, Status,
};
use crate::establishments::Actor;
use crate::http::error::no_store;
use crate::siecle::ids::academy_named;

fn desk(app: &App) -> Desk<'_> {
    let store = &*app.durable;
    Desk {
        requests: store,
        accounts: store,
        directory: store,
        staff: store,
        audit: store,
        kek: app.keys.kek(),
        service_url: &app.config.issuer,
    }
}

fn created(body: serde_json::Value) -> Response {
    (StatusCode::CREATED, no_store(), Json(body)).into_response()
}

fn category(value: Option<&str>) -> Result<Option<Category>, AdminError> {
    value
        .map(|v| {
            Category::parse(v).ok_or_else(|| {
                AdminError::invalid_request(format!(
                    "category « {v} » inconnue : account_missing, cannot_link, cannot_activate \
                     ou other"
                ))
            })
        })
        .transpose()
}

fn status(value: Option<&str>) -> Result<Option<Status>, AdminError> {
    value
        .map(|v| {
            Status::parse(v).ok_or_else(|| {
                AdminError::invalid_request(format!(
                    "status « {v} » inconnu : open, in_progress ou closed"
                ))
            })
        })
        .transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OnBehalfBody {
    name: String,
    contact: String,
}

/// `POST /admin/establishments/{uai}/assistance-requests`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBody {
    category: Option<String>,
    #[serde(default)]
    description: String,
    /// The accounts concerned, by login and by id.
    #[serde(default)]
    logins: Vec<String>,
    #[serde(default)]
    account_ids: Vec<String>,
    on_behalf: Option<OnBehalfBody>,
}

pub(super) async fn file(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    body: Result<Json<FileBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let filing = Filing {
        uai,
        category: category(body.category.as_deref())?,
        accounts: body
            .logins
            .into_iter()
            .map(AccountRef::Login)
            .chain(body.account_ids.into_iter().map(AccountRef::Id))
            .collect(),
        description: body.description,
        on_behalf: body.on_behalf.map(|o| OnBehalf {
            name: o.name,
            contact: o.contact,
        }),
    };
    let request = assistance::file(&actor, &desk(&app), None, &filing, app.now_ms()).await?;
    Ok(created(json!({ "request": request })))
}

#[derive(Deserialize)]
pub(super) struct QueueParams {
    academy: Option<String>,
    status: Option<String>,
}

/// `GET /admin/assistance-requests?academy=…&status=…`.
pub(super) async fn queue(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(params): Query<QueueParams>,
) -> Result<Response, AdminError> {
    let academy = params
        .academy
        .as_deref()
        .map(|a| {
            academy_named(a)
                .ok_or_else(|| AdminError::invalid_request(format!("académie « {a} » inconnue")))
        })
        .transpose()?;
    let filter = QueueFilter {
        academy,
        status: status(params.status.as_deref())?,
    };
    let requests = assistance::queue(&actor, &desk(&app), &filter).await?;
    Ok(found(json!({ "requests": requests })))
}

/// `GET /admin/assistance-requests/{id}`.
pub(super) async fn request(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let detail = assistance::request(&actor, &desk(&app), &id, app.now_ms()).await?;
    Ok(found(
        json!({ "request": detail.request, "events": detail.events }),
    ))
}

/// `POST /admin/assistance-requests/{id}/events`: `{"comment": …}`, `{"status": …}`, or both.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventBody {
    comment: Option<String>,
    status: Option<String>,
}

pub(super) async fn event(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Result<Json<EventBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(body_rejection)?;
    let change = Change {
        comment: body.comment,
        status: status(body.status.as_deref())?,
    };
    let event = assistance::update(&actor, &desk(&app), None, &id, &change, app.now_ms()).await?;
    Ok(created(json!({ "event": event })))
}
