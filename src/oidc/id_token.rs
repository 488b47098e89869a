//! ID tokens (OpenID Connect Core §2, §3.1.3.6) and logout tokens (Back-Channel Logout §2.4).

use serde_json::{json, Map, Value};

use crate::accounts::Account;
use crate::app::App;
use crate::clients::Client;
use crate::oidc::claims;
use crate::oidc::scope::Scopes;
use crate::tokens::jwt;

/// What the authentication established, carried from the session to the tokens.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Authentication {
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub sid: Option<String>,
}

pub struct IdTokenInput<'a> {
    pub client: &'a Client,
    pub account: &'a Account,
    pub scopes: &'a Scopes,
    pub nonce: Option<&'a str>,
    pub auth: &'a Authentication,
    pub access_token: Option<&'a str>,
}

pub async fn issue(app: &App, input: IdTokenInput<'_>) -> anyhow::Result<String> {
    let now = app.clock.now_secs();
    let mut body: Map<String, Value> =
        claims::for_account(&*app.durable, input.account, input.scopes).await?;
    body.insert("iss".into(), json!(app.issuer()));
    body.insert("aud".into(), json!(input.client.id));
    body.insert("iat".into(), json!(now));
    body.insert(
        "exp".into(),
        json!(now + app.config.tokens.id_token_seconds as i64),
    );
    body.insert("auth_time".into(), json!(input.auth.auth_time));
    body.insert("acr".into(), json!(input.auth.acr));
    body.insert("amr".into(), json!(input.auth.amr));
    if let Some(sid) = &input.auth.sid {
        body.insert("sid".into(), json!(sid));
    }
    if let Some(nonce) = input.nonce {
        body.insert("nonce".into(), json!(nonce));
    }
    if let Some(token) = input.access_token {
        body.insert("at_hash".into(), json!(jwt::at_hash(token)));
    }
    let key = app.keys.signing_key(input.client.id_token_alg).await?;
    jwt::sign(&key, "JWT", &body)
}

/// Back-Channel Logout §2.4: a logout token for one RP of a session.
pub async fn logout_token(
    app: &App,
    client: &Client,
    sub: &str,
    sid: &str,
) -> anyhow::Result<String> {
    let now = app.clock.now_secs();
    let body = json!({
        "iss": app.issuer(),
        "aud": client.id,
        "iat": now,
        "exp": now + app.config.tokens.logout_token_seconds as i64,
        "jti": crate::secrets::random_b64(16),
        "sub": sub,
        "sid": sid,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    let key = app.keys.signing_key(client.id_token_alg).await?;
    jwt::sign(&key, "logout+jwt", &body)
}
