//! A faithful fake FranceConnect v2, for the demo and the tests — never for production
//! (`educonnect fake-franceconnect` refuses a PostgreSQL `database_url`). A real HTTP server
//! (axum) speaking what a service provider sees of FranceConnect v2 (its partners'
//! documentation, « Endpoints disponibles »):
//!
//! - `/api/v2/.well-known/openid-configuration`, `/api/v2/jwks` (one ES256 key, made at start);
//! - `/api/v2/authorize`: one registered client; `redirect_uri` equal to a registered one
//!   (else an error page, never a redirect); `response_type=code`; `scope` with `openid`;
//!   `state` and `nonce` of at least 32 characters; `acr_values=eidas1`. Then a small French
//!   page to choose a test identity (`identities.rs`), to cancel (`error=access_denied`), or to
//!   simulate a FranceConnect failure (`error=server_error`);
//! - `/api/v2/token`: `client_id` and `client_secret` in the form body only (`client_secret_post`;
//!   an `Authorization` header is `invalid_client`), single-use codes of 30 s bound to their
//!   `redirect_uri`; an ES256 ID token (`iss`, pairwise `sub`, `aud`, `exp`, `iat`, `nonce`,
//!   `acr=eidas1`, `amr`, `auth_time`);
//! - `/api/v2/userinfo`: the claims of the granted scopes as an ES256-signed JWT
//!   (`application/jwt`) with `iss` and `aud`;
//! - `/api/v2/session/end`: `id_token_hint` signed by the fake, `state`, and a
//!   `post_logout_redirect_uri` equal to a registered one.
//!
//! Failures are injected per endpoint (`fail_next`: HTTP 500) and answers can be slowed
//! (`set_delay`), to test an upstream that is down or slow.

mod authorize;
mod endpoints;
pub mod identities;
mod page;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;

use crate::tokens::keys::{LoadedKey, SigningAlg};

pub use identities::{TestIdentity, IDENTITIES};

/// The client the fake knows (FranceConnect registers one per service provider).
#[derive(Clone, Debug)]
pub struct FakeSettings {
    pub client_id: String,
    pub client_secret: crate::config::Redacted,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
}

/// Where a failure can be injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Token,
    UserInfo,
}

/// A session ended at `/api/v2/session/end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedSession {
    pub subject: String,
    pub state: String,
}

