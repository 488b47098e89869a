//! `grant_type=refresh_token` (RFC 6749 §6) with rotation on every use (RFC 9700 §4.14.2): the
//! presented token is consumed atomically and a successor issued; a reused token revokes the
//! whole grant, except within the configured grace window (a lost response, not a theft).

use super::{Grant, RefreshToken, TokenResponse};
use crate::app::App;
use crate::clients::Client;
use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::access_token::{self, AccessToken};
use crate::oidc::scope::Scopes;
use crate::secrets::Secret;
use crate::store::Rotation;

pub struct RefreshRequest {
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
}

pub async fn refresh(
    app: &App,
    client: &Client,
    request: RefreshRequest,
) -> OAuthResult<TokenResponse> {
    let presented = request
        .refresh_token
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    // Review #13.3: everything that can refuse the request is checked before the token is
    // consumed. A request that will fail (a wider scope, an account no longer allowed to log
    // in) must not rotate, or the next legitimate refresh would look like a reuse and revoke
    // the grant. The grant's scope and account never change, so checking them first is safe.
    let Some(known) = app
        .durable
        .refresh_token_grant(&client.id, &presented.digest())
        .await?
    else {
        // Unknown, or another client's (left untouched).
        return Err(OAuthError::invalid_grant(
            "unknown, expired or revoked refresh token",
        ));
    };
    let scopes = narrowed_scope(&known, request.scope.as_deref())?;
    super::authorization_code::load_account(app, &known.account_id).await?;
    let now_ms = app.now_ms();
    let successor = Secret::generate();
    let successor_record = RefreshToken {
        digest: successor.digest(),
        grant_id: String::new(),
        parent_digest: Some(presented.digest()),
        created_at: now_ms,
        expires_at: 0,
    };
    let grace_ms = app.config.tokens.refresh_reuse_grace_seconds as i64 * 1000;
    let grant = match rotate(app, client, &presented, successor_record, now_ms, grace_ms).await? {
        Rotation::Rotated(grant) | Rotation::ReissuedWithinGrace(grant) => grant,
        Rotation::Invalid => {
            return Err(OAuthError::invalid_grant(
                "unknown, expired or revoked refresh token",
            ))
        }
        Rotation::Reused { grant_id } => {
            access_token::revoke_grant(app, &grant_id).await?;
            tracing::warn!(client_id = %client.id, "refresh token reused; its grant is revoked");
            return Err(OAuthError::invalid_grant("refresh token already used"));
        }
    };
    let now = now_ms / 1000;
    let ttl = app.config.tokens.access_token_seconds;
    let access = access_token::issue(
        app,
        &AccessToken {
            client_id: client.id.clone(),
            account_id: Some(grant.account_id.clone()),
            scope: scopes.to_string(),
            grant_id: Some(grant.id.clone()),
            iat: now,
            exp: now + ttl as i64,
        },
    )
    .await?;
    metrics::counter!("educonnect_tokens_issued_total", "grant_type" => "refresh_token")
        .increment(1);
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer",
        expires_in: ttl,
        scope: scopes.to_string(),
        id_token: None,
        refresh_token: Some(successor.expose().to_owned()),
    })
}

/// RFC 6749 §6: a narrower scope may be asked for, never a wider one; none asked is the grant's.
fn narrowed_scope(grant: &Grant, asked: Option<&str>) -> OAuthResult<Scopes> {
    let granted = Scopes::parse(&grant.scope);
    match asked.map(Scopes::parse) {
        Some(asked) if !asked.is_subset_of(&granted) => Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "scope exceeds the original grant",
        )),
        Some(asked) if !asked.is_empty() => Ok(asked),
        _ => Ok(granted),
    }
}

async fn rotate(
    app: &App,
    client: &Client,
    presented: &Secret,
    mut successor: RefreshToken,
    now_ms: i64,
    grace_ms: i64,
) -> anyhow::Result<Rotation> {
    // Each token may live the configured lifetime; the grant's own (absolute) expiry, checked
    // by the store at every rotation, bounds the chain.
    successor.expires_at = now_ms + app.config.tokens.refresh_token_seconds as i64 * 1000;
    let rotation = app
        .durable
        .rotate_refresh_token(
            &client.id,
            &presented.digest(),
            &successor,
            now_ms,
            grace_ms,
        )
        .await?;
    Ok(rotation)
}
