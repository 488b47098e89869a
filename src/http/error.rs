//! Rendering of protocol errors: `{error, error_description}` with the RFC status; 401 with
//! `WWW-Authenticate` for `invalid_client` (RFC 6749 §5.2) and `invalid_token` (RFC 6750 §3).
//! Internal causes go to the log only. A store that does not answer (`StoreUnavailable`) is a
//! 503 with `Retry-After`, not a 500: `temporarily_unavailable` on the JSON endpoints, a French
//! page on the others.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::{ErrorCode, OAuthError};
use crate::store::StoreUnavailable;

/// `Retry-After` of a 503 (RFC 9110 §10.2.3): a store restart takes seconds.
const RETRY_AFTER_SECONDS: &str = "5";

/// An error of a JSON endpoint.
pub struct ApiError(pub OAuthError);

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        ApiError(error)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = self.0;
        if let Some(source) = &error.source {
            if StoreUnavailable::caused(source) {
                tracing::warn!(error = %source, "store unavailable");
                // RFC 6749 §4.1.2.1 defines `temporarily_unavailable` for the authorization
                // endpoint only; §5.2 has no such code, and it says the same thing to a client
                // of the token, introspection, revocation and userinfo endpoints.
                error.code = ErrorCode::TemporarilyUnavailable;
                error.description = "service momentanément indisponible".into();
            } else {
                tracing::error!(error = %source, "internal error");
            }
        }
        let status = StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({ "error": error.code.as_str(), "error_description": error.description });
        let mut response = (status, no_store(), Json(body)).into_response();
        let challenge = match error.code {
            ErrorCode::InvalidClient => Some("Basic realm=\"educonnect\"".to_owned()),
            ErrorCode::InvalidToken => Some(format!(
                "Bearer realm=\"educonnect\", error=\"invalid_token\", error_description=\"{}\"",
                error.description.replace('"', "'")
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if error.code == ErrorCode::TemporarilyUnavailable {
            retry_after(&mut response);
        }
        response
    }
}

/// RFC 6749 §5.1: responses carrying tokens or about tokens are never cached.
pub fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// An internal failure on a page: logged, and a French page without detail (503 with
/// `Retry-After` when a store did not answer).
pub fn internal_page(error: anyhow::Error) -> Response {
    if StoreUnavailable::caused(&error) {
        tracing::warn!(error = %error, "store unavailable");
        let mut response = super::pages::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service momentanément indisponible. Réessayez dans quelques instants.",
        );
        retry_after(&mut response);
        return response;
    }
    tracing::error!(error = %error, "internal error");
    super::pages::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Une erreur technique est survenue. Réessayez dans quelques instants.",
    )
}

fn retry_after(response: &mut Response) {
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
}
