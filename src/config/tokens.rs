//! The lifetimes of what the protocol issues: codes and tokens, and the SSO session.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    pub authorization_code_seconds: u64,
    pub access_token_seconds: u64,
    pub id_token_seconds: u64,
    pub refresh_token_seconds: u64,
    /// A rotated refresh token presented again within this window is treated as a lost response
    /// instead of a theft (0 disables the window).
    pub refresh_reuse_grace_seconds: u64,
    pub logout_token_seconds: u64,
    /// How long a login or consent transaction (the page between authorize and redirect) lives.
    pub login_transaction_seconds: u64,
    /// Login and consent transactions one client address may start per minute.
    pub transactions_per_address_per_minute: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub lifetime_seconds: u64,
    pub cookie_name: String,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            authorization_code_seconds: 60,
            access_token_seconds: 600,
            id_token_seconds: 600,
            refresh_token_seconds: 30 * 24 * 3600,
            refresh_reuse_grace_seconds: 0,
            logout_token_seconds: 120,
            login_transaction_seconds: 900,
            // A school's whole morning arrives from one address: the bound is deliberately high.
            transactions_per_address_per_minute: 600,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            lifetime_seconds: 8 * 3600,
            cookie_name: "educonnect_session".into(),
        }
    }
}
