//! Authorization codes: single use, at most 60 s, stored under their digest. Consuming one leaves
//! a tombstone naming its grant, so a replay is recognized and revokes what the code issued
//! (RFC 6749 §4.1.2: "the authorization server SHOULD revoke (when possible) all tokens
//! previously issued based on that authorization code").

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::request::AuthorizationRequest;
use crate::app::App;
use crate::oidc::id_token::Authentication;
use crate::oidc::session::Session;
use crate::secrets::Secret;
use crate::store::ephemeral::put_json;
use crate::store::Taken;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub account_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth: Authentication,
    /// Derived from the code (`grant_id_of`), so a replay can revoke whatever the first
    /// redemption issued.
    pub grant_id: String,
    pub expires_at_ms: i64,
}

pub enum Consumed {
    Fresh(Box<AuthorizationCode>),
    /// Already redeemed: the grant to revoke.
    Replayed {
        grant_id: String,
    },
    Unknown,
}

fn key(code: &Secret) -> String {
    format!("code:{{{}}}", code.digest())
}

fn tombstone(code: &Secret) -> String {
    format!("code:{{{}}}:used", code.digest())
}

/// The grant a code leads to: a digest of the code under another label, known to whoever holds
/// the code and to nobody else.
fn grant_id_of(code: &Secret) -> String {
    crate::secrets::digest(format!("grant:{}", code.expose()).as_bytes())
}

pub async fn issue(
    app: &App,
    request: &AuthorizationRequest,
    session: &Session,
) -> anyhow::Result<Secret> {
    let code = Secret::generate();
    let ttl = app.config.tokens.authorization_code_seconds;
    let record = AuthorizationCode {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        account_id: session.account_id.clone(),
        scope: request.scopes.to_string(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth: session.authentication(),
        grant_id: grant_id_of(&code),
        expires_at_ms: app.now_ms() + ttl as i64 * 1000,
    };
    put_json(
        &*app.ephemeral,
        &key(&code),
        &record,
        Duration::from_secs(ttl),
    )
    .await?;
    Ok(code)
}

/// Atomically takes the code; of concurrent redemptions exactly one gets `Fresh`.
pub async fn consume(app: &App, code: &Secret) -> anyhow::Result<Consumed> {
    // The tombstone outlives every token the code could have issued.
    let keep = Duration::from_secs(app.config.tokens.access_token_seconds.max(600));
    let grant_id = grant_id_of(code);
    match app
        .ephemeral
        .take_leaving_tombstone(&key(code), &tombstone(code), grant_id.as_bytes(), keep)
        .await?
    {
        Taken::Value(bytes) => Ok(Consumed::Fresh(Box::new(serde_json::from_slice(&bytes)?))),
        Taken::Tombstone(grant_id) => Ok(Consumed::Replayed {
            grant_id: String::from_utf8(grant_id)?,
        }),
        Taken::Missing => Ok(Consumed::Unknown),
    }
}
