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

/// The browser's token remembered for `login`, if one of `tokens` is.
pub async fn recognized(
    store: &dyn EphemeralStore,
    login: &str,
    tokens: &[String],
) -> anyhow::Result<Option<String>> {
    for token in tokens.iter().take(MAX_PER_BROWSER) {
        if store.exists(&key(login, token)).await? {
            return Ok(Some(token.clone()));
        }
    }
    Ok(None)
}

/// The counter name of a recognized token: its digest.
pub fn counter_of(token: &str) -> String {
    digest(token.as_bytes())
}

/// After a successful login: the browser's tokens with one for `login` first (`known`, the one
/// `recognized` found, or a new one), remembered for `ttl` from now. `None` when trust is
/// disabled (zero TTL).
pub async fn remember(
    store: &dyn EphemeralStore,
    login: &str,
    mut tokens: Vec<String>,
    known: Option<String>,
    ttl: Duration,
) -> anyhow::Result<Option<Vec<String>>> {
    if ttl.is_zero() {
        return Ok(None);
    }
    let token = known.unwrap_or_else(|| random_b64(24));
    tokens.retain(|t| *t != token);
    store.put(&key(login, &token), b"1", ttl).await?;
    tokens.insert(0, token);
    tokens.truncate(MAX_PER_BROWSER);
    Ok(Some(tokens))
}
