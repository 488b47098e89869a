//! The administration API, for the establishments' back-office and the national operators: a
//! Siècle import of one establishment (the same checks and the same transaction as `educonnect
//! import siecle`), the establishment's notices and import history, the linking candidates to
//! confirm, and codes to attach a pupil by hand. Bearer tokens whose digests are in
//! `admin.token_digests`; JSON in and out, errors as `{error, error_description}`.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use self::errors::{body_rejection, json_errors, unknown_route, upload_error};
use super::authorize::client_address;
use super::error::no_store;
use crate::accounts::linking::{self, Resolution, Resolved};
use crate::accounts::{throttle, Profile};
use crate::app::{App, AppState};
use crate::provisioning::Outcome;
use crate::secrets::{constant_time_eq, digest};
use crate::siecle::{Ine, Uai};

mod errors;

/// Imports listed by `GET .../imports`.
const HISTORY: i64 = 50;

pub fn routes(app: &AppState) -> Router<AppState> {
    let upload = Router::new()
        .route("/admin/imports/siecle", post(import_siecle))
        // Exports are megabytes, where everything else takes a few kilobytes.
        .layer(DefaultBodyLimit::max(app.config.admin.max_import_bytes));
    Router::new()
        .route(
            "/admin/establishments/{uai}",
            get(establishment).put(name_establishment),
        )
        .route("/admin/establishments/{uai}/notices", get(notices))
        .route(
            "/admin/establishments/{uai}/notices/{id}/read",
            post(notice_read),
        )
        .route("/admin/establishments/{uai}/imports", get(imports))
        .route(
            "/admin/establishments/{uai}/link-candidates",
            get(establishment_candidates),
        )
        .route("/admin/link-candidates/merge", post(merge_candidate))
        .route("/admin/link-candidates/reject", post(reject_candidate))
        .route("/admin/pupils/{ine}/attachment-code", post(attachment_code))
        .route("/admin/{*rest}", any(unknown_route))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .merge(upload)
        // The token is checked before any handler reads a body.
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token))
        .layer(middleware::map_response(json_errors))
}

async fn require_token(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let address = client_address(&app, peer, request.headers());
    match authorize(&app, request.headers(), &address).await {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// An error of the administration API.
pub struct AdminError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

impl AdminError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> AdminError {
        AdminError {
            status,
            code,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn not_found(description: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::NOT_FOUND, "not_found", description)
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(error: anyhow::Error) -> AdminError {
        tracing::error!(error = %error, "internal error");
        AdminError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "erreur interne",
        )
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, no_store(), Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"educonnect-admin\""),
            );
        }
        response
    }
}

/// The caller holds one of the configured tokens. Wrong tokens are counted per address, on a
/// counter of their own (logins from the same school address are not affected): after
/// `throttle.failures_per_account` of them the address gets 429 until the window ends. A right
/// token always passes (256 random bits are not guessed; the throttle is there to stop trying).
async fn authorize(app: &App, headers: &HeaderMap, address: &str) -> Result<(), AdminError> {
    let digests = &app.config.admin.token_digests;
    if digests.is_empty() {
        return Err(AdminError::not_found("API d'administration désactivée"));
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = presented {
        let presented = digest(token.as_bytes());
        // Every digest is compared, in constant time.
        let known = digests
            .iter()
            .fold(false, |found, d| found | constant_time_eq(d, &presented));
        if known {
            return Ok(());
        }
    }
    // Wrong tokens from one address are counted, and refused past the bound, in one atomic
    // step (review #13.1); a right token always passes and counts nothing.
    let throttle = &app.config.throttle;
    let counters = throttle::single(throttle, &format!("admin:{address}"));
    let Some(attempt) = throttle::begin(&*app.ephemeral, throttle, counters).await? else {
        return Err(AdminError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "trop de jetons refusés depuis cette adresse, réessayez plus tard",
        ));
    };
    attempt.failed();
    Err(match presented {
        None => AdminError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "jeton d'administration (Authorization: Bearer) manquant",
        ),
        Some(_) => {
            tracing::warn!(%address, "administration API: token refused");
            AdminError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "jeton d'administration inconnu",
            )
        }
    })
}

fn uai(value: &str) -> Result<Uai, AdminError> {
    Uai::parse(value).map_err(|e| AdminError::invalid_request(format!("UAI {value} : {e}")))
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    skip_invalid: bool,
}

