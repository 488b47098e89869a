//! The registry of relying parties: what each registered, and the rules a registration must
//! follow. Records only (the store keeps them, `cache.rs` keeps them in memory per replica).

mod cache;

pub use cache::ClientCache;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::secrets::Secret;
use crate::tokens::SigningAlg;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn parse(value: &str) -> Option<GrantType> {
        match value {
            "authorization_code" => Some(GrantType::AuthorizationCode),
            "refresh_token" => Some(GrantType::RefreshToken),
            "client_credentials" => Some(GrantType::ClientCredentials),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

/// `token_endpoint_auth_method` (OpenID Connect Core §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::None,
    ];

    pub fn parse(value: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }
}

/// A registered relying party. `secret_digest` is the SHA-256 of the secret; the secret itself is
/// shown once at registration and never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    #[serde(skip)]
    pub secret_digest: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    /// Scopes the client may receive; others are dropped from its requests.
    pub scopes: Vec<String>,
    pub auth_method: AuthMethod,
    pub id_token_alg: SigningAlg,
    /// Public keys for `private_key_jwt` (a JWKS document).
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// Ask the person's consent before the first code (first-party school services do not).
    #[serde(default)]
    pub require_consent: bool,
    /// A resource server (a school service ENTs send their access tokens to): may introspect
    /// access tokens issued to other clients. Others introspect only their own tokens.
    #[serde(default)]
    pub resource_server: bool,
    #[serde(skip)]
    pub created_at: i64,
}

/// What `clients add` asks for.
#[derive(Clone, Debug)]
pub struct Registration {
    pub id: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub auth_method: AuthMethod,
    pub id_token_alg: SigningAlg,
    pub jwks: Option<serde_json::Value>,
    pub require_consent: bool,
    pub resource_server: bool,
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct RegistrationError(pub String);

impl Client {
    /// Validates a registration and returns the client with, for secret-based methods, the
    /// secret to hand over once.
    pub fn register(
        reg: Registration,
        now_ms: i64,
    ) -> Result<(Client, Option<Secret>), RegistrationError> {
        let err = |m: String| Err(RegistrationError(m));
        if reg.name.trim().is_empty() {
            return err("the client needs a name".into());
        }
        let needs_redirect = reg.grant_types.contains(&GrantType::AuthorizationCode);
        if needs_redirect && reg.redirect_uris.is_empty() {
            return err("an authorization_code client needs at least one redirect URI".into());
        }
        for uri in reg
            .redirect_uris
            .iter()
            .chain(&reg.post_logout_redirect_uris)
        {
            check_redirect_uri(uri).map_err(RegistrationError)?;
        }
        if let Some(uri) = &reg.backchannel_logout_uri {
            check_redirect_uri(uri).map_err(RegistrationError)?;
        }
        if reg.auth_method == AuthMethod::None
            && reg.grant_types.contains(&GrantType::ClientCredentials)
        {
            return err("a public client (auth method none) cannot use client_credentials".into());
        }
        if reg.auth_method == AuthMethod::PrivateKeyJwt && reg.jwks.is_none() {
            return err("private_key_jwt needs the client's public keys (--jwks)".into());
        }
        if reg.grant_types.is_empty() {
            return err("the client needs at least one grant type".into());
        }
        let secret = reg.auth_method.uses_secret().then(Secret::generate);
        let id = match reg.id {
            Some(id)
                if !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
            {
                id
            }
            Some(id) => {
                return err(format!(
                    "client id {id:?} must be ASCII letters, digits, - _ ."
                ))
            }
            None => crate::secrets::random_b64(16),
        };
        let client = Client {
            id,
            secret_digest: secret.as_ref().map(Secret::digest),
            name: reg.name.trim().to_owned(),
            redirect_uris: reg.redirect_uris,
            post_logout_redirect_uris: reg.post_logout_redirect_uris,
            backchannel_logout_uri: reg.backchannel_logout_uri,
            grant_types: reg.grant_types,
            scopes: reg.scopes,
            auth_method: reg.auth_method,
            id_token_alg: reg.id_token_alg,
            jwks: reg.jwks,
            require_consent: reg.require_consent,
            resource_server: reg.resource_server,
            created_at: now_ms,
        };
        Ok((client, secret))
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// RFC 9700 §2.1 / §4.1.3: redirect URIs match exactly, character for character.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }
}

/// A registered URI must be absolute, without fragment (RFC 6749 §3.1.2), and https unless it
/// points at this machine.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("{uri}: not an absolute URI ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri}: a redirect URI must not have a fragment"));
    }
    // Review #13.13: matching is exact, so a wildcard would only ever match itself, and a
    // userinfo part (`user:pw@host`) is a phishing device (RFC 9700 §4.1.1, RFC 3986 §7.6).
    if uri.contains('*') {
        return Err(format!("{uri}: a redirect URI cannot hold a wildcard (*)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{uri}: a redirect URI cannot hold a user name or password"
        ));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{uri}: a redirect URI cannot hold spaces or control characters"
        ));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        scheme => Err(format!(
            "{uri}: scheme {scheme} is not allowed (https, or http on loopback)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            id: Some("ent".into()),
            name: "ENT".into(),
            redirect_uris: vec!["https://ent.example/cb".into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: vec!["openid".into()],
            auth_method: AuthMethod::ClientSecretBasic,
            id_token_alg: SigningAlg::RS256,
            jwks: None,
            require_consent: false,
            resource_server: false,
        }
    }

    #[test]
    fn secret_is_returned_once_and_only_its_digest_kept() {
        let (client, secret) = Client::register(registration(), 0).unwrap();
        let secret = secret.unwrap();
        assert_eq!(
            client.secret_digest.as_deref(),
            Some(secret.digest().as_str())
        );
        assert!(!serde_json::to_string(&client)
            .unwrap()
            .contains(secret.expose()));
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let (client, _) = Client::register(registration(), 0).unwrap();
        assert!(client.has_redirect_uri("https://ent.example/cb"));
        assert!(!client.has_redirect_uri("https://ent.example/cb/"));
        assert!(!client.has_redirect_uri("https://ent.example/cb?x=1"));
        assert!(!client.has_redirect_uri("HTTPS://ent.example/cb"));
    }

    #[test]
    fn plain_http_and_fragments_are_refused() {
        let mut reg = registration();
        reg.redirect_uris = vec!["http://ent.example/cb".into()];
        assert!(Client::register(reg, 0).is_err());
        let mut reg = registration();
        reg.redirect_uris = vec!["https://ent.example/cb#x".into()];
        assert!(Client::register(reg, 0).is_err());
    }

    #[test]
    fn wildcards_userinfo_and_spaces_are_refused() {
        for uri in [
            "https://*.ent.example/cb",
            "https://ent.example/*",
            "https://user:pw@ent.example/cb",
            "https://user@ent.example/cb",
            "https://ent.example/c b",
            "https://ent.example/cb#",
        ] {
            let mut reg = registration();
            reg.redirect_uris = vec![uri.into()];
            assert!(Client::register(reg, 0).is_err(), "{uri}");
            let mut reg = registration();
            reg.post_logout_redirect_uris = vec![uri.into()];
            assert!(Client::register(reg, 0).is_err(), "{uri}");
        }
        let mut reg = registration();
        reg.redirect_uris = vec![
            "http://127.0.0.1:9999".into(),
            "https://écoles.example/cb".into(),
        ];
        assert!(Client::register(reg, 0).is_ok());
    }
}
