//! One signing key: its algorithm, as the durable store keeps it (the private half sealed with the
//! KEK), as a replica loads it (signer and verification key), and how a new one is generated (on the
//! blocking pool; its kid is the RFC 7638 thumbprint).

use anyhow::{bail, Context};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::tokens::kek::Kek;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::RS256, SigningAlg::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    pub fn parse(value: &str) -> Option<SigningAlg> {
        match value {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }

    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

/// A key as the durable store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// PKCS#8 DER sealed with the KEK (label: the kid).
    pub sealed_private_key: String,
    /// The public JWK, JSON.
    pub public_jwk: String,
    pub created_at: i64,
    pub signing_from: i64,
    pub retire_at: Option<i64>,
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A usable key: its signer, its public JWK and the matching verification key.
pub struct LoadedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub jwk: serde_json::Value,
    pub decoding: DecodingKey,
    pub signing_from: i64,
    pub retire_at: Option<i64>,
    signer: Signer,
}

impl LoadedKey {
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
                Ok(signature)
            }
            Signer::Ec(pair) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?
                .as_ref()
                .to_vec()),
        }
    }

    /// A fresh key that lives in memory only, never stored nor published by the key ring: for
    /// measuring the signature cost (benchmarks), and the keys of the fake FranceConnect and of
    /// tests' hostile tokens; never for the provider's own tokens.
    pub fn generate_unpublished(alg: SigningAlg) -> anyhow::Result<LoadedKey> {
        let (der, mut jwk) = generate_pair(alg)?;
        let kid = thumbprint(&jwk)?;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.as_str());
        LoadedKey::from_der(kid, alg, &der, jwk, 0, None)
    }

    pub(super) fn from_der(
        kid: String,
        alg: SigningAlg,
        der: &[u8],
        jwk: serde_json::Value,
        signing_from: i64,
        retire_at: Option<i64>,
    ) -> anyhow::Result<LoadedKey> {
        let signer = match alg {
            SigningAlg::RS256 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(der).map_err(|e| anyhow::anyhow!("key {kid}: {e}"))?,
            ),
            SigningAlg::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| anyhow::anyhow!("key {kid}: {e}"))?,
            ),
        };
        let decoding = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone())?)
            .with_context(|| format!("public key of {kid}"))?;
        Ok(LoadedKey {
            kid,
            alg,
            jwk,
            decoding,
            signing_from,
            retire_at,
            signer,
        })
    }

    pub(super) fn is_published(&self, now_ms: i64) -> bool {
        self.retire_at.is_none_or(|at| at > now_ms)
    }
}

/// Generates a key pair on the blocking pool and seals its private half.
pub(super) async fn generate(
    kek: &Kek,
    alg: SigningAlg,
    now: i64,
    signing_from: i64,
) -> anyhow::Result<StoredKey> {
    let (der, mut jwk) = tokio::task::spawn_blocking(move || generate_pair(alg)).await??;
    let kid = thumbprint(&jwk)?;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    Ok(StoredKey {
        sealed_private_key: kek.seal(&format!("signing key {kid}"), &der)?,
        kid,
        alg,
        public_jwk: jwk.to_string(),
        created_at: now,
        signing_from,
        retire_at: None,
    })
}

fn generate_pair(alg: SigningAlg) -> anyhow::Result<(Vec<u8>, serde_json::Value)> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match alg {
        SigningAlg::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                .map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
            let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            Ok((
                der.as_ref().to_vec(),
                json!({"kty": "RSA", "n": b64(&public.n), "e": b64(&public.e)}),
            ))
        }
        SigningAlg::ES256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| anyhow::anyhow!("EC key generation failed"))?;
            let der = pair
                .to_pkcs8v1()
                .map_err(|_| anyhow::anyhow!("EC key encoding failed"))?;
            let point = pair.public_key().as_ref();
            if point.len() != 65 || point[0] != 4 {
                bail!("unexpected EC public key encoding");
            }
            Ok((
                der.as_ref().to_vec(),
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])}),
            ))
        }
    }
}

/// RFC 7638 JWK thumbprint (SHA-256): the kid.
fn thumbprint(jwk: &serde_json::Value) -> anyhow::Result<String> {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => bail!("unsupported key type"),
    };
    let canonical: serde_json::Map<String, serde_json::Value> = members
        .iter()
        .map(|m| (m.to_string(), jwk[*m].clone()))
        .collect();
    Ok(crate::secrets::digest(
        serde_json::to_string(&canonical)?.as_bytes(),
    ))
}
