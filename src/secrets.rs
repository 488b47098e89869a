//! Bearer values (codes, tokens, secrets): generated from the OS RNG, stored only as digests,
//! never printed. `Secret` redacts itself in `Debug` so a stray `{:?}` cannot leak one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A bearer value handed to a client once.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 256 bits from the OS RNG, base64url.
    pub fn generate() -> Secret {
        Secret(random_b64(32))
    }

    pub fn from_presented(value: &str) -> Secret {
        Secret(value.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256, base64url: what the stores keep. Generated secrets carry 256 bits of entropy,
    /// so a fast digest is enough (DESIGN.md: argon2 is for passwords only).
    pub fn digest(&self) -> String {
        digest(self.0.as_bytes())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// SHA-256 of `bytes`, base64url without padding.
pub fn digest(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// `len` random bytes as base64url: identifiers that must not be guessable (sid, grant id, ...).
pub fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A bearer token of the administration API: 256 random bits, prefixed so that it is never
/// mistaken for its digest (`admin.token_digests` refuses it).
pub fn admin_token() -> String {
    format!("eca_{}", random_b64(32))
}

/// Constant-time equality of two strings (digests, CSRF tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::from_presented("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn generated_secrets_differ_and_digest_is_stable() {
        let a = Secret::generate();
        assert_ne!(a, Secret::generate());
        assert_eq!(a.digest(), Secret::from_presented(a.expose()).digest());
        assert_eq!(a.expose().len(), 43);
    }
}
