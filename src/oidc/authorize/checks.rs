//! One check per function, in the order the pipeline in `mod.rs` runs them. Before the redirect
//! URI is trusted a failure is an error page; after, it is an error response to the RP.

use std::collections::HashMap;

use super::request::{Prompt, ResponseMode};
use crate::clients::{Client, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::scope::Scopes;

/// The request's parameters, each at most once.
pub struct Params(HashMap<String, String>);

/// A failure that must not redirect: shown to the person (French).
#[derive(Debug, PartialEq, Eq)]
pub struct PageError(pub String);

impl Params {
    /// RFC 6749 §3.1: parameters must not appear more than once. Empty values count as absent
    /// (OpenID Connect Core §3.1.2.1 / RFC 6749 §3.1). Returns the names that repeat.
    pub fn new(pairs: Vec<(String, String)>) -> (Params, Vec<String>) {
        let mut map = HashMap::new();
        let mut repeated = Vec::new();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            if map.insert(name.clone(), value).is_some() && !repeated.contains(&name) {
                repeated.push(name);
            }
        }
        (Params(map), repeated)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

pub fn check_no_repeated_identity(
    repeated: &[String],
    malformed: &[String],
) -> Result<(), PageError> {
    let identity = |n: &String| n == "client_id" || n == "redirect_uri";
    if malformed.iter().any(identity) {
        return Err(PageError(
            "La requête contient un client_id ou un redirect_uri illisible.".into(),
        ));
    }
    if repeated.iter().any(identity) {
        return Err(PageError(
            "La requête contient plusieurs fois client_id ou redirect_uri.".into(),
        ));
    }
    Ok(())
}

pub fn check_client_id(params: &Params) -> Result<&str, PageError> {
    params
        .get("client_id")
        .ok_or_else(|| PageError("La requête ne précise pas d'application (client_id).".into()))
}

pub fn check_client_known(client: Option<Client>) -> Result<Client, PageError> {
    client.ok_or_else(|| {
        PageError("Cette application n'est pas enregistrée auprès d'EduConnect.".into())
    })
}

/// RFC 9700 §2.1: exact match against a registered URI, else no redirect at all. The string is
/// kept as registered (review #13.8).
pub fn check_redirect_uri(params: &Params, client: &Client) -> Result<String, PageError> {
    let refused =
        || PageError("L'adresse de retour de l'application n'est pas enregistrée.".into());
    let uri = params.get("redirect_uri").ok_or_else(refused)?;
    if !client.has_redirect_uri(uri) {
        return Err(refused());
    }
    Ok(uri.to_owned())
}

pub fn check_response_mode(params: &Params) -> Result<ResponseMode, OAuthError> {
    match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "response_mode {other} is not supported"
        ))),
    }
}

/// The longest value kept of each parameter the transaction parks (review #13.5: 20 KB values
/// made 3,000 parked requests take 180 MB). Generous for what each carries: `state` often holds
/// an RP's own encoded context.
pub const MAX_LENGTHS: &[(&str, usize)] = &[
    ("state", 2048),
    ("nonce", 512),
    ("login_hint", 256),
    ("ui_locales", 128),
    ("acr_values", 256),
    ("scope", 1024),
    ("prompt", 64),
    ("max_age", 16),
    ("id_token_hint", 16 * 1024),
];

/// The bound of `name`, if it has one.
pub fn max_length(name: &str) -> Option<usize> {
    MAX_LENGTHS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, max)| *max)
}

/// Review #13.5: no parameter longer than its bound is parked.
pub fn check_lengths(params: &Params) -> Result<(), OAuthError> {
    for (name, max) in MAX_LENGTHS {
        if params.get(name).is_some_and(|v| v.len() > *max) {
            return Err(OAuthError::invalid_request(format!(
                "{name} is longer than {max} bytes"
            )));
        }
    }
    Ok(())
}

/// RFC 6749 Appendix B: parameter values are UTF-8; one that is not cannot be echoed untouched.
pub fn check_utf8(malformed: &[String]) -> Result<(), OAuthError> {
    match malformed.first() {
        Some(name) => Err(OAuthError::invalid_request(format!(
            "parameter {name} is not valid UTF-8"
        ))),
        None => Ok(()),
    }
}

