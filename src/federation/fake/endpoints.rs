//! The fake's discovery, keys and back-channel endpoints (FranceConnect v2's paths: token,
//! userinfo, session end); the authorization endpoint and its page are `authorize.rs`. What a
//! real FranceConnect checks of a service provider is checked here too, so that a provider that
//! passes against the fake does not fail against the real one for a missing parameter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde_json::{json, Value};
use url::Url;

use super::identities::TestIdentity;
use super::page;
use super::{EndedSession, Endpoint, Shared};
use crate::secrets::{constant_time_eq, random_b64};

/// The only level FranceConnect (not FranceConnect+) vouches for.
pub(super) const ACR: &str = "eidas1";
pub(super) const CODE_LIFETIME: Duration = Duration::from_secs(30);
const TOKEN_LIFETIME_SECONDS: i64 = 60;

pub(super) struct Issued {
    pub(super) identity: &'static TestIdentity,
    pub(super) redirect_uri: String,
    pub(super) nonce: String,
    pub(super) scopes: Vec<String>,
    pub(super) auth_time: i64,
    pub(super) expires: Instant,
}

pub(super) struct Granted {
    identity: &'static TestIdentity,
    scopes: Vec<String>,
    pub(super) expires: Instant,
}

pub(super) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Waits the injected delay, then answers 500 if a failure was injected for `endpoint`.
async fn injected(shared: &Shared, endpoint: Option<Endpoint>) -> Option<Response> {
    let delay = shared.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match endpoint {
        Some(endpoint) if shared.failing(endpoint) => Some(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error (injected by the fake FranceConnect)",
            )
                .into_response(),
        ),
        _ => None,
    }
}

pub(super) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(failure) = injected(&shared, Some(Endpoint::Discovery)).await {
        return failure;
    }
    let issuer = &shared.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "end_session_endpoint": format!("{issuer}/session/end"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "acr_values_supported": [ACR],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "userinfo_signing_alg_values_supported": ["ES256", "RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "scopes_supported": ["openid", "given_name", "family_name", "birthdate", "gender",
            "birthplace", "birthcountry", "email", "preferred_username", "identite_pivot"],
        "claims_supported": ["sub", "given_name", "family_name", "birthdate", "gender",
            "birthplace", "birthcountry", "email", "preferred_username"],
    }))
    .into_response()
}

pub(super) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(failure) = injected(&shared, Some(Endpoint::Jwks)).await {
        return failure;
    }
    let mut jwk = shared.key().jwk.clone();
    jwk["use"] = json!("sig");
    Json(json!({ "keys": [jwk] })).into_response()
}

/// One value of a parameter; a repeated one is an error (RFC 6749 §3.1).
pub(super) fn single<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, String> {
    let mut values = params.iter().filter(|(n, _)| n == name);
    let first = values.next().map(|(_, v)| v.as_str());
    if values.next().is_some() {
        return Err(format!("le paramètre {name} est répété"));
    }
    Ok(first)
}

pub(super) fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return page::error(StatusCode::BAD_REQUEST, "redirect_uri invalide");
    };
    url.query_pairs_mut().extend_pairs(pairs);
    Redirect::to(url.as_str()).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = Json(json!({ "error": error, "error_description": description }));
    (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
}

pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(failure) = injected(&shared, Some(Endpoint::Token)).await {
        return failure;
    }
    let get = |name: &str| single(&params, name).ok().flatten().unwrap_or_default();
    let settings = &shared.settings();
    // FranceConnect v2 authenticates a service provider by client_secret_post only.
    let authenticated = !headers.contains_key(header::AUTHORIZATION)
        && get("client_id") == settings.client_id
        && constant_time_eq(get("client_secret"), settings.client_secret.expose());
    if !authenticated {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id et client_secret attendus dans le corps du formulaire",
        );
    }
    if get("grant_type") != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "authorization_code",
        );
    }
    let issued = shared.state().codes.remove(get("code"));
    let Some(issued) = issued.filter(|i| i.expires > Instant::now()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code inconnu ou expiré",
        );
    };
    if issued.redirect_uri != get("redirect_uri") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri différente",
        );
    }
    let now = now_secs();
    let claims = json!({
        "iss": shared.issuer,
        "sub": issued.identity.subject(&settings.client_id),
        "aud": settings.client_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "nonce": issued.nonce,
        "acr": ACR,
        "amr": ["pwd"],
        "auth_time": issued.auth_time,
    });
    let id_token = match crate::tokens::jwt::sign(&shared.key(), "JWT", &claims) {
        Ok(token) => token,
        Err(_) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signature",
            )
        }
    };
    let access_token = random_b64(32);
    let scope = issued.scopes.join(" ");
    shared.state().tokens.insert(
        access_token.clone(),
        Granted {
            identity: issued.identity,
            scopes: issued.scopes,
            expires: Instant::now() + Duration::from_secs(TOKEN_LIFETIME_SECONDS as u64),
        },
    );
    let body = Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "id_token": id_token,
        "scope": scope,
    }));
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

pub(super) async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(failure) = injected(&shared, Some(Endpoint::UserInfo)).await {
        return failure;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let granted = {
        let state = shared.state();
        state
            .tokens
            .get(presented)
            .filter(|g| g.expires > Instant::now())
            .map(|g| (g.identity, g.scopes.clone()))
    };
    let Some((identity, scopes)) = granted else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)],
        )
            .into_response();
    };
    let settings = shared.settings();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let mut claims = identity.claims(&scopes);
    let now = now_secs();
    for (name, value) in [
        ("iss", json!(shared.issuer)),
        ("aud", json!(settings.client_id)),
        ("sub", json!(identity.subject(&settings.client_id))),
        ("iat", json!(now)),
        ("exp", json!(now + TOKEN_LIFETIME_SECONDS)),
    ] {
        claims.insert(name.into(), value);
    }
    // FranceConnect v2: the userinfo is a signed JWT, not JSON.
    match crate::tokens::jwt::sign(&shared.key(), "JWT", &Value::Object(claims)) {
        Ok(jwt) => (
            [(header::CONTENT_TYPE, "application/jwt; charset=utf-8")],
            jwt,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub(super) async fn session_end(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(failure) = injected(&shared, None).await {
        return failure;
    }
    let get = |name: &str| single(&params, name).ok().flatten().unwrap_or_default();
    let settings = &shared.settings();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    // An ID token past its expiry still names the session to end.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[shared.issuer.as_str()]);
    validation.set_audience(&[settings.client_id.as_str()]);
    let hint =
        jsonwebtoken::decode::<Value>(get("id_token_hint"), &shared.key().decoding, &validation);
    let Ok(hint) = hint else {
        return page::error(StatusCode::BAD_REQUEST, "id_token_hint invalide ou absent");
    };
    let state = get("state");
    if state.is_empty() {
        return page::error(StatusCode::BAD_REQUEST, "state requis");
    }
    let target = get("post_logout_redirect_uri");
    if !settings
        .post_logout_redirect_uris
        .iter()
        .any(|r| r == target)
    {
        return page::error(
            StatusCode::BAD_REQUEST,
            "post_logout_redirect_uri non enregistrée pour ce fournisseur de service",
        );
    }
    shared.state().ended.push(EndedSession {
        subject: hint.claims["sub"].as_str().unwrap_or_default().to_owned(),
        state: state.to_owned(),
    });
    redirect_with(target, &[("state", state)])
}
