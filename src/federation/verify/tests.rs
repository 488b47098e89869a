//! Hostile upstream tokens: each is valid but for one thing, and must be refused for that thing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{ClientId, IssuerUrl, Nonce};
use serde_json::{json, Value};

use super::{id_token, userinfo, Expected};
use crate::federation::Refusal;
use crate::tokens::keys::{LoadedKey, SigningAlg};

const ISSUER: &str = "https://fc.example/api/v2";
const CLIENT: &str = "educonnect-client";
const NONCE: &str = "n-0123456789abcdefghijklmnopqrstuvwxyzABCD";
const NOW: i64 = 1_790_000_000;
const SUB: &str = "b6048e95bb134ec5b1d1e1fa69f287172e91722b9354d637a1bcf2ebb0fd2ef5v1";

struct Upstream {
    es256: LoadedKey,
    rs256: LoadedKey,
    keys: CoreJsonWebKeySet,
    acr: Vec<String>,
    issuer: IssuerUrl,
    client: ClientId,
}

impl Upstream {
    fn new() -> Upstream {
        let es256 = LoadedKey::generate_unpublished(SigningAlg::ES256).unwrap();
        let rs256 = LoadedKey::generate_unpublished(SigningAlg::RS256).unwrap();
        let keys = serde_json::from_value(json!({"keys": [es256.jwk, rs256.jwk]})).unwrap();
        Upstream {
            es256,
            rs256,
            keys,
            acr: vec!["eidas1".into()],
            issuer: IssuerUrl::new(ISSUER.into()).unwrap(),
            client: ClientId::new(CLIENT.into()),
        }
    }

    fn expected(&self) -> Expected<'_> {
        Expected {
            issuer: &self.issuer,
            client_id: &self.client,
            keys: &self.keys,
            acr_values: &self.acr,
            now_secs: NOW,
        }
    }

    fn check_id_token(&self, token: &str) -> Result<super::IdTokenFacts, Refusal> {
        id_token(token, &Nonce::new(NONCE.into()), &self.expected())
    }

    fn check_userinfo(&self, token: &str) -> Result<crate::federation::PivotIdentity, Refusal> {
        userinfo(
            token.as_bytes(),
            Some("application/jwt; charset=utf-8"),
            SUB,
            &self.expected(),
        )
    }
}

fn id_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": SUB,
        "iat": NOW - 10,
        "exp": NOW + 50,
        "nonce": NONCE,
        "acr": "eidas1",
        "amr": ["pwd"],
        "auth_time": NOW - 20,
    })
}

fn userinfo_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": SUB,
        "iat": NOW - 5,
        "exp": NOW + 55,
        "given_name": "Claire Anne",
        "family_name": "MARTIN",
        "birthdate": "1984-03-12",
        "gender": "female",
        "birthplace": "69123",
        "birthcountry": "99100",
        "email": "claire.martin@demo.educonnect.invalid",
        "preferred_username": "",
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS with any header, signed by `signer` (or with `signature` bytes given).
fn jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(&serde_json::to_vec(header).unwrap()),
        b64(&serde_json::to_vec(claims).unwrap())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn signed(key: &LoadedKey, claims: &Value) -> String {
    jws(
        &json!({"alg": key.alg.as_str(), "kid": key.kid, "typ": "JWT"}),
        claims,
        |input| key.sign(input).unwrap(),
    )
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

#[test]
fn a_well_formed_id_token_is_accepted_with_es256_and_rs256() {
    let upstream = Upstream::new();
    for key in [&upstream.es256, &upstream.rs256] {
        let facts = upstream.check_id_token(&signed(key, &id_claims())).unwrap();
        assert_eq!(facts.subject, SUB);
        assert_eq!(facts.acr, "eidas1");
        assert_eq!(facts.auth_time, Some(NOW - 20));
    }
}

#[test]
fn an_id_token_signed_by_another_key_under_a_published_kid_is_refused() {
    let upstream = Upstream::new();
    let impostor = LoadedKey::generate_unpublished(SigningAlg::ES256).unwrap();
    let header = json!({"alg": "ES256", "kid": upstream.es256.kid, "typ": "JWT"});
    let token = jws(&header, &id_claims(), |input| impostor.sign(input).unwrap());
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::Signature));
}

