//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! OpenID Connect Core §9): `client_secret_basic`, `client_secret_post`, `private_key_jwt`, and
//! `none` for public clients.

use std::time::Duration;

use crate::app::App;
use crate::clients::{AuthMethod, Client};
use crate::error::{OAuthError, OAuthResult};
use crate::secrets::{constant_time_eq, Secret};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credentials a request carried, parsed at the edge.
#[derive(Debug)]
pub enum Presented {
    Basic {
        client_id: String,
        secret: Secret,
    },
    Post {
        client_id: String,
        secret: Secret,
    },
    Assertion {
        client_id: Option<String>,
        assertion: String,
    },
    /// Only a `client_id`: a public client.
    Public {
        client_id: String,
    },
    Nothing,
}

/// Why the credentials were refused; `invalid_client` (401) without detail on which part.
fn refused() -> OAuthError {
    OAuthError::invalid_client("client authentication failed")
}

pub async fn authenticate(app: &App, presented: Presented) -> OAuthResult<Client> {
    match presented {
        Presented::Nothing => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
        Presented::Basic { client_id, secret } => {
            secret_of(app, &client_id, &secret, AuthMethod::ClientSecretBasic).await
        }
        Presented::Post { client_id, secret } => {
            secret_of(app, &client_id, &secret, AuthMethod::ClientSecretPost).await
        }
        Presented::Public { client_id } => {
            let client = app.client(&client_id).await?.ok_or_else(refused)?;
            if client.auth_method == AuthMethod::None {
                Ok(client)
            } else {
                Err(refused())
            }
        }
        Presented::Assertion {
            client_id,
            assertion,
        } => private_key_jwt(app, client_id, &assertion).await,
    }
}

/// A client secret, presented the way the client registered (review #13.10, OpenID Connect
/// Core §9 `token_endpoint_auth_method`: a `client_secret_basic` client's secret is refused in
/// the body, and the other way round), compared in constant time with its digest.
async fn secret_of(
    app: &App,
    client_id: &str,
    secret: &Secret,
    method: AuthMethod,
) -> OAuthResult<Client> {
    let client = app.client(client_id).await?.ok_or_else(refused)?;
    let digest = client
        .secret_digest
        .as_deref()
        .filter(|_| client.auth_method == method);
    match digest {
        Some(digest) if constant_time_eq(digest, &secret.digest()) => Ok(client),
        _ => Err(refused()),
    }
}

/// The algorithms discovery advertises for `private_key_jwt`; no other is accepted
/// (review #13.9, RFC 8725 §3.1: the algorithm is the verifier's choice, not the token's).
pub const ASSERTION_ALGORITHMS: [jsonwebtoken::Algorithm; 3] = [
    jsonwebtoken::Algorithm::RS256,
    jsonwebtoken::Algorithm::ES256,
    jsonwebtoken::Algorithm::PS256,
];

/// Clock skew tolerated on an assertion's `nbf`.
const NBF_LEEWAY_SECONDS: i64 = 30;

/// RFC 7523 §3 and OpenID Connect Core §9: a JWT signed by the client, `iss` = `sub` = client id,
/// `aud` the token endpoint (or the issuer), unexpired, its `jti` used once.
async fn private_key_jwt(
    app: &App,
    claimed_id: Option<String>,
    assertion: &str,
) -> OAuthResult<Client> {
    let unverified = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(assertion)
        .map_err(|_| OAuthError::invalid_client("client_assertion is not a JWT"))?;
    let client_id = unverified.claims["iss"]
        .as_str()
        .ok_or_else(refused)?
        .to_owned();
    if claimed_id.as_deref().is_some_and(|id| id != client_id) {
        return Err(refused());
    }
    let client = app.client(&client_id).await?.ok_or_else(refused)?;
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Err(refused());
    }
    let header = unverified.header;
    if !ASSERTION_ALGORITHMS.contains(&header.alg) {
        return Err(OAuthError::invalid_client(
            "client_assertion must be signed with RS256, ES256 or PS256",
        ));
    }
    let jwks: jsonwebtoken::jwk::JwkSet = client
        .jwks
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(refused)?;
    let candidates: Vec<_> = jwks
        .keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .collect();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[app.config.endpoint("/token"), app.issuer().to_owned()]);
    validation.set_issuer(&[client_id.as_str()]);
    validation.sub = Some(client_id.clone());
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let mut claims = None;
    for jwk in candidates {
        let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation) {
            claims = Some(data.claims);
            break;
        }
    }
    let claims = claims.ok_or_else(refused)?;
    let now = app.clock.now_secs();
    let exp = claims["exp"].as_i64().ok_or_else(refused)?;
    if exp <= now || exp > now + 600 {
        return Err(OAuthError::invalid_client(
            "client_assertion expired or too long-lived",
        ));
    }
    // RFC 7523 §3 (5): not to be accepted before its `nbf`.
    match &claims["nbf"] {
        serde_json::Value::Null => {}
        nbf => match nbf.as_i64() {
            Some(nbf) if nbf <= now + NBF_LEEWAY_SECONDS => {}
            _ => {
                return Err(OAuthError::invalid_client(
                    "client_assertion is not valid yet (nbf)",
                ))
            }
        },
    }
    let jti = claims["jti"]
        .as_str()
        .ok_or_else(|| OAuthError::invalid_client("client_assertion needs a jti"))?;
    let key = format!(
        "jti:{}:{}",
        client.id,
        crate::secrets::digest(jti.as_bytes())
    );
    let ttl = Duration::from_secs((exp - now).max(1) as u64);
    if !app.ephemeral.put_if_absent(&key, b"1", ttl).await? {
        return Err(OAuthError::invalid_client(
            "client_assertion was already used",
        ));
    }
    Ok(client)
}
