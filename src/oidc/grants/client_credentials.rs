//! `grant_type=client_credentials` (RFC 6749 §4.4): a school service calling an API on its own
//! behalf. No person, so no ID token, no refresh token, no OpenID Connect scope.

use super::TokenResponse;
use crate::app::App;
use crate::clients::Client;
use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::access_token::{self, AccessToken};
use crate::oidc::scope::Scopes;

/// Scopes that describe a person and mean nothing without one.
const PERSON_SCOPES: [&str; 5] = ["openid", "profile", "email", "phone", "offline_access"];

pub async fn grant(app: &App, client: &Client, scope: Option<&str>) -> OAuthResult<TokenResponse> {
    let allowed: Vec<String> = client
        .scopes
        .iter()
        .filter(|s| !PERSON_SCOPES.contains(&s.as_str()))
        .cloned()
        .collect();
    let scopes = match scope {
        None => Scopes::parse(&allowed.join(" ")),
        Some(asked) => {
            let asked = Scopes::parse(asked);
            if asked.iter().any(|s| !allowed.iter().any(|a| a == s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope not registered for this client",
                ));
            }
            asked
        }
    };
    let now = app.clock.now_secs();
    let ttl = app.config.tokens.access_token_seconds;
    let record = AccessToken {
        client_id: client.id.clone(),
        account_id: None,
        scope: scopes.to_string(),
        grant_id: None,
        iat: now,
        exp: now + ttl as i64,
    };
    let access = access_token::issue(app, &record).await?;
    metrics::counter!("educonnect_tokens_issued_total", "grant_type" => "client_credentials")
        .increment(1);
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer",
        expires_in: ttl,
        scope: scopes.to_string(),
        id_token: None,
        refresh_token: None,
    })
}
