//! Userinfo endpoint, GET and POST (OpenID Connect Core §5.3.1, RFC 6750 §2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{no_store, ApiError};
use crate::app::AppState;
use crate::error::OAuthError;
use crate::oidc::userinfo;
use crate::secrets::Secret;

/// RFC 6750 §2.1 header, or §2.2 form body on POST; never both.
fn bearer(method: &Method, headers: &HeaderMap, body: &[u8]) -> Result<Option<Secret>, OAuthError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| Secret::from_presented(t.trim()));
    let from_body = if method == Method::POST {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| Secret::from_presented(&v))
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the access token only once",
        )),
        (token, None) | (None, token) => Ok(token),
    }
}

#[tracing::instrument(skip_all)]
pub async fn userinfo(
    State(app): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = bearer(&method, &headers, &body)?;
    let claims = userinfo::userinfo(&app, token).await?;
    Ok((no_store(), Json(claims)).into_response())
}