#[test]
fn an_id_token_with_a_tampered_payload_is_refused() {
    let upstream = Upstream::new();
    let token = signed(&upstream.es256, &id_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged =
        b64(&serde_json::to_vec(&with(id_claims(), "sub", json!("someone-else"))).unwrap());
    let token = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::Signature));
}

#[test]
fn an_id_token_by_an_unpublished_key_is_refused_as_unknown() {
    let upstream = Upstream::new();
    let stranger = LoadedKey::generate_unpublished(SigningAlg::ES256).unwrap();
    let token = signed(&stranger, &id_claims());
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::UnknownKey));
}

#[test]
fn an_unsigned_id_token_alg_none_is_refused() {
    let upstream = Upstream::new();
    let token = jws(&json!({"alg": "none", "typ": "JWT"}), &id_claims(), |_| {
        Vec::new()
    });
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::Algorithm));
}

/// The classic confusion: an HMAC keyed with the public key, which anyone has.
fn hs256_with_public_key(upstream: &Upstream, claims: &Value) -> Vec<String> {
    let public_forms = [
        serde_json::to_vec(&upstream.es256.jwk).unwrap(),
        serde_json::to_vec(&upstream.rs256.jwk).unwrap(),
        URL_SAFE_NO_PAD
            .decode(upstream.rs256.jwk["n"].as_str().unwrap())
            .unwrap(),
    ];
    public_forms
        .iter()
        .map(|secret| {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
            jws(
                &json!({"alg": "HS256", "kid": upstream.es256.kid, "typ": "JWT"}),
                claims,
                |input| aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec(),
            )
        })
        .collect()
}

#[test]
fn an_id_token_hs256_with_the_public_key_is_refused() {
    let upstream = Upstream::new();
    for token in hs256_with_public_key(&upstream, &id_claims()) {
        assert_eq!(upstream.check_id_token(&token), Err(Refusal::Algorithm));
    }
}

#[test]
fn an_id_token_for_another_client_is_refused() {
    let upstream = Upstream::new();
    let token = signed(
        &upstream.es256,
        &with(id_claims(), "aud", json!("another-client")),
    );
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::Audience));
}

#[test]
fn an_id_token_of_another_issuer_is_refused() {
    let upstream = Upstream::new();
    let claims = with(id_claims(), "iss", json!("https://evil.example/api/v2"));
    let token = signed(&upstream.es256, &claims);
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::Issuer));
}

#[test]
fn an_id_token_with_another_nonce_is_refused() {
    let upstream = Upstream::new();
    for nonce in [
        json!("n-of-another-login-0123456789abcdefghijklm"),
        Value::Null,
    ] {
        let token = signed(&upstream.es256, &with(id_claims(), "nonce", nonce));
        assert_eq!(upstream.check_id_token(&token), Err(Refusal::Nonce));
    }
}

#[test]
fn an_expired_id_token_is_refused_by_the_injected_clock() {
    let upstream = Upstream::new();
    let token = signed(&upstream.es256, &with(id_claims(), "exp", json!(NOW - 1)));
    assert_eq!(upstream.check_id_token(&token), Err(Refusal::Expired));
}

#[test]
fn an_id_token_below_the_required_acr_is_refused() {
    let upstream = Upstream::new();
    for acr in [json!("eidas0"), json!("basic"), Value::Null] {
        let token = signed(&upstream.es256, &with(id_claims(), "acr", acr.clone()));
        assert_eq!(upstream.check_id_token(&token), Err(Refusal::Acr), "{acr}");
    }
}

