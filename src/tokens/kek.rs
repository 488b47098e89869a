//! The key-encryption key (KEK): AES-256-GCM over the private halves of signing keys, so a dump of
//! the database alone does not hold a usable signing key. It also keys the pseudonyms
//! (`Kek::pseudonym`, HMAC-SHA-256 under a key derived from it) that name, in the audit trail,
//! what must not be stored as typed.

use std::path::Path;

use anyhow::{bail, Context};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub struct Kek {
    key: LessSafeKey,
    /// Derived from the KEK, never the KEK itself: one key, one use.
    pseudonyms: hmac::Key,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    pub fn from_b64(value: &str) -> anyhow::Result<Kek> {
        let bytes = URL_SAFE_NO_PAD
            .decode(value.trim())
            .context("the key-encryption key must be base64url without padding")?;
        if bytes.len() != 32 {
            bail!(
                "the key-encryption key must be 32 bytes, found {}",
                bytes.len()
            );
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| anyhow::anyhow!("bad KEK"))?;
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            b"educonnect pseudonyms v1",
        );
        Ok(Kek {
            key: LessSafeKey::new(key),
            pseudonyms: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// The configured KEK if given, else `dir/kek`, created (mode 0600) when absent.
    pub fn load_or_create(configured: Option<&str>, dir: &Path) -> anyhow::Result<Kek> {
        if let Some(value) = configured {
            return Kek::from_b64(value);
        }
        let path = dir.join("kek");
        if !path.exists() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut bytes = [0u8; 32];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| anyhow::anyhow!("no randomness"))?;
            write_private(&path, URL_SAFE_NO_PAD.encode(bytes).as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new key-encryption key");
        }
        let value = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Kek::from_b64(&value).with_context(|| format!("in {}", path.display()))
    }

    /// A stable pseudonym of `value` (base64url, 43 characters; callers keep a prefix): the
    /// same for every replica sharing the KEK, and, unlike a plain digest, not to be found from
    /// a list of guesses without the KEK (a login field may hold a password typed by mistake).
    pub fn pseudonym(&self, label: &str, value: &[u8]) -> String {
        let mut context = hmac::Context::with_key(&self.pseudonyms);
        context.update(label.as_bytes());
        context.update(&[0]);
        context.update(value);
        URL_SAFE_NO_PAD.encode(context.sign())
    }

    /// nonce ‖ ciphertext ‖ tag, base64url; `label` is bound as associated data.
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(label.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, label: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .context("sealed value is not base64url")?;
        if bytes.len() < NONCE_LEN {
            bail!("sealed value too short");
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(label.as_bytes()), &mut buffer)
            .map_err(|_| {
                anyhow::anyhow!(
                    "cannot decrypt {label}: it was encrypted with another key-encryption key \
                     (give every replica the same EDUCONNECT_KEY_ENCRYPTION_KEY)"
                )
            })?;
        Ok(plain.to_vec())
    }
}

fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_only_with_same_key_and_label() {
        let kek = Kek::from_b64(&URL_SAFE_NO_PAD.encode([7u8; 32])).unwrap();
        let sealed = kek.seal("kid-1", b"private").unwrap();
        assert_eq!(kek.open("kid-1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid-2", &sealed).is_err());
        let other = Kek::from_b64(&URL_SAFE_NO_PAD.encode([8u8; 32])).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
    }

    #[test]
    fn a_pseudonym_is_stable_per_key_and_label_and_is_no_plain_digest() {
        let kek = Kek::from_b64(&URL_SAFE_NO_PAD.encode([7u8; 32])).unwrap();
        let again = Kek::from_b64(&URL_SAFE_NO_PAD.encode([7u8; 32])).unwrap();
        let other = Kek::from_b64(&URL_SAFE_NO_PAD.encode([8u8; 32])).unwrap();
        let one = kek.pseudonym("login", b"l.martin01");
        assert_eq!(one, again.pseudonym("login", b"l.martin01"));
        assert_ne!(one, other.pseudonym("login", b"l.martin01"));
        assert_ne!(one, kek.pseudonym("staff", b"l.martin01"));
        assert_ne!(one, crate::secrets::digest(b"l.martin01"));
    }
}
