//! Trusted browsers (ADR 0008, review #13.12): a browser that logged in to an account keeps a
//! random token for it (a cookie of `http/`); while the token is remembered, that browser's
//! password attempts on that account are counted on a counter of their own instead of the
//! account's. Anyone can still lock an account for unknown browsers with a few wrong
//! passwords (identifiers are guessable), but not for the family's own devices.
//!
//! Only digests are stored: `device:<digest of login>:<digest of token>`, with a TTL.

use std::time::Duration;

use crate::secrets::{digest, random_b64};
use crate::store::EphemeralStore;

/// Tokens one browser keeps (a family computer is used by several accounts); the oldest go.
pub const MAX_PER_BROWSER: usize = 5;

fn key(login: &str, token: &str) -> String {
    format!(
        "device:{}:{}",
        digest(login.as_bytes()),
        digest(token.as_bytes())
    )
}

/// The digest of the browser's token for `login`, if one of `tokens` is remembered for it.
pub async fn recognized(
    store: &dyn EphemeralStore,
    login: &str,
    tokens: &[String],
) -> anyhow::Result<Option<String>> {
    for token in tokens.iter().take(MAX_PER_BROWSER) {
        if store.exists(&key(login, token)).await? {
            return Ok(Some(digest(token.as_bytes())));
        }
    }
    Ok(None)
}

/// After a successful login: the browser's tokens with one for `login` first (a new one if it
/// had none), remembered for `ttl` from now. `None` when trust is disabled (zero TTL).
pub async fn remember(
    store: &dyn EphemeralStore,
    login: &str,
    mut tokens: Vec<String>,
    ttl: Duration,
) -> anyhow::Result<Option<Vec<String>>> {
    if ttl.is_zero() {
        return Ok(None);
    }
    tokens.truncate(MAX_PER_BROWSER);
    let mut known = None;
    for (i, token) in tokens.iter().enumerate() {
        if store.exists(&key(login, token)).await? {
            known = Some(i);
            break;
        }
    }
    let token = match known {
        Some(i) => tokens.remove(i),
        None => random_b64(24),
    };
    store.put(&key(login, &token), b"1", ttl).await?;
    tokens.insert(0, token);
    tokens.truncate(MAX_PER_BROWSER);
    Ok(Some(tokens))
}
