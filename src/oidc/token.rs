//! The token endpoint (RFC 6749 §3.2): authenticate the client, then hand over to its grant.

use std::collections::HashMap;

use crate::app::App;
use crate::clients::GrantType;
use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::client_auth::{self, Presented};
use crate::oidc::grants::authorization_code::{self, CodeRequest};
use crate::oidc::grants::refresh_token::{self, RefreshRequest};
use crate::oidc::grants::{client_credentials, TokenResponse};
use crate::secrets::Secret;

pub async fn token(
    app: &App,
    credentials: Presented,
    form: &HashMap<String, String>,
) -> OAuthResult<TokenResponse> {
    let client = client_auth::authenticate(app, credentials).await?;
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let grant_type = GrantType::parse(grant_type).ok_or_else(|| {
        OAuthError::new(ErrorCode::UnsupportedGrantType, "unsupported grant_type")
    })?;
    // RFC 6749 §5.2 unauthorized_client: the client is not registered for this grant.
    if !client.allows(grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "grant_type not registered for this client",
        ));
    }
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    match grant_type {
        GrantType::AuthorizationCode => {
            let request = CodeRequest {
                code: field("code").map(|c| Secret::from_presented(&c)),
                redirect_uri: field("redirect_uri"),
                code_verifier: field("code_verifier"),
            };
            authorization_code::exchange(app, &client, request).await
        }
        GrantType::RefreshToken => {
            let request = RefreshRequest {
                refresh_token: field("refresh_token").map(|t| Secret::from_presented(&t)),
                scope: field("scope"),
            };
            refresh_token::refresh(app, &client, request).await
        }
        GrantType::ClientCredentials => {
            client_credentials::grant(app, &client, field("scope").as_deref()).await
        }
    }
}
