//! The upstream provider as this replica knows it: its configuration, an HTTP client bounded by
//! `franceconnect.timeout_seconds` that follows no redirect, and its discovery document with its
//! keys, fetched on first use and reused for `franceconnect.metadata_seconds`. A token signed by
//! a key the cached set lacks fetches them again at once (FranceConnect: "en cas d'échec,
//! re-tester au lieu d'envoyer une erreur"), at most every 10 s so that made-up `kid`s cannot
//! make us hammer the upstream; a failed fetch is not tried again for 10 s either (an outage is
//! answered at once instead of queueing timeouts), and a stale copy serves meanwhile. Held by
//! `App`; nothing global. The cache is per replica and only mirrors what the upstream
//! publishes, so replicas cannot disagree for long.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use openidconnect::core::{CoreClient, CoreJsonWebKeySet};
use openidconnect::{
    AuthType, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    ProviderMetadataWithLogout, RedirectUrl,
};

use super::error::FederationError;
use crate::clock::Clock;
use crate::config::FranceConnectConfig;

/// The path of our callback under our issuer: the redirect URI registered upstream.
pub const CALLBACK_PATH: &str = "/franceconnect/retour";

/// A fresh fetch after an unknown key waits at least this long after the previous one; a
/// failed fetch is tried again no sooner than this.
const RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// The client `openidconnect` builds from the discovery document.
pub(super) type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub type Metadata = ProviderMetadataWithLogout;

pub struct Upstream {
    pub(super) issuer: IssuerUrl,
    pub(super) client_id: ClientId,
    client_secret: ClientSecret,
    pub(super) redirect_uri: RedirectUrl,
    /// Our post-logout landing page, as registered upstream.
    pub post_logout_redirect_uri: String,
    pub(super) scopes: Vec<String>,
    pub(super) acr_values: Vec<String>,
    metadata_ttl: Duration,
    pub(super) http: reqwest::Client,
    clock: Arc<dyn Clock>,
    cache: tokio::sync::Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    /// The document and when it was fetched (the injected clock, milliseconds).
    metadata: Option<(i64, Arc<Metadata>)>,
    /// When the last fetch failed: the next is tried no sooner than `RETRY_INTERVAL` after, so
    /// that logins during an outage do not queue one timeout after another.
    failed_at: Option<i64>,
}

impl Upstream {
    /// The upstream of a validated `[franceconnect]` section, for the provider at `our_issuer`.
    pub fn new(
        config: &FranceConnectConfig,
        our_issuer: &str,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Upstream> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds))
            .connect_timeout(Duration::from_secs(config.timeout_seconds))
            // OAuth 2.0 Security BCP: a back-channel call never follows a redirect.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("FranceConnect HTTP client")?;
        let secret = config
            .client_secret
            .as_ref()
            .context("franceconnect.client_secret")?;
        Ok(Upstream {
            issuer: IssuerUrl::new(config.issuer.clone()).context("franceconnect.issuer")?,
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: ClientSecret::new(secret.expose().to_owned()),
            redirect_uri: RedirectUrl::new(format!("{our_issuer}{CALLBACK_PATH}"))
                .context("redirect URI")?,
            post_logout_redirect_uri: format!("{our_issuer}{}", config.post_logout_redirect),
            scopes: config.scopes().map(str::to_owned).collect(),
            acr_values: config
                .acr_values
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect(),
            metadata_ttl: Duration::from_secs(config.metadata_seconds),
            http,
            clock,
            cache: tokio::sync::Mutex::new(Cache::default()),
        })
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The discovery document (with the keys), from the cache while it is fresh. Past
    /// `metadata_seconds` it is fetched again; if that fails, the stale copy serves (the
    /// upstream's keys rarely change) and the next fetch waits `RETRY_INTERVAL`.
    pub async fn metadata(&self) -> Result<Arc<Metadata>, FederationError> {
        let mut cache = self.cache.lock().await;
        if let Some((fetched, metadata)) = &cache.metadata {
            if self.since(*fetched) < self.metadata_ttl {
                return Ok(metadata.clone());
            }
        }
        self.fetch(&mut cache).await
    }

    /// Fetched again because a token named a key the cached set lacks; `None` when the
    /// cached copy is younger than 10 s (then the key really is unknown).
    pub async fn refreshed_metadata(&self) -> Result<Option<Arc<Metadata>>, FederationError> {
        let mut cache = self.cache.lock().await;
        if let Some((fetched, _)) = &cache.metadata {
            if self.since(*fetched) < RETRY_INTERVAL {
                return Ok(None);
            }
        }
        self.fetch(&mut cache).await.map(Some)
    }

    async fn fetch(&self, cache: &mut Cache) -> Result<Arc<Metadata>, FederationError> {
        let stale = cache
            .metadata
            .as_ref()
            .map(|(_, metadata)| metadata.clone());
        if cache
            .failed_at
            .is_some_and(|failed| self.since(failed) < RETRY_INTERVAL)
        {
            return stale.ok_or_else(|| {
                FederationError::Unavailable("discovery failed moments ago".into())
            });
        }
        match self.discover().await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                cache.metadata = Some((self.clock.now_ms(), metadata.clone()));
                cache.failed_at = None;
                Ok(metadata)
            }
            Err(error) => {
                cache.failed_at = Some(self.clock.now_ms());
                match stale {
                    Some(stale) => {
                        tracing::warn!(%error, "upstream discovery failed: its last document serves");
                        Ok(stale)
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// How long ago `at_ms` was, by the injected clock.
    fn since(&self, at_ms: i64) -> Duration {
        Duration::from_millis(u64::try_from(self.clock.now_ms() - at_ms).unwrap_or(0))
    }

    async fn discover(&self) -> Result<Metadata, FederationError> {
        // OpenID Connect Discovery §4.3: the document's issuer must be the one configured
        // (checked by openidconnect); its JWKS is fetched with it.
        let metadata = Metadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| FederationError::Unavailable(format!("discovery: {}", chain(&e))))?;
        tracing::info!(issuer = %self.issuer.as_str(), keys = metadata.jwks().keys().len(), "upstream provider discovered");
        Ok(metadata)
    }

    /// The OpenID client for `metadata`: our redirect URI, and the client secret in the token
    /// request's form body (FranceConnect's `client_secret_post`, not HTTP Basic).
    pub(super) fn client(&self, metadata: &Metadata) -> Client {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_uri.clone())
        .set_auth_type(AuthType::RequestBody)
    }

    pub(super) fn keys(metadata: &Metadata) -> &CoreJsonWebKeySet {
        metadata.jwks()
    }
}

/// An error and its causes on one line (reqwest hides the timeout in a source).
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
