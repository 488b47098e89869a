//! The userinfo endpoint (OpenID Connect Core §5.3): the claims of the scopes of a bearer token.

use serde_json::{Map, Value};

use crate::app::App;
use crate::error::{OAuthError, OAuthResult};
use crate::oidc::access_token;
use crate::oidc::claims;
use crate::oidc::scope::Scopes;
use crate::secrets::Secret;

pub async fn userinfo(app: &App, bearer: Option<Secret>) -> OAuthResult<Map<String, Value>> {
    let token =
        bearer.ok_or_else(|| OAuthError::invalid_token("a Bearer access token is required"))?;
    let record = access_token::active(app, &token).await?.ok_or_else(|| {
        OAuthError::invalid_token("the access token is invalid, expired or revoked")
    })?;
    let scopes = Scopes::parse(&record.scope);
    // RFC 6750 §3.1 insufficient_scope would fit; OpenID Connect requires openid here.
    let account_id = record
        .account_id
        .filter(|_| scopes.contains("openid"))
        .ok_or_else(|| OAuthError::invalid_token("the access token does not designate a person"))?;
    let account = app
        .durable
        .account(&account_id)
        .await?
        .filter(|a| a.state.can_log_in())
        .ok_or_else(|| OAuthError::invalid_token("the account is no longer active"))?;
    Ok(claims::for_account(&*app.durable, &account, &scopes).await?)
}
