//! Token, introspection and revocation endpoints: form bodies and client credentials parsed here,
//! the protocol decided in `oidc`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::{no_store, ApiError};
use crate::app::AppState;
use crate::error::OAuthError;
use crate::oidc::client_auth::{Presented, ASSERTION_TYPE};
use crate::oidc::{introspection, revocation, token};
use crate::secrets::Secret;

/// An `application/x-www-form-urlencoded` body whose parameters each appear once (RFC 6749 §3.2).
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut form = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body).into_owned() {
        if form.insert(name.clone(), value).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} appears more than once"
            )));
        }
    }
    Ok(form)
}

/// RFC 6749 §2.3: the client's credentials, by exactly one method.
pub fn credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Presented, OAuthError> {
    let form_id = form.get("client_id").filter(|v| !v.is_empty()).cloned();
    if let Some((client_id, secret)) = basic(headers)? {
        if form.contains_key("client_secret") || form.contains_key("client_assertion") {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ));
        }
        if form_id.as_ref().is_some_and(|id| *id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id differs from the Authorization header",
            ));
        }
        return Ok(Presented::Basic { client_id, secret });
    }
    if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_client(
                "unsupported client_assertion_type",
            ));
        }
        if form.contains_key("client_secret") {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ));
        }
        return Ok(Presented::Assertion {
            client_id: form_id,
            assertion: assertion.clone(),
        });
    }
    Ok(match (form_id, form.get("client_secret")) {
        (Some(client_id), Some(secret)) => Presented::Post {
            client_id,
            secret: Secret::from_presented(secret),
        },
        (Some(client_id), None) => Presented::Public { client_id },
        (None, _) => Presented::Nothing,
    })
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`.
fn basic(headers: &HeaderMap) -> Result<Option<(String, Secret)>, OAuthError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    // RFC 7235 §2.1: the scheme name is case-insensitive ("BASIC", "basic", "Basic").
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || OAuthError::invalid_client("malformed Basic credentials");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((
        unescape(id),
        Secret::from_presented(&unescape(secret)),
    )))
}

#[tracing::instrument(skip_all)]
pub async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&headers, &body)?;
    let presented = credentials(&headers, &form)?;
    let response = token::token(&app, presented, &form).await?;
    Ok((StatusCode::OK, no_store(), Json(response)).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn introspect(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&headers, &body)?;
    let presented = credentials(&headers, &form)?;
    let get = |name: &str| form.get(name).map(String::as_str);
    let answer =
        introspection::introspect(&app, presented, get("token"), get("token_type_hint")).await?;
    Ok((StatusCode::OK, no_store(), Json(answer)).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&headers, &body)?;
    let presented = credentials(&headers, &form)?;
    revocation::revoke(&app, presented, form.get("token").map(String::as_str)).await?;
    Ok((StatusCode::OK, no_store()).into_response())
}
