//! Token introspection (RFC 7662) for authenticated clients: school services checking the access
//! tokens an ENT hands them. Anything not active is `{"active": false}` and nothing more.

use serde_json::{json, Value};

use crate::app::App;
use crate::error::{OAuthError, OAuthResult};
use crate::oidc::access_token;
use crate::oidc::client::AuthMethod;
use crate::oidc::client_auth::{self, Presented};
use crate::secrets::Secret;

pub async fn introspect(
    app: &App,
    credentials: Presented,
    token: Option<&str>,
    hint: Option<&str>,
) -> OAuthResult<Value> {
    let client = client_auth::authenticate(app, credentials).await?;
    // RFC 7662 §2.1: the caller must be authorized; a public client proves nothing.
    if client.auth_method == AuthMethod::None {
        return Err(OAuthError::invalid_client(
            "introspection needs a confidential client",
        ));
    }
    let token = Secret::from_presented(
        token.ok_or_else(|| OAuthError::invalid_request("token is required"))?,
    );
    // RFC 7662 §2.1: the hint orders the lookups, it does not limit them.
    let refresh_first = hint == Some("refresh_token");
    if refresh_first {
        if let Some(found) = refresh(app, &token).await? {
            return Ok(found);
        }
    }
    if let Some(record) = access_token::active(app, &token).await? {
        return Ok(json!({
            "active": true,
            "iss": app.issuer(),
            "client_id": record.client_id,
            "scope": record.scope,
            "sub": record.account_id,
            "exp": record.exp,
            "iat": record.iat,
            "token_type": "Bearer",
        }));
    }
    if !refresh_first {
        if let Some(found) = refresh(app, &token).await? {
            return Ok(found);
        }
    }
    Ok(json!({ "active": false }))
}

async fn refresh(app: &App, token: &Secret) -> anyhow::Result<Option<Value>> {
    let found = app
        .durable
        .active_refresh_token(&token.digest(), app.now_ms())
        .await?;
    Ok(found.map(|(record, grant)| {
        json!({
            "active": true,
            "iss": app.issuer(),
            "client_id": grant.client_id,
            "scope": grant.scope,
            "sub": grant.account_id,
            "exp": record.expires_at.min(grant.expires_at) / 1000,
            "iat": record.created_at / 1000,
            "token_type": "refresh_token",
        })
    }))
}
