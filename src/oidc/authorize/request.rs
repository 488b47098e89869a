//! The authorization request once validated: every field typed, nothing left as a raw string
//! the rest of the flow would have to re-check.

use serde::{Deserialize, Serialize};

use crate::oidc::scope::Scopes;

/// OAuth 2.0 Multiple Response Types §2.1 and Form Post Response Mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// OpenID Connect Core §3.1.2.1 `prompt`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// Exactly as registered (review #13.8): compared and redirected to as that string, never
    /// as a normalized URL (`http://host:80/cb` would become `http://host/cb`).
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// PKCE S256 challenge (RFC 7636 §4.2).
    pub code_challenge: String,
    pub prompt: Prompt,
    /// Seconds.
    pub max_age: Option<i64>,
    /// The `sub` of a valid `id_token_hint`.
    pub hinted_sub: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
}

/// Where and how the response goes back to the RP, known once the redirect URI is trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTo {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}

impl AuthorizationRequest {
    pub fn reply_to(&self) -> ReplyTo {
        ReplyTo {
            redirect_uri: self.redirect_uri.clone(),
            response_mode: self.response_mode,
            state: self.state.clone(),
        }
    }
}
