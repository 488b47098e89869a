//! `[franceconnect]`: the upstream OpenID provider guardians may log in through (the provider
//! is then its client, `crate::federation`). Off by default; nothing here is specific to
//! FranceConnect beyond its documented deviations, so any standard OpenID provider fits.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{ConfigError, Redacted};

/// The scopes asked by default: `openid` and FranceConnect v2's *identité pivot* claims, the
/// e-mail and the usage name (`preferred_username`, a scope of its own in v2).
pub const DEFAULT_SCOPES: &str =
    "openid given_name family_name birthdate gender birthplace birthcountry email preferred_username";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FranceConnectConfig {
    /// Offer the FranceConnect login.
    pub enabled: bool,
    /// The upstream issuer; its discovery document is `<issuer>/.well-known/openid-configuration`
    /// (FranceConnect v2: `https://oidc.franceconnect.gouv.fr/api/v2`).
    pub issuer: String,
    /// The client id FranceConnect registered for this provider.
    pub client_id: String,
    /// Its secret, sent in the token request's form body (FranceConnect's
    /// `client_secret_post`); never logged.
    pub client_secret: Option<Redacted>,
    /// Space-separated scopes asked for (must contain `openid`).
    pub scopes: String,
    /// The `acr_values` asked for, and the least the ID token's `acr` may be.
    pub acr_values: String,
    /// Path under our issuer that FranceConnect sends the browser back to after its logout (the
    /// registered `post_logout_redirect_uri`).
    pub post_logout_redirect: String,
    /// Every call to the upstream (discovery, keys, token, userinfo) gives up after this many
    /// seconds: a slow upstream is an unavailable one.
    pub timeout_seconds: u64,
    /// How long the upstream's discovery document and keys are reused before being fetched
    /// again (a token signed by an unknown key fetches them at once, at most every 10 s).
    pub metadata_seconds: u64,
}

impl Default for FranceConnectConfig {
    fn default() -> Self {
        FranceConnectConfig {
            enabled: false,
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            scopes: DEFAULT_SCOPES.into(),
            acr_values: "eidas1".into(),
            post_logout_redirect: "/franceconnect/deconnexion".into(),
            timeout_seconds: 5,
            metadata_seconds: 3600,
        }
    }
}

impl FranceConnectConfig {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.split_ascii_whitespace()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        let issuer = Url::parse(&self.issuer)
            .map_err(|e| ConfigError(format!("franceconnect.issuer: {e}")))?;
        let loopback = matches!(issuer.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if !(issuer.scheme() == "https" || issuer.scheme() == "http" && loopback)
            || issuer.query().is_some()
            || issuer.fragment().is_some()
        {
            return Err(ConfigError(
                "franceconnect.issuer must be an https URL without query or fragment (http only \
                 on a loopback address)"
                    .into(),
            ));
        }
        if self.client_id.is_empty()
            || self
                .client_secret
                .as_ref()
                .is_none_or(|s| s.expose().is_empty())
        {
            return Err(ConfigError(
                "franceconnect.client_id and franceconnect.client_secret are required when \
                 franceconnect.enabled"
                    .into(),
            ));
        }
        if !self.scopes().any(|s| s == "openid") {
            return Err(ConfigError(
                "franceconnect.scopes must contain openid".into(),
            ));
        }
        if self.acr_values.split_ascii_whitespace().next().is_none() {
            return Err(ConfigError(
                "franceconnect.acr_values must not be empty".into(),
            ));
        }
        if !self.post_logout_redirect.starts_with('/')
            || self.post_logout_redirect.starts_with("//")
        {
            return Err(ConfigError(
                "franceconnect.post_logout_redirect must be a path under the issuer (/...)".into(),
            ));
        }
        if !(1..=60).contains(&self.timeout_seconds) || self.metadata_seconds == 0 {
            return Err(ConfigError(
                "franceconnect: timeout_seconds must be 1 to 60, metadata_seconds at least 1"
                    .into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> FranceConnectConfig {
        FranceConnectConfig {
            enabled: true,
            issuer: "https://oidc.franceconnect.example/api/v2".into(),
            client_id: "educonnect".into(),
            client_secret: Some(Redacted("very-secret-client-secret".into())),
            ..FranceConnectConfig::default()
        }
    }

    #[test]
    fn off_by_default_and_valid_when_off() {
        let config = FranceConnectConfig::default();
        assert!(!config.enabled);
        config.validate().unwrap();
    }

    #[test]
    fn enabled_needs_an_issuer_a_client_and_openid() {
        enabled().validate().unwrap();
        let mut config = enabled();
        config.client_secret = None;
        assert!(config.validate().unwrap_err().0.contains("client_secret"));
        let mut config = enabled();
        config.issuer = "http://fc.example/api/v2".into();
        assert!(config.validate().unwrap_err().0.contains("https"));
        let mut config = enabled();
        config.issuer = "http://127.0.0.1:9090/api/v2".into();
        config.validate().unwrap();
        let mut config = enabled();
        config.scopes = "given_name family_name".into();
        assert!(config.validate().unwrap_err().0.contains("openid"));
        let mut config = enabled();
        config.post_logout_redirect = "https://elsewhere.example/".into();
        assert!(config
            .validate()
            .unwrap_err()
            .0
            .contains("post_logout_redirect"));
    }

    #[test]
    fn the_client_secret_is_redacted_in_debug() {
        let shown = format!("{:?}", enabled());
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
