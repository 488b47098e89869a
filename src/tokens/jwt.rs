//! Compact JWS: signing through aws-lc-rs with the key ring's parsed keys, verification with
//! `jsonwebtoken`. Expiry is checked against the injected clock, not the wall clock.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::tokens::keyring::KeyRing;
use crate::tokens::keys::LoadedKey;

/// Signs `claims` as a compact JWS with `key`; `typ` is the media type of the token
/// (`logout+jwt` for logout tokens, RFC 8417 §2.3), JWT otherwise.
pub fn sign(key: &LoadedKey, typ: &str, claims: &impl Serialize) -> anyhow::Result<String> {
    let header = json!({ "alg": key.alg.as_str(), "kid": key.kid, "typ": typ });
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

/// OpenID Connect Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token
/// (both RS256 and ES256 hash with SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Why a JWT of ours was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("invalid signature or claims")]
    Invalid,
    #[error("expired")]
    Expired,
}

/// Verifies a token signed by one of our published keys and issued by `issuer`; returns its
/// claims. `now_ms = None` skips the expiry check (an `id_token_hint` may be expired, OpenID
/// Connect RP-Initiated Logout §2).
pub async fn verify(
    keys: &KeyRing,
    issuer: &str,
    token: &str,
    now_ms: Option<i64>,
) -> anyhow::Result<Result<serde_json::Value, JwtError>> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(Err(JwtError::Malformed));
    };
    let Some(kid) = header.kid else {
        return Ok(Err(JwtError::UnknownKey));
    };
    let Some(key) = keys.verification_key(&kid).await? else {
        return Ok(Err(JwtError::UnknownKey));
    };
    if header.alg != key.alg.jwt() {
        return Ok(Err(JwtError::Invalid));
    }
    let mut validation = jsonwebtoken::Validation::new(key.alg.jwt());
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[issuer]);
    let claims = match jsonwebtoken::decode::<serde_json::Value>(token, &key.decoding, &validation)
    {
        Ok(data) => data.claims,
        Err(_) => return Ok(Err(JwtError::Invalid)),
    };
    if let Some(now) = now_ms {
        let exp = claims["exp"].as_i64().unwrap_or(0);
        if exp * 1000 <= now {
            return Ok(Err(JwtError::Expired));
        }
    }
    Ok(Ok(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_openid_connect_example() {
        // OpenID Connect Core, appendix A.3 access token and its at_hash (RS256).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