/// A running fake; it stops when dropped.
pub struct FakeFranceConnect {
    /// `http://127.0.0.1:<port>/api/v2`: the `franceconnect.issuer` to configure.
    pub issuer: String,
    shared: Arc<Shared>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

struct Shared {
    issuer: String,
    settings: std::sync::RwLock<FakeSettings>,
    /// The signing key; `rotate_key` replaces it (the previous one leaves the JWKS).
    key: std::sync::RwLock<Arc<LoadedKey>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Authorization requests waiting for the person's choice, by interaction id.
    interactions: HashMap<String, authorize::Interaction>,
    /// Issued codes by value.
    codes: HashMap<String, endpoints::Issued>,
    /// Access tokens by value: who and which scopes.
    tokens: HashMap<String, endpoints::Granted>,
    failures: HashMap<Endpoint, usize>,
    delay: Duration,
    /// How long before the choice the person is said to have logged in (`auth_time`).
    auth_age: Duration,
    ended: Vec<EndedSession>,
}

impl Shared {
    fn key(&self) -> Arc<LoadedKey> {
        self.key
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn settings(&self) -> FakeSettings {
        self.settings
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether this call to `endpoint` is one to fail (and counts it).
    fn failing(&self, endpoint: Endpoint) -> bool {
        let mut state = self.state();
        match state.failures.get_mut(&endpoint) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        }
    }

    fn delay(&self) -> Duration {
        self.state().delay
    }
}

impl FakeFranceConnect {
    /// Starts the fake on `listener` (port 0 for tests); its issuer is the listener's address
    /// followed by `/api/v2`.
    pub async fn start(
        listener: tokio::net::TcpListener,
        settings: FakeSettings,
    ) -> anyhow::Result<FakeFranceConnect> {
        let address = listener.local_addr()?;
        let issuer = format!("http://{address}/api/v2");
        let key =
            tokio::task::spawn_blocking(|| LoadedKey::generate_unpublished(SigningAlg::ES256))
                .await??;
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            settings: std::sync::RwLock::new(settings),
            key: std::sync::RwLock::new(Arc::new(key)),
            state: Mutex::new(State::default()),
        });
        let router = router(shared.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the fake FranceConnect stopped");
            }
        });
        Ok(FakeFranceConnect {
            issuer,
            shared,
            _shutdown: shutdown,
        })
    }

    /// Points a `[franceconnect]` section at this fake.
    pub fn configure(&self, config: &mut crate::config::FranceConnectConfig) {
        let settings = self.shared.settings();
        config.enabled = true;
        config.issuer = self.issuer.clone();
        config.client_id = settings.client_id;
        config.client_secret = Some(settings.client_secret);
    }

    /// Registers the client anew (a test learns its provider's address after starting the
    /// fake).
    pub fn register(&self, settings: FakeSettings) {
        *self
            .shared
            .settings
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = settings;
    }

    /// The next `count` calls to `endpoint` answer HTTP 500.
    pub fn fail_next(&self, endpoint: Endpoint, count: usize) {
        *self.shared.state().failures.entry(endpoint).or_default() += count;
    }

    /// Every answer waits this long first (an upstream that is slow).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.state().delay = delay;
    }

    /// The upstream logins happen this long before the identity is chosen (their `auth_time`
    /// is in the past: an SSO session of FranceConnect reused).
    pub fn set_auth_age(&self, age: Duration) {
        self.shared.state().auth_age = age;
    }

    /// Signs with a new key from now on, the only one published (a rotation upstream).
    pub async fn rotate_key(&self) -> anyhow::Result<()> {
        let key =
            tokio::task::spawn_blocking(|| LoadedKey::generate_unpublished(SigningAlg::ES256))
                .await??;
        *self
            .shared
            .key
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// The sessions ended through `/api/v2/session/end`, in order.
    pub fn ended_sessions(&self) -> Vec<EndedSession> {
        self.shared.state().ended.clone()
    }

    /// The `sub` the fake gives `identity` for its client.
    pub fn subject_of(&self, identity: &TestIdentity) -> String {
        identity.subject(&self.shared.settings().client_id)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/api/v2/.well-known/openid-configuration",
            get(endpoints::discovery),
        )
        .route("/api/v2/jwks", get(endpoints::jwks))
        .route("/api/v2/authorize", get(authorize::authorize))
        .route("/api/v2/interaction/{id}/{choice}", get(authorize::choose))
        .route("/api/v2/token", axum::routing::post(endpoints::token))
        .route("/api/v2/userinfo", get(endpoints::userinfo))
        .route("/api/v2/session/end", get(endpoints::session_end))
        .with_state(shared)
}

/// The fake vouches for anyone who clicks: it must never stand in front of real accounts. A
/// configuration whose `database_url` is PostgreSQL is a production one.
pub fn refuse_production(config: &crate::config::Config) -> anyhow::Result<()> {
    if !config.database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "the fake FranceConnect logs anyone in as anyone: it refuses to run with a \
             PostgreSQL database_url (a production configuration)"
        );
    }
    Ok(())
}

/// The client id and secret the fake registers when none is configured (demo values).
pub const DEMO_CLIENT_ID: &str = "educonnect-demo";
pub const DEMO_CLIENT_SECRET: &str = "fake-franceconnect-demo-secret";

impl FakeSettings {
    /// The client a provider configured by `config` is: its `[franceconnect]` client (or the
    /// demo one), its callback and its post-logout page.
    pub fn for_provider(config: &crate::config::Config) -> FakeSettings {
        let fc = &config.franceconnect;
        let client_id = if fc.client_id.is_empty() {
            DEMO_CLIENT_ID.to_owned()
        } else {
            fc.client_id.clone()
        };
        let client_secret = fc
            .client_secret
            .clone()
            .unwrap_or_else(|| crate::config::Redacted(DEMO_CLIENT_SECRET.into()));
        FakeSettings {
            client_id,
            client_secret,
            redirect_uris: vec![config.endpoint(crate::federation::CALLBACK_PATH)],
            post_logout_redirect_uris: vec![config.endpoint(&fc.post_logout_redirect)],
        }
    }
}