/// `multipart/form-data` with the parts `eleves` (ElevesSansAdresses.xml) and `responsables`
/// (ResponsablesAvecAdresses.xml). 200 with the report, 422 with the problems when refused, 429
/// when every upload slot is taken, 503 when interrupted (nothing written in any of these).
async fn import_siecle(
    State(app): State<AppState>,
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
    let outcome = slot
        .import(
            &*app.durable,
            pupils,
            guardians,
            query.skip_invalid,
            app.now_ms(),
        )
        .await
        .map_err(upload_error)?;
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

async fn establishment(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    answer(&uai, None, app.durable.establishment(uai.as_str()).await?)
}

#[derive(Deserialize)]
struct NameBody {
    name: String,
}

/// The establishment's name, which the Siècle exports do not carry.
async fn name_establishment(
    State(app): State<AppState>,
    Path(code): Path<String>,
    body: Result<Json<NameBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::invalid_request(
            "nom d'établissement attendu : 1 à 200 caractères, sans caractère de contrôle",
        ));
    }
    if !app
        .durable
        .set_establishment_name(uai.as_str(), name)
        .await?
    {
        return Err(unknown_establishment(&uai));
    }
    establishment(State(app), Path(code)).await
}

async fn notices(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    answer(
        &uai,
        Some("notices"),
        app.durable.notices(uai.as_str()).await?,
    )
}

async fn notice_read(
    State(app): State<AppState>,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    if !app
        .durable
        .mark_notice_read(uai.as_str(), &id, app.now_ms())
        .await?
    {
        return Err(AdminError::not_found(format!(
            "pas de notification {id} pour l'établissement {uai}"
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn imports(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    answer(
        &uai,
        Some("imports"),
        app.durable.imports(uai.as_str(), HISTORY).await?,
    )
}

async fn establishment_candidates(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let candidates = app
        .durable
        .candidates_of_establishment(uai.as_str())
        .await?;
    answer(&uai, Some("candidates"), candidates)
}

/// What the store found about an establishment, as JSON (under `key` when given); 404 for an
/// establishment never imported.
fn answer<T: serde::Serialize>(
    uai: &Uai,
    key: Option<&str>,
    found: Option<T>,
) -> Result<Response, AdminError> {
    let found = found.ok_or_else(|| unknown_establishment(uai))?;
    let body = match key {
        Some(key) => json!({ key: found }),
        None => json!(found),
    };
    Ok((no_store(), Json(body)).into_response())
}

fn unknown_establishment(uai: &Uai) -> AdminError {
    AdminError::not_found(format!("l'établissement {uai} n'a jamais été importé"))
}

#[derive(Deserialize)]
struct MergeBody {
    /// The account that stays.
    keep: String,
    /// The account absorbed into it.
    merge: String,
}

/// The two accounts are one guardian: `merge` becomes part of `keep`.
async fn merge_candidate(
    State(app): State<AppState>,
    body: Result<Json<MergeBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(body_rejection)?;
    let resolution = Resolution::Merge { keep: &body.keep };
    resolve(&app, &body.keep, &body.merge, resolution).await
}

#[derive(Deserialize)]
struct RejectBody {
    account_id: String,
    other_account_id: String,
}

/// The two accounts are two people.
async fn reject_candidate(
    State(app): State<AppState>,
    body: Result<Json<RejectBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(body_rejection)?;
    resolve(
        &app,
        &body.account_id,
        &body.other_account_id,
        Resolution::Reject,
    )
    .await
}

async fn resolve(
    app: &AppState,
    account_id: &str,
    other_account_id: &str,
    resolution: Resolution<'_>,
) -> Result<Response, AdminError> {
    match app
        .durable
        .resolve_candidate(account_id, other_account_id, resolution, app.now_ms())
        .await?
    {
        Resolved::Done => {
            tracing::info!(
                account_id,
                other_account_id,
                ?resolution,
                "linking candidate resolved"
            );
            if let Resolution::Merge { keep } = resolution {
                let absorbed = if keep == account_id {
                    other_account_id
                } else {
                    account_id
                };
                crate::oidc::logout::end_sessions_of(app, absorbed).await?;
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Resolved::NotFound => Err(AdminError::not_found(
            "pas de rapprochement en attente entre ces deux comptes",
        )),
    }
}

/// A single-use code the establishment hands a guardian to attach this pupil (shown once).
async fn attachment_code(
    State(app): State<AppState>,
    Path(value): Path<String>,
) -> Result<Response, AdminError> {
    let ine = Ine::parse(&value)
        .map_err(|e| AdminError::invalid_request(format!("INE {value} : {e}")))?;
    let pupil = match app.durable.pupil_account(ine.as_str()).await? {
        Some(id) => app.durable.account(&id).await?,
        None => None,
    };
    let Some(pupil) = pupil.filter(|a| a.profile == Profile::Pupil) else {
        return Err(AdminError::not_found(format!("aucun élève d'INE {ine}")));
    };
    let (code, stored) = linking::new_code(&pupil.id, app.now_ms());
    app.durable.insert_attachment_code(&stored).await?;
    tracing::info!(pupil = %pupil.id, "attachment code issued");
    Ok((
        no_store(),
        Json(
            json!({ "code": code, "expires_at": stored.expires_at, "pupil": {
            "given_name": pupil.given_name, "family_name": pupil.family_name,
        } }),
        ),
    )
        .into_response())
}
