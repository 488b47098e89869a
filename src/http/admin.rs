//! The administration API, for the establishments' back-office and the national operators: a
//! Siècle import of one establishment (the same checks and the same transaction as `educonnect
//! import siecle`), the establishment's notices and import history, the linking candidates to
//! confirm, codes to attach a pupil by hand, notifying accounts (letters or e-mails), the file of
//! new identifiers, and the delivery status of outgoing messages. Bearer tokens whose digests are in
//! `admin.token_digests`; JSON in and out, errors as `{error, error_description}`.
//!
//! This file routes, extracts and renders; the caller is authenticated in `auth.rs` (which makes
//! it an `Actor`), an upload's multipart body is read in `upload.rs`, notifications and the
//! identifiers file in `notify.rs`, staff, delegations and the journal in `staff.rs`, assistance
//! requests in `assistance.rs`, and the operations
//! themselves are `crate::establishments`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use self::errors::{body_rejection, json_errors, unknown_route};
use super::error::no_store;
use crate::app::AppState;
use crate::establishments::{self, Actor, Resolver};
use crate::siecle::{Ine, Uai};

mod accounts;
mod assistance;
mod auth;
mod errors;
mod notify;
mod staff;
mod upload;

pub fn routes(app: &AppState) -> Router<AppState> {
    let upload = Router::new()
        .route("/admin/imports/siecle", post(upload::import_siecle))
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
            "/admin/establishments/{uai}/notifications",
            post(notify::notify),
        )
        .route(
            "/admin/establishments/{uai}/identifiers.csv",
            get(notify::identifiers_csv),
        )
        .route(
            "/admin/establishments/{uai}/identifiers.pdf",
            get(notify::identifiers_pdf),
        )
        .route(
            "/admin/establishments/{uai}/link-candidates",
            get(establishment_candidates),
        )
        .route("/admin/link-candidates/merge", post(merge_candidate))
        .route("/admin/link-candidates/reject", post(reject_candidate))
        .route("/admin/pupils/{ine}/attachment-code", post(attachment_code))
        .route("/admin/outbox/{id}", get(outbox_message))
        .route(
            "/admin/accounts/{account_id}/messages",
            get(account_messages),
        )
        // The establishment's accounts (back-office, #16).
        .route(
            "/admin/establishments/{uai}/dashboard",
            get(accounts::dashboard),
        )
        .route("/admin/establishments/{uai}/accounts", get(accounts::list))
        .route(
            "/admin/establishments/{uai}/accounts/{id}",
            get(accounts::account),
        )
        .route(
            "/admin/establishments/{uai}/accounts/{id}/state",
            post(accounts::set_state),
        )
        .route(
            "/admin/establishments/{uai}/accounts/{id}/contact",
            post(accounts::contact),
        )
        .route(
            "/admin/establishments/{uai}/accounts/{id}/unblock",
            post(accounts::unblock),
        )
        // Staff, delegations and the journal (#16).
        .route(
            "/admin/establishments/{uai}/staff",
            get(staff::establishment_staff),
        )
        .route(
            "/admin/establishments/{uai}/delegations",
            post(staff::designate),
        )
        .route("/admin/roles/{id}", delete(staff::revoke))
        .route("/admin/staff", post(staff::create_staff))
        .route(
            "/admin/establishments/{uai}/audit",
            get(staff::establishment_audit),
        )
        .route("/admin/audit", get(staff::national_audit))
        // Assistance requests (`assistance.rs`).
        .route(
            "/admin/establishments/{uai}/assistance-requests",
            post(assistance::file),
        )
        .route("/admin/assistance-requests", get(assistance::queue))
        .route("/admin/assistance-requests/{id}", get(assistance::request))
        .route(
            "/admin/assistance-requests/{id}/events",
            post(assistance::event),
        )
        .route("/admin/{*rest}", any(unknown_route))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .merge(upload)
        // The token is checked before any handler reads a body.
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_token,
        ))
        .layer(middleware::map_response(json_errors))
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

fn uai(value: &str) -> Result<Uai, AdminError> {
    Uai::parse(value).map_err(|e| AdminError::invalid_request(format!("UAI {value} : {e}")))
}

/// Found, as JSON; never cached (names of people, codes).
fn found(body: serde_json::Value) -> Response {
    (no_store(), Json(body)).into_response()
}

async fn establishment(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let shown = establishments::establishment(&actor, &*app.durable, &uai(&code)?).await?;
    Ok(found(json!(shown)))
}

#[derive(Deserialize)]
struct NameBody {
    name: String,
}

/// The establishment's name, which the Siècle exports do not carry.
async fn name_establishment(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    body: Result<Json<NameBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let named = establishments::name(&actor, &*app.durable, &uai, &body.name).await?;
    Ok(found(json!(named)))
}

async fn notices(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let notices = establishments::notices(&actor, &*app.durable, &uai(&code)?).await?;
    Ok(found(json!({ "notices": notices })))
}

async fn notice_read(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    establishments::mark_notice_read(&actor, &*app.durable, &uai, &id, app.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn imports(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let imports = establishments::imports(&actor, &*app.durable, &uai(&code)?).await?;
    Ok(found(json!({ "imports": imports })))
}

async fn establishment_candidates(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let candidates = establishments::candidates(&actor, &*app.durable, &uai(&code)?).await?;
    Ok(found(json!({ "candidates": candidates })))
}

fn resolver(app: &AppState) -> Resolver<'_> {
    Resolver {
        directory: &*app.durable,
        links: &*app.durable,
        sessions: app,
    }
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
    Extension(actor): Extension<Actor>,
    body: Result<Json<MergeBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(body_rejection)?;
    let (keep, merge) = (&body.keep, &body.merge);
    establishments::merge(&actor, &resolver(&app), keep, merge, app.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct RejectBody {
    account_id: String,
    other_account_id: String,
}

/// The two accounts are two people.
async fn reject_candidate(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Result<Json<RejectBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(body_rejection)?;
    let (one, other) = (&body.account_id, &body.other_account_id);
    establishments::decline(&actor, &resolver(&app), one, other, app.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A single-use code the establishment hands a guardian to attach this pupil (shown once).
async fn attachment_code(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(value): Path<String>,
) -> Result<Response, AdminError> {
    let ine = Ine::parse(&value)
        .map_err(|e| AdminError::invalid_request(format!("INE {value} : {e}")))?;
    let store = &*app.durable;
    let issued =
        establishments::attachment_code(&actor, store, store, store, &ine, app.now_ms()).await?;
    let pupil = &issued.pupil;
    Ok(found(json!({
        "code": issued.code,
        "expires_at": issued.expires_at,
        "pupil": { "given_name": pupil.given_name, "family_name": pupil.family_name },
    })))
}

/// One outgoing message's delivery status (never its body).
async fn outbox_message(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    match establishments::message_status(&actor, &*app.durable, &id).await? {
        Some(status) => Ok(found(json!(status))),
        None => Err(AdminError::not_found(format!(
            "aucun message {id} dans la file d'envoi"
        ))),
    }
}

/// The delivery status of every message about an account, newest first.
async fn account_messages(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(account_id): Path<String>,
) -> Result<Response, AdminError> {
    let messages = establishments::account_messages(&actor, &*app.durable, &account_id).await?;
    Ok(found(json!({ "messages": messages })))
}
