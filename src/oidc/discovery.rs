//! OpenID Connect Discovery 1.0 §3: the provider's metadata, saying only what is true.

use serde_json::{json, Value};

use crate::clients::AuthMethod;
use crate::config::Config;
use crate::oidc::{claims, scope};
use crate::tokens::SigningAlg;

pub fn metadata(config: &Config) -> Value {
    let e = |path: &str| config.endpoint(path);
    let auth_methods: Vec<&str> = AuthMethod::ALL.iter().map(|m| m.as_str()).collect();
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": config.issuer,
        "authorization_endpoint": e("/authorize"),
        "token_endpoint": e("/token"),
        "userinfo_endpoint": e("/userinfo"),
        "jwks_uri": e("/jwks"),
        "introspection_endpoint": e("/introspect"),
        "revocation_endpoint": e("/revoke"),
        "end_session_endpoint": e("/logout"),
        "scopes_supported": scope::SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": crate::oidc::client_auth::ASSERTION_ALGORITHMS.map(|a| format!("{a:?}")),
        "introspection_endpoint_auth_methods_supported": auth_methods[..3],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims::SUPPORTED,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "acr_values_supported": crate::oidc::login::ACR_VALUES,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ["fr"],
        "claims_locales_supported": ["fr"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
    })
}
