//! Token introspection (RFC 7662) for authenticated clients: school services checking the access
//! tokens an ENT hands them. Anything not active is `{"active": false}` and nothing more.
//!
//! Who may learn what (review #13.7, RFC 7662 §2.2 and §4: the server decides, and must not
//! tell a token's details to a caller not entitled to them):
//! - a refresh token: only its own client (a refresh token is a credential of that client);
//! - an access token: its own client, or a client registered as a resource server
//!   (`resource_server`, the school services ENTs send their tokens to);
//! - to anyone else the answer is `{"active": false}`, as for an unknown token.

use serde_json::{json, Value};

use crate::app::App;
use crate::clients::{AuthMethod, Client};
use crate::error::{OAuthError, OAuthResult};
use crate::oidc::access_token;
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
        if let Some(found) = refresh(app, &client, &token).await? {
            return Ok(found);
        }
    }
    if let Some(record) = access_token::active(app, &token).await? {
        if record.client_id != client.id && !client.resource_server {
            return Ok(inactive());
        }
        let mut answer = json!({
            "active": true,
            "iss": app.issuer(),
            "client_id": record.client_id,
            "scope": record.scope,
            "exp": record.exp,
            "iat": record.iat,
            "token_type": "Bearer",
        });
        // RFC 7662 §2.2: `sub` is the resource owner; a client credentials token has none, and
        // the member is left out rather than `null`.
        if let Some(sub) = record.account_id {
            answer["sub"] = json!(sub);
        }
        return Ok(answer);
    }
    if !refresh_first {
        if let Some(found) = refresh(app, &client, &token).await? {
            return Ok(found);
        }
    }
    Ok(inactive())
}

fn inactive() -> Value {
    json!({ "active": false })
}

/// An active refresh token of `client` (another client's is answered as inactive).
async fn refresh(app: &App, client: &Client, token: &Secret) -> anyhow::Result<Option<Value>> {
    let found = app
        .durable
        .active_refresh_token(&token.digest(), app.now_ms())
        .await?;
    if found
        .as_ref()
        .is_some_and(|(_, g)| g.client_id != client.id)
    {
        return Ok(Some(inactive()));
    }
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
