//! Rendering of protocol errors: `{error, error_description}` with the RFC status; 401 with
//! `WWW-Authenticate` for `invalid_client` (RFC 6749 §5.2) and `invalid_token` (RFC 6750 §3).
//! Internal causes go to the log only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::{ErrorCode, OAuthError};

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
        let error = self.0;
        if let Some(source) = &error.source {
            tracing::error!(error = %source, "internal error");
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

/// An internal failure on a page: logged, and a French page without detail.
pub fn internal_page(error: anyhow::Error) -> Response {
    tracing::error!(error = %error, "internal error");
    super::pages::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Une erreur technique est survenue. Réessayez dans quelques instants.",
    )
}
