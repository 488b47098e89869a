//! The identifiers file page (`/gestion/etablissements/{uai}/identifiants`): what the file is,
//! and two forms that download it as CSV or PDF (each download produces and records a file:
//! the next one lists only what came after). `Right::Pupils` and `Right::Guardians`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::chrome::{Chrome, Section};
use super::place::{self, base};
use super::signed::{private, refusal, Signed};
use crate::app::AppState;
use crate::establishments::{self, OperationError, Right};
use crate::http::pages;
use crate::notify::identifiers;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gestion/etablissements/{uai}/identifiants", get(page))
        .route(
            "/gestion/etablissements/{uai}/identifiants/fichier",
            post(download),
        )
}

#[derive(Template)]
#[template(path = "backoffice/identifiers.html")]
struct IdentifiersPage {
    chrome: Option<Chrome>,
    base: String,
    csrf: String,
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
) -> Response {
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = format!("{}/identifiants", base(&uai));
    let result = async {
        // The page offers what only the holder of both rights may download.
        signed.actor.require(&uai, Right::Pupils)?;
        signed.actor.require(&uai, Right::Guardians)?;
        let chrome = place::chrome(&app, &signed, &uai, Section::Identifiers).await?;
        Ok::<_, OperationError>(IdentifiersPage {
            chrome: Some(chrome),
            base: base(&uai),
            csrf: signed.csrf(),
        })
    }
    .await;
    match result {
        Ok(page) => private(pages::render_with_script(StatusCode::OK, &page)),
        Err(error) => refusal(error, &here),
    }
}

#[derive(Deserialize)]
pub struct DownloadForm {
    #[serde(default)]
    csrf: String,
    /// `csv` or `pdf`.
    #[serde(default)]
    format: String,
}

pub async fn download(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Form(form): Form<DownloadForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = format!("{}/identifiants", base(&uai));
    let format = if form.format == "pdf" { "pdf" } else { "csv" };
    let result = async {
        let store = &*app.durable;
        let shown = establishments::establishment(&signed.actor, store, &uai).await?;
        let file = establishments::identifiers_recorded(
            &signed.actor,
            store,
            store,
            &uai,
            format,
            app.now_ms(),
        )
        .await?;
        Ok::<_, OperationError>(match format {
            "pdf" => (
                "application/pdf",
                identifiers::pdf(&file, &place::display_name(&shown.name, &uai))?,
            ),
            _ => (
                "text/csv; charset=utf-8",
                identifiers::csv(&file).into_bytes(),
            ),
        })
    }
    .await;
    match result {
        Ok((content_type, bytes)) => {
            let disposition = format!("attachment; filename=\"identifiants-{uai}.{format}\"");
            (
                crate::http::error::no_store(),
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_str(&disposition)
                            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(error) => refusal(error, &here),
    }
}
