//! `grant_type=authorization_code` (RFC 6749 §4.1.3, OpenID Connect Core §3.1.3.2, RFC 7636 §4.6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{Grant, RefreshToken, TokenResponse};
use crate::accounts::Account;
use crate::app::App;
use crate::clients::{Client, GrantType};
use crate::error::{OAuthError, OAuthResult};
use crate::oidc::access_token::{self, AccessToken};
use crate::oidc::authorize::code::{self, AuthorizationCode, Consumed};
use crate::oidc::id_token::{self, IdTokenInput};
use crate::oidc::scope::Scopes;
use crate::secrets::{constant_time_eq, Secret};

pub struct CodeRequest {
    pub code: Option<Secret>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

pub async fn exchange(
    app: &App,
    client: &Client,
    request: CodeRequest,
) -> OAuthResult<TokenResponse> {
    let presented = request
        .code
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let code = match code::consume(app, &presented).await? {
        Consumed::Fresh(code) => *code,
        Consumed::Unknown => return Err(OAuthError::invalid_grant("unknown or expired code")),
        Consumed::Replayed { grant_id } => {
            // RFC 6749 §4.1.2: a replayed code revokes what it issued.
            access_token::revoke_grant(app, &grant_id).await?;
            tracing::warn!(client_id = %client.id, "authorization code replayed; its grant is revoked");
            return Err(OAuthError::invalid_grant("code already used"));
        }
    };
    check_issued_to(&code, client)?;
    check_unexpired(app, &code)?;
    check_redirect_uri(&code, request.redirect_uri.as_deref())?;
    check_code_verifier(&code, request.code_verifier.as_deref())?;
    let account = load_account(app, &code.account_id).await?;
    let response = issue(app, client, &code, &account).await?;
    // A replay that raced this exchange marked the grant revoked before its refresh token was
    // stored: apply it to the stored grant too. The exchange itself succeeded (one redemption
    // wins), but what it issued is dead, as RFC 6749 §4.1.2 asks.
    if access_token::grant_revoked(app, &code.grant_id).await? {
        access_token::revoke_grant(app, &code.grant_id).await?;
    }
    metrics::counter!("educonnect_tokens_issued_total", "grant_type" => "authorization_code")
        .increment(1);
    Ok(response)
}

/// RFC 6749 §4.1.3: the code was issued to the authenticated client.
fn check_issued_to(code: &AuthorizationCode, client: &Client) -> OAuthResult<()> {
    if code.client_id == client.id {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant(
            "code was issued to another client",
        ))
    }
}

fn check_unexpired(app: &App, code: &AuthorizationCode) -> OAuthResult<()> {
    if code.expires_at_ms > app.now_ms() {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("code expired"))
    }
}

/// RFC 6749 §4.1.3: redirect_uri identical to the authorization request's.
fn check_redirect_uri(code: &AuthorizationCode, presented: Option<&str>) -> OAuthResult<()> {
    match presented {
        Some(uri) if uri == code.redirect_uri => Ok(()),
        Some(_) => Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        )),
        None => Err(OAuthError::invalid_request("redirect_uri is required")),
    }
}

/// RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
fn check_code_verifier(code: &AuthorizationCode, verifier: Option<&str>) -> OAuthResult<()> {
    let verifier =
        verifier.ok_or_else(|| OAuthError::invalid_grant("code_verifier is required"))?;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return Err(OAuthError::invalid_grant("code_verifier is malformed"));
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if constant_time_eq(&computed, &code.code_challenge) {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ))
    }
}

pub(super) async fn load_account(app: &App, account_id: &str) -> OAuthResult<Account> {
    match app.durable.account(account_id).await? {
        Some(account) if account.state.can_log_in() => Ok(account),
        _ => Err(OAuthError::invalid_grant("the account is no longer active")),
    }
}

async fn issue(
    app: &App,
    client: &Client,
    code: &AuthorizationCode,
    account: &Account,
) -> OAuthResult<TokenResponse> {
    let now_ms = app.now_ms();
    let now = now_ms / 1000;
    let scopes = Scopes::parse(&code.scope);
    let ttl = app.config.tokens.access_token_seconds;
    let access = access_token::issue(
        app,
        &AccessToken {
            client_id: client.id.clone(),
            account_id: Some(account.id.clone()),
            scope: code.scope.clone(),
            grant_id: Some(code.grant_id.clone()),
            iat: now,
            exp: now + ttl as i64,
        },
    )
    .await?;
    let id_token = id_token::issue(
        app,
        IdTokenInput {
            client,
            account,
            scopes: &scopes,
            nonce: code.nonce.as_deref(),
            auth: &code.auth,
            access_token: Some(access.expose()),
        },
    )
    .await?;
    let refresh_token = if client.allows(GrantType::RefreshToken) {
        let token = Secret::generate();
        let expires_at = now_ms + app.config.tokens.refresh_token_seconds as i64 * 1000;
        let grant = Grant {
            id: code.grant_id.clone(),
            account_id: account.id.clone(),
            client_id: client.id.clone(),
            scope: code.scope.clone(),
            sid: code.auth.sid.clone(),
            offline: scopes.contains("offline_access"),
            auth_time: code.auth.auth_time,
            acr: code.auth.acr.clone(),
            amr: code.auth.amr.clone(),
            created_at: now_ms,
            expires_at,
        };
        let first = RefreshToken {
            digest: token.digest(),
            grant_id: grant.id.clone(),
            parent_digest: None,
            created_at: now_ms,
            expires_at,
        };
        app.durable.insert_grant(&grant, &first).await?;
        Some(token.expose().to_owned())
    } else {
        // No durable grant: the session remembers the access token's grant id, so that its
        // logout revokes the token as it revokes the others.
        if let Some(sid) = &code.auth.sid {
            crate::oidc::session::add_token_grant(app, sid, &code.grant_id).await?;
        }
        None
    };
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer",
        expires_in: ttl,
        scope: code.scope.clone(),
        id_token: Some(id_token),
        refresh_token,
    })
}
