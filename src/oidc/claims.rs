//! Claims about an account, by scope (OpenID Connect Core §5.4), for ID tokens and userinfo.
//! Names and meanings: `docs/claims.md`.

use serde_json::{json, Map, Value};

use crate::accounts::Account;
use crate::oidc::scope::Scopes;

/// `sub` plus the claims the scopes release.
pub fn for_scopes(account: &Account, scopes: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(account.id));
    if scopes.contains("profile") {
        claims.insert("given_name".into(), json!(account.given_name));
        claims.insert("family_name".into(), json!(account.family_name));
        claims.insert(
            "name".into(),
            json!(format!("{} {}", account.given_name, account.family_name)),
        );
        claims.insert("educonnect_profile".into(), json!(account.profile.as_str()));
    }
    if scopes.contains("email") {
        if let Some(email) = &account.email {
            claims.insert("email".into(), json!(email));
            // Addresses come from school records, nobody proved they receive mail there.
            claims.insert("email_verified".into(), json!(false));
        }
    }
    if scopes.contains("phone") {
        if let Some(phone) = &account.phone {
            claims.insert("phone_number".into(), json!(phone));
            claims.insert("phone_number_verified".into(), json!(false));
        }
    }
    claims
}

/// Every claim name this provider can release, for discovery.
pub const SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "at_hash",
    "given_name",
    "family_name",
    "name",
    "educonnect_profile",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
];
