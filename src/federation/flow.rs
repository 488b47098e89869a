//! The upstream login, step by step: `start` parks a random `state` and `nonce` bound to the
//! parked EduConnect login transaction and to the browser, and gives the upstream's
//! authorization URL; `callback` takes the parked login back (once: an atomic take), then
//! exchanges the code, verifies the ID token and the signed userinfo (`verify`), and hands back
//! who the upstream vouched for. Errors keep the transaction's id when the `state` was ours, so
//! that the relying party's request survives a cancellation or an upstream outage.

use std::time::Duration;

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::{FederationError, Refusal};
use super::pivot::{UpstreamIdToken, UpstreamIdentity};
use super::upstream::{chain, Metadata, Upstream};
use super::verify::{self, Expected};
use crate::secrets::{constant_time_eq, digest, random_b64, Secret};
use crate::store::ephemeral::{put_json, take_json};
use crate::store::EphemeralStore;

/// FranceConnect v2 refuses a `state` or `nonce` shorter than 32 characters; 32 random bytes
/// are 43 base64url characters.
const STATE_BYTES: usize = 32;

/// A login parked upstream, under `fc-state:<digest of state>`.
#[derive(Serialize, Deserialize)]
struct Parked {
    /// The EduConnect login transaction (`tx:<id>`) to resume.
    tx: String,
    nonce: String,
    /// The digest of the binding cookie of the browser that started it.
    browser: String,
}

fn key(state: &str) -> String {
    // The state is a bearer value for the callback: only its digest is a key.
    format!("fc-state:{}", digest(state.as_bytes()))
}

/// Parks an upstream login for the login transaction `tx_id` of the browser `browser` (digest of
/// its binding cookie; the caller checked the transaction is this browser's) for `ttl`, and
/// returns where to send the browser.
pub async fn start(
    upstream: &Upstream,
    store: &dyn EphemeralStore,
    tx_id: &str,
    browser: &str,
    ttl: Duration,
) -> Result<Url, FederationError> {
    let metadata = upstream.metadata().await?;
    let state = random_b64(STATE_BYTES);
    let nonce = random_b64(STATE_BYTES);
    let parked = Parked {
        tx: tx_id.to_owned(),
        nonce: nonce.clone(),
        browser: browser.to_owned(),
    };
    put_json(store, &key(&state), &parked, ttl).await?;
    let client = upstream.client(&metadata);
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        move || CsrfToken::new(state),
        move || Nonce::new(nonce),
    );
    // `openid` is always added by openidconnect.
    for scope in upstream.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for acr in &upstream.acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    let (url, _, _) = request.url();
    Ok(url)
}

/// What the upstream sent the browser back with (`/franceconnect/retour`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A completed upstream login, for the login transaction `tx_id`.
#[derive(Debug)]
pub struct Returned {
    pub tx_id: String,
    pub identity: UpstreamIdentity,
}

/// A failed upstream login; `tx_id` is the login transaction to go back to, when the `state`
/// was ours.
#[derive(Debug)]
pub struct Failed {
    pub tx_id: Option<String>,
    pub error: FederationError,
}

/// The callback: `browser` the digest of the binding cookie it came with, `now_secs` the
/// injected clock.
pub async fn callback(
    upstream: &Upstream,
    store: &dyn EphemeralStore,
    params: CallbackParams,
    browser: &str,
    now_secs: i64,
) -> Result<Returned, Failed> {
    let failed = |tx_id: Option<&str>, error| Failed {
        tx_id: tx_id.map(str::to_owned),
        error,
    };
    // RFC 6749 §10.12: the state binds the answer to the request this browser started; taken
    // atomically, so a replayed callback finds nothing.
    let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return Err(failed(None, FederationError::UnknownState));
    };
    let parked: Option<Parked> = take_json(store, &key(state))
        .await
        .map_err(|e| failed(None, FederationError::Internal(e)))?;
    let Some(parked) = parked else {
        return Err(failed(None, FederationError::UnknownState));
    };
    if !constant_time_eq(&parked.browser, browser) {
        return Err(failed(None, FederationError::UnknownState));
    }
    let tx = Some(parked.tx.as_str());
    if let Some(error) = params.error {
        // OpenID Connect Core §3.1.2.6; FranceConnect answers access_denied when the person
        // goes back without logging in.
        let error = match error.as_str() {
            "access_denied" => FederationError::Cancelled,
            _ => FederationError::Upstream { code: error },
        };
        return Err(failed(tx, error));
    }
    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        return Err(failed(
            tx,
            FederationError::Upstream {
                code: "missing_code".into(),
            },
        ));
    };
    let identity = login(upstream, code, &parked.nonce, now_secs)
        .await
        .map_err(|error| failed(tx, error))?;
    Ok(Returned {
        tx_id: parked.tx,
        identity,
    })
}

