//! The token endpoint's grants, one file each, and the records they share: a `Grant` is one
//! authorization of a client by an account, its refresh tokens a chain where only the newest works.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
mod response;

pub use response::TokenResponse;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    pub account_id: String,
    pub client_id: String,
    /// Space-separated granted scopes.
    pub scope: String,
    /// The SSO session the grant was made in; its logout revokes the grant unless `offline`.
    pub sid: Option<String>,
    /// `offline_access` was granted: the grant outlives the SSO session.
    pub offline: bool,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A refresh token as stored: its digest, never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub digest: String,
    pub grant_id: String,
    pub parent_digest: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}
