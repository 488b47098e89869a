//! The back-office's assistance requests: an establishment's requests and the form to file one
//! (`/gestion/etablissements/{uai}/assistance`), the form operators file with on a guardian's
//! behalf (`/gestion/assistance/nouvelle`), the académie's queue (`/gestion/assistance`) and one
//! request with its comments and status forms (`/gestion/assistance/{id}`). The handlers
//! translate: every right is checked by `crate::assistance`.
//!
//! Files: `filing.rs` (the two filing pages), `queue.rs`, `detail.rs`; what they share here.

mod detail;
mod filing;
mod queue;

use axum::routing::{get, post};
use axum::Router;

use crate::app::{App, AppState};
use crate::assistance::{AssistanceRequest, Category, Desk, Status};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/gestion/etablissements/{uai}/assistance",
            get(filing::establishment_page).post(filing::establishment_submit),
        )
        .route("/gestion/assistance", get(queue::page))
        .route(
            "/gestion/assistance/nouvelle",
            get(filing::national_page).post(filing::national_submit),
        )
        .route("/gestion/assistance/{id}", get(detail::page))
        .route(
            "/gestion/assistance/{id}/commentaire",
            post(detail::comment),
        )
        .route("/gestion/assistance/{id}/statut", post(detail::status))
}

pub(super) fn desk(app: &App) -> Desk<'_> {
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

/// A choice of a select.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

pub fn categories() -> Vec<Choice> {
    Category::ALL
        .into_iter()
        .map(|c| Choice {
            value: c.as_str(),
            label: c.label(),
        })
        .collect()
}

/// The badge of a status (`fr-badge--…`).
pub fn badge(status: Status) -> &'static str {
    match status {
        Status::Open => "fr-badge--info",
        Status::InProgress => "fr-badge--warning",
        Status::Closed => "fr-badge--success",
    }
}

/// A request as a row of a list.
pub struct Row {
    pub id: String,
    pub created: String,
    pub updated: String,
    pub uai: String,
    pub establishment: String,
    pub category: &'static str,
    pub status: &'static str,
    pub badge: &'static str,
    pub on_behalf: bool,
}

impl Row {
    pub fn of(request: &AssistanceRequest, establishment: &str) -> Row {
        Row {
            id: request.id.clone(),
            created: super::home::french_time(request.created_at),
            updated: super::home::french_time(request.updated_at),
            uai: request.uai.clone(),
            establishment: establishment.to_owned(),
            category: request.category.label(),
            status: request.status.label(),
            badge: badge(request.status),
            on_behalf: request.on_behalf.is_some(),
        }
    }
}

/// An establishment's name as the directory holds it (a placeholder until it is named).
pub async fn establishment_name(app: &App, uai: &str) -> anyhow::Result<String> {
    Ok(app
        .durable
        .establishment(uai)
        .await?
        .and_then(|e| e.name)
        .unwrap_or_else(|| "Établissement sans nom".to_owned()))
}
