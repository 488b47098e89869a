//! The administration API's errors that are not one handler's own: those axum and tower-http
//! answer in plain text (a body limit, an unknown route or method) rendered as the API's JSON,
//! a JSON body that cannot be read, an upload that was not carried out, and the refusals of the
//! establishment operations (each variant its status and `error` code).

use axum::extract::rejection::JsonRejection;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AdminError;
use crate::establishments::OperationError;
use crate::provisioning::UploadError;

pub(super) async fn unknown_route() -> AdminError {
    AdminError::not_found("cette adresse n'existe pas dans l'API d'administration")
}

/// Every `/admin` error is `{error, error_description}` in French, including those that axum and
/// tower-http answer in plain text (413 past a body limit, 404, 405).
pub(super) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, description) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "corps de requête trop volumineux : 64 Kio au plus (admin.max_import_bytes pour un \
             import Siècle)",
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            "cette adresse n'existe pas dans l'API d'administration",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "cette méthode HTTP n'est pas acceptée à cette adresse",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "invalid_request",
            "type de contenu non accepté : application/json ou multipart/form-data attendu",
        ),
        s if s.is_server_error() => ("server_error", "erreur interne"),
        _ => ("invalid_request", "requête invalide"),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut json = AdminError::new(status, code, description).into_response();
    if let Some(allow) = allow {
        json.headers_mut().insert(header::ALLOW, allow);
    }
    json
}

/// A JSON body that cannot be read: too large (413), or not the expected JSON (400).
pub(super) fn body_rejection(error: JsonRejection) -> AdminError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AdminError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "corps de requête trop volumineux : 64 Kio au plus",
        );
    }
    AdminError::invalid_request(format!("corps JSON invalide : {}", error.body_text()))
}

pub(super) fn upload_error(error: UploadError) -> AdminError {
    match error {
        UploadError::Busy => AdminError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "trop d'imports en cours (admin.max_concurrent_imports) : réessayez dans quelques \
             minutes",
        ),
        UploadError::Interrupted(why) => AdminError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            format!("{}, rien n'a été modifié", why.describe()),
        ),
        UploadError::Internal(error) => error.into(),
    }
}

impl From<OperationError> for AdminError {
    fn from(error: OperationError) -> AdminError {
        let description = error.to_string();
        match error {
            // RFC 6750 §3.1: a valid token without the rights the request needs.
            OperationError::OutOfScope | OperationError::SecondFactorRequired => {
                AdminError::new(StatusCode::FORBIDDEN, "insufficient_scope", description)
            }
            OperationError::UnknownEstablishment(_)
            | OperationError::UnknownNotice { .. }
            | OperationError::NoOpenCandidate
            | OperationError::UnknownPupil(_)
            | OperationError::NotNotifiable(_)
            | OperationError::UnknownStaff(_)
            | OperationError::UnknownRole
            | OperationError::UnknownAccount(_)
            | OperationError::UnknownAssistance(_) => AdminError::not_found(description),
            OperationError::InvalidName
            | OperationError::InvalidStaff(_)
            | OperationError::InvalidAssistance { .. } => AdminError::invalid_request(description),
            // The establishment's accounts (back-office, #16).
            OperationError::InvalidEmail
            | OperationError::InvalidPhone
            | OperationError::NotAGuardian
            | OperationError::NotAPupil => AdminError::invalid_request(description),
            OperationError::AssistanceChanged | OperationError::StaffLoginTaken(_) => {
                AdminError::new(StatusCode::CONFLICT, "conflict", description)
            }
            OperationError::Upload(error) => upload_error(error),
            OperationError::Internal(error) => error.into(),
        }
    }
}
