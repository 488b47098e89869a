//! The checks of what the upstream provider returns, as pure functions of the token and of what
//! is expected (so that hostile tokens are tested without a network):
//!
//! - the ID token (`openidconnect`'s `IdTokenVerifier`, OpenID Connect Core §3.1.3.7): signed
//!   with ES256 or RS256 by a key of the upstream's JWKS — never `none`, never an HMAC —, `iss`,
//!   `aud`, `exp` against the injected clock, `nonce`, and an `acr` among the configured
//!   `acr_values`;
//! - the userinfo (OpenID Connect Core §5.3.2), which FranceConnect v2 answers signed
//!   (`application/jwt`): a plain JSON answer is refused, the JWS is checked with
//!   `jsonwebtoken` against the same JWKS (`openidconnect` 4.1's userinfo verifier accepts RS256
//!   only and cannot be given ES256: ramosbugs/openidconnect-rs#191), then `iss`, `aud`, `exp`
//!   and a `sub` equal to the ID token's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, Nonce, SignatureVerificationError,
};
use serde::Deserialize;

use super::error::Refusal;
use super::pivot::PivotIdentity;

/// FranceConnect v2 signs with one of these (its documentation: ES256 recommended, RS256).
pub const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 2] = [
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
];

/// What a token from the upstream must match.
pub struct Expected<'a> {
    pub issuer: &'a IssuerUrl,
    pub client_id: &'a ClientId,
    pub keys: &'a CoreJsonWebKeySet,
    /// The configured `acr_values`: the ID token's `acr` must be one of them.
    pub acr_values: &'a [String],
    /// The injected clock, in seconds since the epoch.
    pub now_secs: i64,
}

/// What the verified ID token says.
#[derive(Debug, PartialEq, Eq)]
pub struct IdTokenFacts {
    pub subject: String,
    pub acr: String,
    pub auth_time: Option<i64>,
}

/// Verifies the ID token `raw` of the login whose nonce is `nonce`.
pub fn id_token(raw: &str, nonce: &Nonce, expected: &Expected) -> Result<IdTokenFacts, Refusal> {
    let token: CoreIdToken = raw.parse().map_err(|_| Refusal::Malformed)?;
    let now = chrono::DateTime::from_timestamp(expected.now_secs, 0).ok_or(Refusal::Malformed)?;
    let acr_values = expected.acr_values;
    let verifier = CoreIdTokenVerifier::new_public_client(
        expected.client_id.clone(),
        expected.issuer.clone(),
        expected.keys.clone(),
    )
    // RFC 8725 §3.1: the algorithms are ours to choose, not the token's header's.
    .set_allowed_algs(ALLOWED_ALGS)
    .set_time_fn(move || now)
    .set_auth_context_verifier_fn(move |acr| match acr {
        Some(acr) if acr_values.iter().any(|v| v.as_str() == acr.as_str()) => Ok(()),
        other => Err(format!(
            "acr {:?} is not one of {acr_values:?}",
            other.map(|a| a.as_str())
        )),
    });
    let claims = token.claims(&verifier, nonce).map_err(id_token_refusal)?;
    Ok(IdTokenFacts {
        subject: claims.subject().to_string(),
        acr: claims
            .auth_context_ref()
            .map(|acr| acr.to_string())
            .ok_or(Refusal::Acr)?,
        auth_time: claims.auth_time().map(|t| t.timestamp()),
    })
}

fn id_token_refusal(error: ClaimsVerificationError) -> Refusal {
    match error {
        ClaimsVerificationError::Expired(_) => Refusal::Expired,
        ClaimsVerificationError::InvalidAudience(_) => Refusal::Audience,
        ClaimsVerificationError::InvalidAuthContext(_) => Refusal::Acr,
        ClaimsVerificationError::InvalidIssuer(_) => Refusal::Issuer,
        ClaimsVerificationError::InvalidNonce(_) => Refusal::Nonce,
        ClaimsVerificationError::SignatureVerification(e) => signature_refusal(e),
        _ => Refusal::Malformed,
    }
}

fn signature_refusal(error: SignatureVerificationError) -> Refusal {
    match error {
        // `alg: none` is NoSignature: an algorithm we do not allow.
        SignatureVerificationError::DisallowedAlg(_)
        | SignatureVerificationError::UnsupportedAlg(_)
        | SignatureVerificationError::NoSignature => Refusal::Algorithm,
        SignatureVerificationError::NoMatchingKey
        | SignatureVerificationError::AmbiguousKeyId(_) => Refusal::UnknownKey,
        SignatureVerificationError::CryptoError(_) | SignatureVerificationError::InvalidKey(_) => {
            Refusal::Signature
        }
        _ => Refusal::Signature,
    }
}

