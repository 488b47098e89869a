//! The second factor of staff: TOTP (RFC 6238; SHA-1, 6 digits, 30-second steps, one step of
//! drift either way), through `totp-rs`. The secret is sealed with the key-encryption key, bound
//! to the staff id; it is shown once, at enrolment, as a QR code (an `otpauth://` URL, rendered
//! as SVG by `qrcode`) and as base32 for typing. A code is accepted once: the step it matched
//! is remembered in the ephemeral store until it can no longer match.

use std::time::Duration;

use totp_rs::{Algorithm, TOTP};

use crate::secrets::constant_time_eq;
use crate::store::EphemeralStore;
use crate::tokens::kek::Kek;

/// Seconds per code.
pub const STEP: u64 = 30;
const DIGITS: usize = 6;
/// The issuer shown by authenticator apps.
const ISSUER: &str = "EduConnect gestion";
/// Secret length: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

fn label(staff_id: &str) -> String {
    format!("staff-totp:{staff_id}")
}

/// A new secret.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    secret
}

pub fn seal(kek: &Kek, staff_id: &str, secret: &[u8]) -> anyhow::Result<String> {
    kek.seal(&label(staff_id), secret)
}

pub fn open(kek: &Kek, staff_id: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
    kek.open(&label(staff_id), sealed)
}

fn totp(secret: Vec<u8>, login: &str) -> anyhow::Result<TOTP> {
    // An account name may not hold ':' (the otpauth label's separator); logins never do.
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        secret,
        Some(ISSUER.to_owned()),
        login.replace(':', "."),
    )
    .map_err(|e| anyhow::anyhow!("TOTP: {e}"))
}

/// What enrolment shows: the secret in base32, and the QR code of its `otpauth://` URL.
pub struct Enrolment {
    pub base32: String,
    pub qr_svg: String,
}

pub fn enrolment(secret: &[u8], login: &str) -> anyhow::Result<Enrolment> {
    let totp = totp(secret.to_vec(), login)?;
    let code = qrcode::QrCode::new(totp.get_url().as_bytes())?;
    let qr_svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Ok(Enrolment {
        base32: totp.get_secret_base32(),
        qr_svg,
    })
}

/// A secret as enrolment shows it (base32), back to bytes: what an authenticator app does.
pub fn from_base32(value: &str) -> anyhow::Result<Vec<u8>> {
    totp_rs::Secret::Encoded(value.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("base32: {e:?}"))
}

/// The code of `secret` at `unix_seconds` (the demo page shows it; tests type it).
pub fn code_at(secret: &[u8], unix_seconds: u64) -> anyhow::Result<String> {
    Ok(totp(secret.to_vec(), "code")?.generate(unix_seconds))
}

/// Whether `code` is the code of `secret` at `unix_seconds` (or one step either side) and was
/// never accepted before for this staff member. The step it matched is spent.
pub async fn verify(
    store: &dyn EphemeralStore,
    staff_id: &str,
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
) -> anyhow::Result<bool> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let totp = totp(secret.to_vec(), "code")?;
    let now_step = unix_seconds / STEP;
    let mut matched = None;
    // Every candidate is computed and compared, in constant time.
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        if constant_time_eq(&totp.generate(step * STEP), &code) {
            matched = Some(step);
        }
    }
    let Some(step) = matched else {
        return Ok(false);
    };
    // A code is good for three steps at most; remembered a little longer.
    let fresh = store
        .put_if_absent(
            &format!("staff-totp-used:{{{staff_id}}}:{step}"),
            b"1",
            Duration::from_secs(STEP * 4),
        )
        .await?;
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ephemeral::MemoryStore;

    /// RFC 6238 appendix B, SHA-1, 59 s: 94287082 (8 digits); its 6 last digits.
    #[test]
    fn the_rfc_6238_test_vector_gives_its_code() {
        let secret = b"12345678901234567890".to_vec();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1111111109).unwrap(), "081804");
    }

    #[tokio::test]
    async fn a_code_is_accepted_once_within_one_step_of_drift() {
        let store = MemoryStore::new();
        let secret = generate_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        assert!(verify(&store, "s1", &secret, &code, now + STEP)
            .await
            .unwrap());
        assert!(
            !verify(&store, "s1", &secret, &code, now).await.unwrap(),
            "replayed"
        );
        let old = code_at(&secret, now - 3 * STEP).unwrap();
        assert!(
            !verify(&store, "s1", &secret, &old, now).await.unwrap(),
            "too old"
        );
        assert!(!verify(&store, "s1", &secret, "12345", now).await.unwrap());
        assert!(!verify(&store, "s1", &secret, "abcdef", now).await.unwrap());
    }

    #[test]
    fn enrolment_shows_base32_and_a_qr_code() {
        let secret = generate_secret();
        let enrolment = enrolment(&secret, "m.dupont").unwrap();
        assert_eq!(enrolment.base32.len(), 32);
        assert!(enrolment.qr_svg.contains("<svg"));
    }
}
