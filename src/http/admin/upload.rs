//! `POST /admin/imports/siecle`: the two files of a Siècle export read from a
//! `multipart/form-data` body, inside an upload slot admitted before the body is read, then
//! handed to `establishments::import_upload`.

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::errors::upload_error;
use super::AdminError;
use crate::app::AppState;
use crate::establishments::{self, Actor, UploadedFiles};
use crate::http::error::no_store;
use crate::provisioning::Outcome;

#[derive(Deserialize)]
pub(super) struct ImportQuery {
    #[serde(default)]
    skip_invalid: bool,
}

/// `multipart/form-data` with the parts `eleves` (ElevesSansAdresses.xml) and `responsables`
/// (ResponsablesAvecAdresses.xml). 200 with the report, 422 with the problems when refused, 429
/// when every upload slot is taken, 503 when interrupted (nothing written in any of these).
pub(super) async fn import_siecle(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    query: Result<Query<ImportQuery>, QueryRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::invalid_request(e.body_text()))?;
    let multipart = multipart.map_err(|e| {
        AdminError::invalid_request(format!("corps multipart/form-data attendu : {e}"))
    })?;
    // Review #13.4: admitted before the body is read, so the files held at once are bounded too.
    let slot = app.uploads.admit().map_err(upload_error)?;
    let (pupils, guardians) = slot
        .within(parts(multipart))
        .await
        .map_err(|why| upload_error(why.into()))??;
    let files = UploadedFiles { pupils, guardians };
    let skip_invalid = query.skip_invalid;
    let outcome = establishments::import_upload(
        &actor,
        &slot,
        &*app.durable,
        files,
        skip_invalid,
        app.now_ms(),
    )
    .await?;
    let status = match outcome {
        Outcome::Imported(_) => StatusCode::OK,
        Outcome::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, no_store(), Json(outcome)).into_response())
}

/// The two files of an upload.
async fn parts(mut multipart: Multipart) -> Result<(Bytes, Bytes), AdminError> {
    let (mut pupils, mut guardians) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(too_large_or_invalid)? {
        let name = field.name().unwrap_or_default().to_owned();
        let slot = match name.as_str() {
            "eleves" => &mut pupils,
            "responsables" => &mut guardians,
            other => {
                return Err(AdminError::invalid_request(format!(
                    "partie inattendue « {other} » : seules eleves et responsables sont lues"
                )))
            }
        };
        if slot.is_some() {
            return Err(AdminError::invalid_request(format!(
                "la partie {name} est envoyée deux fois"
            )));
        }
        *slot = Some(field.bytes().await.map_err(too_large_or_invalid)?);
    }
    match (pupils, guardians) {
        (Some(pupils), Some(guardians)) => Ok((pupils, guardians)),
        _ => Err(AdminError::invalid_request(
            "il faut les deux fichiers : eleves (ElevesSansAdresses.xml) et responsables \
             (ResponsablesAvecAdresses.xml)",
        )),
    }
}

fn too_large_or_invalid(error: axum::extract::multipart::MultipartError) -> AdminError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AdminError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "envoi trop volumineux (admin.max_import_bytes)",
        )
    } else {
        AdminError::invalid_request(format!("corps multipart illisible : {error}"))
    }
}