pub fn check_no_repeated_parameters(repeated: &[String]) -> Result<(), OAuthError> {
    match repeated.first() {
        Some(name) => Err(OAuthError::invalid_request(format!(
            "parameter {name} appears more than once"
        ))),
        None => Ok(()),
    }
}

/// OpenID Connect Core §6: request objects are not supported.
pub fn check_no_request_object(params: &Params) -> Result<(), OAuthError> {
    if params.get("request").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    Ok(())
}

/// Authorization code flow only (DESIGN.md).
pub fn check_response_type(params: &Params) -> Result<(), OAuthError> {
    match params.get("response_type") {
        Some("code") => Ok(()),
        None => Err(OAuthError::invalid_request("response_type is required")),
        Some(_) => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        )),
    }
}

pub fn check_client_may_use_code(client: &Client) -> Result<(), OAuthError> {
    if client.allows(GrantType::AuthorizationCode) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client is not registered for the code flow",
        ))
    }
}

/// OpenID Connect Core §3.1.2.1: `openid` is required; other scopes are kept if registered.
pub fn check_scope(params: &Params, client: &Client) -> Result<Scopes, OAuthError> {
    let requested = Scopes::parse(params.get("scope").unwrap_or_default());
    if !requested.contains("openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        ));
    }
    let mut allowed = client.scopes.clone();
    allowed.push("openid".into());
    Ok(requested.restricted_to(&allowed))
}

/// RFC 7636 §4.3 with DESIGN.md's rule: S256 is required for every client.
pub fn check_pkce(params: &Params) -> Result<String, OAuthError> {
    let challenge = params
        .get("code_challenge")
        .ok_or_else(|| OAuthError::invalid_request("code_challenge is required (PKCE S256)"))?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    // base64url of a SHA-256: 43 characters of the URL-safe alphabet.
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(OAuthError::invalid_request(
            "code_challenge is not a base64url SHA-256",
        ));
    }
    Ok(challenge.to_owned())
}

/// OpenID Connect Core §3.1.2.1: `none` cannot be combined with another value.
pub fn check_prompt(params: &Params) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    for value in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "unknown prompt value {other}"
                )))
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

pub fn check_max_age(params: &Params) -> Result<Option<i64>, OAuthError> {
    params
        .get("max_age")
        .map(|v| v.parse::<i64>().ok().filter(|n| *n >= 0))
        .map(|v| {
            v.ok_or_else(|| OAuthError::invalid_request("max_age must be a non-negative integer"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .0
    }

    #[test]
    fn repeated_parameters_are_reported() {
        let (_, repeated) = Params::new(vec![
            ("state".into(), "a".into()),
            ("state".into(), "b".into()),
        ]);
        assert_eq!(repeated, vec!["state".to_owned()]);
        assert!(check_no_repeated_parameters(&repeated).is_err());
    }

    #[test]
    fn pkce_plain_or_missing_is_refused() {
        let verifier_hash = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_pkce(&params(&[("code_challenge", verifier_hash)])).is_err());
        assert!(check_pkce(&params(&[
            ("code_challenge", verifier_hash),
            ("code_challenge_method", "plain")
        ]))
        .is_err());
        assert!(check_pkce(&params(&[
            ("code_challenge", verifier_hash),
            ("code_challenge_method", "S256")
        ]))
        .is_ok());
    }

    #[test]
    fn prompt_none_alone_only() {
        assert!(check_prompt(&params(&[("prompt", "none login")])).is_err());
        assert!(
            check_prompt(&params(&[("prompt", "login consent")]))
                .unwrap()
                .consent
        );
    }

    #[test]
    fn max_age_must_be_a_non_negative_integer() {
        assert_eq!(
            check_max_age(&params(&[("max_age", "0")])).unwrap(),
            Some(0)
        );
        assert!(check_max_age(&params(&[("max_age", "-1")])).is_err());
        assert!(check_max_age(&params(&[("max_age", "abc")])).is_err());
    }
}