/// The claims of a userinfo answer this provider reads.
#[derive(Deserialize)]
struct UserInfoClaims {
    sub: String,
    exp: Option<i64>,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    preferred_username: Option<String>,
    birthdate: Option<String>,
    gender: Option<String>,
    birthplace: Option<String>,
    birthcountry: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Verifies a userinfo answer (`content_type` its `Content-Type`) of the person whose ID token
/// said `subject`, and reads the pivot identity.
pub fn userinfo(
    body: &[u8],
    content_type: Option<&str>,
    subject: &str,
    expected: &Expected,
) -> Result<PivotIdentity, Refusal> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    // FranceConnect v2: the userinfo is a JWS; a JSON answer could come from anyone on the path.
    if essence.as_deref() != Some("application/jwt") {
        return Err(Refusal::Unsigned);
    }
    let raw = std::str::from_utf8(body)
        .map_err(|_| Refusal::Malformed)?
        .trim();
    let header = raw.split('.').next().ok_or(Refusal::Malformed)?;
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(Refusal::Malformed)?;
    let alg = match header.alg.as_str() {
        "ES256" => jsonwebtoken::Algorithm::ES256,
        "RS256" => jsonwebtoken::Algorithm::RS256,
        _ => return Err(Refusal::Algorithm),
    };
    let key = decoding_key(expected.keys, header.kid.as_deref(), &header.alg)?;
    let mut validation = jsonwebtoken::Validation::new(alg);
    // Expiry is checked below against the injected clock.
    validation.validate_exp = false;
    // OpenID Connect Core §5.3.2: a signed userinfo carries iss and aud; absent, they would
    // not be checked at all.
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    validation.set_issuer(&[expected.issuer.as_str()]);
    validation.set_audience(&[expected.client_id.as_str()]);
    let claims = jsonwebtoken::decode::<UserInfoClaims>(raw, &key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => Refusal::Signature,
                ErrorKind::InvalidIssuer => Refusal::Issuer,
                ErrorKind::InvalidAudience => Refusal::Audience,
                ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => Refusal::Issuer,
                ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => Refusal::Audience,
                ErrorKind::InvalidAlgorithm => Refusal::Algorithm,
                _ => Refusal::Malformed,
            }
        })?
        .claims;
    if claims.exp.is_some_and(|exp| exp <= expected.now_secs) {
        return Err(Refusal::Expired);
    }
    // OpenID Connect Core §5.3.2: the userinfo's sub must be the ID token's.
    if claims.sub != subject {
        return Err(Refusal::Subject);
    }
    if claims.given_name.trim().is_empty() || claims.family_name.trim().is_empty() {
        return Err(Refusal::Malformed);
    }
    let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    Ok(PivotIdentity {
        given_name: claims.given_name,
        family_name: claims.family_name,
        preferred_username: present(claims.preferred_username),
        birthdate: present(claims.birthdate),
        gender: present(claims.gender),
        birthplace: present(claims.birthplace),
        birthcountry: present(claims.birthcountry),
        email: present(claims.email),
    })
}

/// The upstream's published key the header names (by `kid`; without one, the only key of the
/// algorithm's type).
fn decoding_key(
    keys: &CoreJsonWebKeySet,
    kid: Option<&str>,
    alg: &str,
) -> Result<jsonwebtoken::DecodingKey, Refusal> {
    let kty = if alg == "ES256" { "EC" } else { "RSA" };
    let published = serde_json::to_value(keys).map_err(|_| Refusal::Malformed)?;
    let candidates: Vec<&serde_json::Value> = published["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter(|k| k["kty"] == kty)
                .filter(|k| kid.is_none_or(|kid| k["kid"] == kid))
                .filter(|k| k.get("use").is_none_or(|u| u == "sig"))
                .collect()
        })
        .unwrap_or_default();
    let [jwk] = candidates.as_slice() else {
        return Err(Refusal::UnknownKey);
    };
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value((*jwk).clone()).map_err(|_| Refusal::UnknownKey)?;
    jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|_| Refusal::UnknownKey)
}

#[cfg(test)]
mod tests;
