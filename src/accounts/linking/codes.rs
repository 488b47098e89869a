//! Attachment codes: what an establishment hands a guardian on paper to attach a pupil, made
//! to be read and typed (`ABCD-EFGH-JKMN`), stored as a digest only.

use super::model::AttachmentCode;
use crate::secrets::digest;

/// How long a code handed out by an establishment can be used.
pub const CODE_DAYS: i64 = 30;
/// Unambiguous letters and digits (no I, L, O, U; no 0, 1): read off paper and typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
const CODE_LENGTH: usize = 12;

/// A new code, as shown (`ABCD-EFGH-JKMN`: 12 characters of 30, 58 bits) and as stored.
pub fn new_code(pupil_id: &str, now_ms: i64) -> (String, AttachmentCode) {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    let shown = raw
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-");
    let stored = AttachmentCode {
        digest: code_digest(&raw),
        pupil_id: pupil_id.to_owned(),
        created_at: now_ms,
        expires_at: now_ms + CODE_DAYS * 24 * 3600 * 1000,
    };
    (shown, stored)
}

/// The digest of a code as typed: case, spaces and dashes do not matter.
pub fn code_digest(typed: &str) -> String {
    let normalized: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    digest(normalized.as_bytes())
}
