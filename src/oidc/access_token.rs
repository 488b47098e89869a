//! Opaque access tokens (RFC 6750 bearer): a random handle whose digest keys a record in the
//! ephemeral store, so introspection and userinfo cost one lookup and revocation is a delete.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::secrets::Secret;
use crate::store::ephemeral::{get_json, put_json};

/// What an access token stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub client_id: String,
    /// None for `client_credentials`.
    pub account_id: Option<String>,
    pub scope: String,
    pub grant_id: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

fn key(token: &Secret) -> String {
    format!("at:{}", token.digest())
}

fn revoked_grant_key(grant_id: &str) -> String {
    format!("grant-revoked:{grant_id}")
}

/// Stores the record and returns the bearer value.
pub async fn issue(app: &App, record: &AccessToken) -> anyhow::Result<Secret> {
    let token = Secret::generate();
    let ttl = Duration::from_secs((record.exp - record.iat).max(1) as u64);
    put_json(&*app.ephemeral, &key(&token), record, ttl).await?;
    Ok(token)
}

/// The record of an active token: present, unexpired, and its grant not revoked.
pub async fn active(app: &App, token: &Secret) -> anyhow::Result<Option<AccessToken>> {
    let Some(record) = get_json::<AccessToken>(&*app.ephemeral, &key(token)).await? else {
        return Ok(None);
    };
    if record.exp <= app.clock.now_secs() {
        return Ok(None);
    }
    if let Some(grant_id) = &record.grant_id {
        if app.ephemeral.exists(&revoked_grant_key(grant_id)).await? {
            return Ok(None);
        }
    }
    Ok(Some(record))
}

pub async fn revoke(app: &App, token: &Secret) -> anyhow::Result<()> {
    app.ephemeral.delete(&key(token)).await
}

/// Revokes a grant: its refresh tokens in the durable store, and every access token issued from
/// it (a marker that outlives the longest access token). Idempotent.
pub async fn revoke_grant(app: &App, grant_id: &str) -> anyhow::Result<()> {
    let ttl = Duration::from_secs(app.config.tokens.access_token_seconds + 60);
    app.ephemeral
        .put(&revoked_grant_key(grant_id), b"1", ttl)
        .await?;
    app.durable.revoke_grant(grant_id, app.now_ms()).await?;
    Ok(())
}

/// Whether the grant was revoked recently (covers a grant revoked before it was stored).
pub async fn grant_revoked(app: &App, grant_id: &str) -> anyhow::Result<bool> {
    app.ephemeral.exists(&revoked_grant_key(grant_id)).await
}

/// How Mon compte's connected services stop a revoked grant's access tokens.
#[async_trait::async_trait]
impl crate::selfservice::connected::AccessTokens for App {
    async fn revoke_grant(&self, grant_id: &str) -> anyhow::Result<()> {
        revoke_grant(self, grant_id).await
    }
}
