//! What the pages about one establishment share: the UAI of their path, their layout
//! (`Chrome::of`, with the establishment's name), the stores their domain functions take, and
//! where a form sends the browser back to.

use axum::http::StatusCode;
use axum::response::Response;

use super::chrome::{Chrome, Section};
use super::signed::{private, Signed};
use crate::app::App;
use crate::establishments::{self, Desk, Files, OperationError};
use crate::http::pages;
use crate::siecle::Uai;

/// The establishment of a page's path; a path that is no UAI is a page that does not exist.
#[allow(clippy::result_large_err)] // the page's answer, returned at once
pub fn uai(code: &str) -> Result<Uai, Response> {
    Uai::parse(code).map_err(|_| {
        private(pages::error_page(
            StatusCode::NOT_FOUND,
            "Cette page n'existe pas : l'adresse ne désigne aucun établissement.",
        ))
    })
}

/// `/gestion/etablissements/{uai}`, where the establishment's pages live.
pub fn base(uai: &Uai) -> String {
    format!("/gestion/etablissements/{uai}")
}

/// The layout of a page about `uai` (seeing it needs `Right::View`).
pub async fn chrome(
    app: &App,
    signed: &Signed,
    uai: &Uai,
    section: Section,
) -> Result<Chrome, OperationError> {
    let shown = establishments::establishment(&signed.actor, &*app.durable, uai).await?;
    Ok(Chrome::of(
        signed,
        uai,
        &display_name(&shown.name, uai),
        section,
    ))
}

/// The establishment's name, or what stands for it until it is named.
pub fn display_name(name: &Option<String>, uai: &Uai) -> String {
    name.clone()
        .unwrap_or_else(|| format!("Établissement {uai}"))
}

pub fn desk(app: &crate::app::AppState) -> Desk<'_> {
    Desk {
        directory: &*app.durable,
        accounts: &*app.durable,
        roster: &*app.durable,
        links: &*app.durable,
        audit: &*app.durable,
        sessions: app,
        ephemeral: &*app.ephemeral,
        throttle: &app.config.throttle,
    }
}

pub fn files(app: &App) -> Files<'_> {
    Files {
        directory: &*app.durable,
        accounts: &*app.durable,
        roster: &*app.durable,
        outbox: &*app.durable,
        audit: &*app.durable,
        ephemeral: &*app.ephemeral,
        throttle: &app.config.throttle,
    }
}

/// Percent-encoded, for a query string.
pub fn query_value(value: &str) -> String {
    super::signed::encode(value)
}
