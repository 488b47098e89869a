//! SSO sessions in the ephemeral store. The cookie holds `sid.secret`: the `sid` is public (it is
//! the `sid` claim RPs see), the secret is not, and only its digest is stored.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::App;
pub use crate::federation::UpstreamIdToken;
use crate::oidc::id_token::Authentication;
use crate::secrets::{constant_time_eq, random_b64, Secret};
use crate::store::ephemeral::{get_json, put_json};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub sid: String,
    secret_digest: String,
    pub account_id: String,
    /// Seconds since the epoch.
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub expires_at_ms: i64,
    /// Opened through FranceConnect: the upstream ID token, the upstream logout's
    /// `id_token_hint` (`oidc::upstream_logout`). Absent (and not stored) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_id_token: Option<UpstreamIdToken>,
}

impl Session {
    /// The CSRF token of the pages a session's owner posts to (`/compte`): derived from the
    /// cookie's secret, which only the owner's browser holds.
    pub fn csrf_token(&self) -> String {
        crate::secrets::digest(format!("csrf:{}", self.secret_digest).as_bytes())
    }

    pub fn authentication(&self) -> Authentication {
        Authentication {
            auth_time: self.auth_time,
            acr: self.acr.clone(),
            amr: self.amr.clone(),
            sid: Some(self.sid.clone()),
        }
    }
}

fn key(sid: &str) -> String {
    format!("session:{{{sid}}}")
}

fn clients_key(sid: &str) -> String {
    format!("session:{{{sid}}}:clients")
}

/// Starts a new session (a new id: the session id is renewed at every login, so a fixated
/// cookie is worthless) recording how the person authenticated (`oidc::login::complete`), and,
/// opened through an upstream provider, its ID token. Returns the session and the cookie value.
pub async fn create(
    app: &App,
    account_id: &str,
    acr: &str,
    amr: Vec<String>,
    auth_time: i64,
    upstream_id_token: Option<UpstreamIdToken>,
) -> anyhow::Result<(Session, Secret)> {
    let sid = random_b64(24);
    let secret = Secret::generate();
    let now = app.now_ms();
    let lifetime = app.config.session.lifetime_seconds;
    let session = Session {
        sid: sid.clone(),
        secret_digest: secret.digest(),
        account_id: account_id.to_owned(),
        auth_time,
        acr: acr.to_owned(),
        amr,
        expires_at_ms: now + lifetime as i64 * 1000,
        upstream_id_token,
    };
    put_json(
        &*app.ephemeral,
        &key(&sid),
        &session,
        Duration::from_secs(lifetime),
    )
    .await?;
    app.ephemeral
        .set_add(
            &account_sessions_key(account_id),
            &sid,
            Duration::from_secs(lifetime),
        )
        .await?;
    Ok((
        session,
        Secret::from_presented(&format!("{sid}.{}", secret.expose())),
    ))
}

/// The live session a cookie designates, if any.
pub async fn from_cookie(app: &App, cookie: &str) -> anyhow::Result<Option<Session>> {
    let Some((sid, secret)) = cookie.split_once('.') else {
        return Ok(None);
    };
    let Some(session) = get_json::<Session>(&*app.ephemeral, &key(sid)).await? else {
        return Ok(None);
    };
    let genuine = constant_time_eq(
        &session.secret_digest,
        &Secret::from_presented(secret).digest(),
    );
    Ok((genuine && session.expires_at_ms > app.now_ms()).then_some(session))
}

pub async fn by_sid(app: &App, sid: &str) -> anyhow::Result<Option<Session>> {
    get_json(&*app.ephemeral, &key(sid)).await
}

/// Remembers that `client_id` received tokens in this session (for back-channel logout).
pub async fn add_client(app: &App, session: &Session, client_id: &str) -> anyhow::Result<()> {
    let remaining = ((session.expires_at_ms - app.now_ms()) / 1000).max(1) as u64;
    app.ephemeral
        .set_add(
            &clients_key(&session.sid),
            client_id,
            Duration::from_secs(remaining),
        )
        .await
}

pub async fn clients(app: &App, sid: &str) -> anyhow::Result<Vec<String>> {
    app.ephemeral.set_members(&clients_key(sid)).await
}

fn account_sessions_key(account_id: &str) -> String {
    format!("account-sessions:{account_id}")
}

/// The sids of the account's sessions started within the session lifetime (some may have
/// ended since).
pub async fn of_account(app: &App, account_id: &str) -> anyhow::Result<Vec<String>> {
    app.ephemeral
        .set_members(&account_sessions_key(account_id))
        .await
}

fn token_grants_key(sid: &str) -> String {
    format!("session:{{{sid}}}:token-grants")
}

/// Remembers the grant id of access tokens issued in the session without a durable grant (a
/// client not registered for refresh tokens), so that logging out kills them too. Kept as long
/// as such an access token may live.
pub async fn add_token_grant(app: &App, sid: &str, grant_id: &str) -> anyhow::Result<()> {
    let ttl = Duration::from_secs(app.config.tokens.access_token_seconds + 60);
    app.ephemeral
        .set_add(&token_grants_key(sid), grant_id, ttl)
        .await
}

pub async fn token_grants(app: &App, sid: &str) -> anyhow::Result<Vec<String>> {
    app.ephemeral.set_members(&token_grants_key(sid)).await
}

pub async fn destroy(app: &App, sid: &str) -> anyhow::Result<()> {
    app.ephemeral.delete(&key(sid)).await?;
    app.ephemeral.delete(&clients_key(sid)).await?;
    app.ephemeral.delete(&token_grants_key(sid)).await
}
