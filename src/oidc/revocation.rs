//! Token revocation (RFC 7009). Revoking a refresh token revokes its grant and the access tokens
//! issued from it (§2.1). Unknown tokens, or tokens of another client, are answered like success
//! (§2.2) and left alone.

use crate::app::App;
use crate::error::{OAuthError, OAuthResult};
use crate::oidc::access_token;
use crate::oidc::client_auth::{self, Presented};
use crate::secrets::Secret;

pub async fn revoke(app: &App, credentials: Presented, token: Option<&str>) -> OAuthResult<()> {
    let client = client_auth::authenticate(app, credentials).await?;
    let token = Secret::from_presented(
        token.ok_or_else(|| OAuthError::invalid_request("token is required"))?,
    );
    if let Some(record) = access_token::active(app, &token).await? {
        if record.client_id == client.id {
            access_token::revoke(app, &token).await?;
        }
        return Ok(());
    }
    if let Some((_, grant)) = app
        .durable
        .active_refresh_token(&token.digest(), app.now_ms())
        .await?
    {
        if grant.client_id == client.id {
            access_token::revoke_grant(app, &grant.id).await?;
        }
    }
    Ok(())
}