#[test]
fn a_signed_userinfo_gives_the_pivot_identity() {
    let upstream = Upstream::new();
    let pivot = upstream
        .check_userinfo(&signed(&upstream.es256, &userinfo_claims()))
        .unwrap();
    assert_eq!(pivot.given_name, "Claire Anne");
    assert_eq!(pivot.family_name, "MARTIN");
    assert_eq!(pivot.birthdate.as_deref(), Some("1984-03-12"));
    assert_eq!(pivot.birthplace.as_deref(), Some("69123"));
    assert_eq!(pivot.birthcountry.as_deref(), Some("99100"));
    assert_eq!(pivot.gender.as_deref(), Some("female"));
    // An empty usage name is no usage name.
    assert_eq!(pivot.preferred_username, None);
    let rs = upstream
        .check_userinfo(&signed(&upstream.rs256, &userinfo_claims()))
        .unwrap();
    assert_eq!(rs, pivot);
}

#[test]
fn an_unsigned_userinfo_is_refused_when_a_signed_one_is_expected() {
    let upstream = Upstream::new();
    let body = serde_json::to_vec(&userinfo_claims()).unwrap();
    for content_type in [Some("application/json"), None, Some("text/plain")] {
        let refused = userinfo(&body, content_type, SUB, &upstream.expected());
        assert_eq!(refused, Err(Refusal::Unsigned), "{content_type:?}");
    }
    // Announced as a JWT, but `alg: none`.
    let token = jws(&json!({"alg": "none"}), &userinfo_claims(), |_| Vec::new());
    assert_eq!(upstream.check_userinfo(&token), Err(Refusal::Algorithm));
}

#[test]
fn a_userinfo_with_a_bad_signature_or_hmac_is_refused() {
    let upstream = Upstream::new();
    let impostor = LoadedKey::generate_unpublished(SigningAlg::ES256).unwrap();
    let header = json!({"alg": "ES256", "kid": upstream.es256.kid});
    let token = jws(&header, &userinfo_claims(), |input| {
        impostor.sign(input).unwrap()
    });
    assert_eq!(upstream.check_userinfo(&token), Err(Refusal::Signature));
    for token in hs256_with_public_key(&upstream, &userinfo_claims()) {
        assert_eq!(upstream.check_userinfo(&token), Err(Refusal::Algorithm));
    }
    let stranger = LoadedKey::generate_unpublished(SigningAlg::ES256).unwrap();
    let token = signed(&stranger, &userinfo_claims());
    assert_eq!(upstream.check_userinfo(&token), Err(Refusal::UnknownKey));
}

#[test]
fn a_userinfo_for_another_client_issuer_person_or_time_is_refused() {
    let upstream = Upstream::new();
    let cases = [
        ("aud", json!("another-client"), Refusal::Audience),
        ("iss", json!("https://evil.example/api/v2"), Refusal::Issuer),
        ("sub", json!("another-person"), Refusal::Subject),
        ("exp", json!(NOW - 1), Refusal::Expired),
    ];
    for (claim, value, refusal) in cases {
        let token = signed(&upstream.es256, &with(userinfo_claims(), claim, value));
        assert_eq!(upstream.check_userinfo(&token), Err(refusal), "{claim}");
    }
}

#[test]
fn a_userinfo_without_issuer_or_audience_is_refused() {
    let upstream = Upstream::new();
    for (claim, refusal) in [("iss", Refusal::Issuer), ("aud", Refusal::Audience)] {
        let mut claims = userinfo_claims();
        claims.as_object_mut().unwrap().remove(claim);
        let token = signed(&upstream.es256, &claims);
        assert_eq!(upstream.check_userinfo(&token), Err(refusal), "{claim}");
    }
}

#[test]
fn an_id_token_without_issuer_audience_nonce_or_expiry_is_refused() {
    let upstream = Upstream::new();
    for (claim, refusal) in [
        ("iss", Refusal::Malformed),
        ("aud", Refusal::Audience),
        ("exp", Refusal::Malformed),
        ("nonce", Refusal::Nonce),
        ("acr", Refusal::Acr),
    ] {
        let mut claims = id_claims();
        claims.as_object_mut().unwrap().remove(claim);
        let token = signed(&upstream.es256, &claims);
        assert_eq!(upstream.check_id_token(&token), Err(refusal), "{claim}");
    }
}