/// Code → tokens → verified ID token → verified userinfo.
async fn login(
    upstream: &Upstream,
    code: String,
    nonce: &str,
    now_secs: i64,
) -> Result<UpstreamIdentity, FederationError> {
    let mut metadata = upstream.metadata().await?;
    let client = upstream.client(&metadata);
    let exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| FederationError::Unavailable(format!("no token endpoint: {e}")))?;
    let tokens = exchange
        .request_async(&upstream.http)
        .await
        .map_err(|e| match e {
            openidconnect::RequestTokenError::ServerResponse(answer) => FederationError::Upstream {
                code: answer.error().to_string(),
            },
            other => FederationError::Unavailable(format!("token endpoint: {}", chain(&other))),
        })?;
    let raw_id_token = tokens
        .id_token()
        .map(|t| t.to_string())
        .ok_or(FederationError::IdToken(Refusal::Malformed))?;
    let nonce = Nonce::new(nonce.to_owned());
    let facts = match check_id_token(upstream, &metadata, &raw_id_token, &nonce, now_secs) {
        // A key rotated upstream since the keys were cached.
        Err(Refusal::UnknownKey) => match upstream.refreshed_metadata().await? {
            Some(fresh) => {
                metadata = fresh;
                check_id_token(upstream, &metadata, &raw_id_token, &nonce, now_secs)
            }
            None => Err(Refusal::UnknownKey),
        },
        checked => checked,
    }
    .map_err(FederationError::IdToken)?;
    let pivot = userinfo(
        upstream,
        &metadata,
        tokens.access_token().secret(),
        &facts.subject,
        now_secs,
    )
    .await?;
    Ok(UpstreamIdentity {
        issuer: upstream.issuer().to_owned(),
        subject: facts.subject,
        pivot,
        acr: facts.acr,
        auth_time: facts.auth_time,
        id_token: UpstreamIdToken::new(&Secret::from_presented(&raw_id_token)),
    })
}

fn check_id_token(
    upstream: &Upstream,
    metadata: &Metadata,
    raw: &str,
    nonce: &Nonce,
    now_secs: i64,
) -> Result<verify::IdTokenFacts, Refusal> {
    verify::id_token(raw, nonce, &expected(upstream, metadata, now_secs))
}

fn expected<'a>(upstream: &'a Upstream, metadata: &'a Metadata, now_secs: i64) -> Expected<'a> {
    Expected {
        issuer: &upstream.issuer,
        client_id: &upstream.client_id,
        keys: Upstream::keys(metadata),
        acr_values: &upstream.acr_values,
        now_secs,
    }
}

/// The userinfo, asked for as `application/jwt` and verified as such.
async fn userinfo(
    upstream: &Upstream,
    metadata: &Metadata,
    access_token: &str,
    subject: &str,
    now_secs: i64,
) -> Result<super::PivotIdentity, FederationError> {
    let endpoint = metadata
        .userinfo_endpoint()
        .ok_or_else(|| FederationError::Unavailable("no userinfo endpoint".into()))?;
    let answer = upstream
        .http
        .get(endpoint.url().clone())
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/jwt")
        .send()
        .await
        .map_err(|e| FederationError::Unavailable(format!("userinfo: {}", chain(&e))))?;
    let status = answer.status();
    if status.is_server_error() {
        return Err(FederationError::Unavailable(format!(
            "userinfo: HTTP {status}"
        )));
    }
    if !status.is_success() {
        return Err(FederationError::Upstream {
            code: format!("userinfo_http_{}", status.as_u16()),
        });
    }
    let content_type = answer
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = answer
        .bytes()
        .await
        .map_err(|e| FederationError::Unavailable(format!("userinfo: {}", chain(&e))))?;
    verify::userinfo(
        &body,
        content_type.as_deref(),
        subject,
        &expected(upstream, metadata, now_secs),
    )
    .map_err(FederationError::UserInfo)
}
