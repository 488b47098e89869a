//! The application state: configuration, stores, key ring, clock, password hasher. Built once
//! per replica (and once per test), passed to every handler; nothing global.

use std::sync::Arc;

use anyhow::Context;

use crate::accounts::password::PasswordHasher;
use crate::clock::Clock;
use crate::config::{Config, Redacted};
use crate::federation::Upstream;
use crate::outbox::sms_http::HttpSmsGateway;
use crate::outbox::smtp::SmtpMailer;
use crate::outbox::worker::Worker;
use crate::outbox::{Mailer, SmsGateway};
use crate::store::ephemeral::{MemoryStore, RedisStore};
use crate::store::sql::SqlStore;
use crate::store::{DurableStore, EphemeralStore};
use crate::tokens::kek::Kek;
use crate::tokens::KeyRing;

pub struct App {
    pub config: Config,
    pub durable: Arc<dyn DurableStore>,
    pub ephemeral: Arc<dyn EphemeralStore>,
    pub keys: KeyRing,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
    /// Outgoing calls: back-channel logout, client `jwks_uri`s.
    pub http: reqwest::Client,
    pub clients: crate::clients::ClientCache,
    /// The Siècle uploads under way, bounded in number and time.
    pub uploads: crate::provisioning::Uploads,
    /// Where the outbox worker sends e-mail; `None` without `smtp.url` (messages stay queued).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Where the outbox worker sends SMS; `None` without `sms.url` (SMS stay queued).
    pub sms: Option<Arc<dyn SmsGateway>>,
    /// The upstream provider guardians may log in through; `None` unless
    /// `franceconnect.enabled`.
    pub franceconnect: Option<Arc<Upstream>>,
}

pub type AppState = Arc<App>;

impl App {
    /// Connects the stores, runs the migrations, loads (or creates) the signing keys.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
        let timeout = std::time::Duration::from_secs(config.store_timeout_seconds);
        let durable: Arc<dyn DurableStore> = Arc::new(
            SqlStore::connect_with_timeout(
                &config.database_url,
                config.database_max_connections,
                timeout,
            )
            .await?,
        );
        durable.migrate().await?;
        let ephemeral: Arc<dyn EphemeralStore> = if config.redis_url.is_empty() {
            Arc::new(MemoryStore::new())
        } else {
            Arc::new(
                RedisStore::connect_with_timeout(&config.redis_url, &config.redis_prefix, timeout)
                    .await?,
            )
        };
        let kek = Kek::load_or_create(
            config.key_encryption_key.as_ref().map(Redacted::expose),
            &config.keys_dir,
        )?;
        let keys = KeyRing::load(durable.clone(), kek, clock.clone()).await?;
        let created = keys.ensure_signing_keys().await?;
        for kid in created {
            tracing::info!(%kid, "generated a signing key");
        }
        let passwords = PasswordHasher::new(&config.password)?;
        // Computes the hash unknown logins are checked against now, not at the first one.
        passwords
            .verify(&crate::secrets::Secret::generate(), None)
            .await?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("HTTP client")?;
        let clients = crate::clients::ClientCache::new(std::time::Duration::from_secs(
            config.client_cache_seconds,
        ));
        let uploads = crate::provisioning::Uploads::new(
            config.admin.max_concurrent_imports,
            std::time::Duration::from_secs_f64(config.admin.import_deadline_seconds),
            crate::siecle::Limits::default(),
        );
        let mailer: Option<Arc<dyn Mailer>> = if config.smtp.is_configured() {
            let issuer = config.issuer_url()?;
            let hello = issuer.host_str().unwrap_or("localhost");
            Some(Arc::new(SmtpMailer::new(&config.smtp, hello)?))
        } else {
            None
        };
        let sms: Option<Arc<dyn SmsGateway>> = if config.sms.is_configured() {
            Some(Arc::new(HttpSmsGateway::new(&config.sms)?))
        } else {
            None
        };
        let franceconnect = if config.franceconnect.enabled {
            Some(Arc::new(Upstream::new(
                &config.franceconnect,
                &config.issuer,
                clock.clone(),
            )?))
        } else {
            None
        };
        Ok(Arc::new(App {
            franceconnect,
            mailer,
            sms,
            uploads,
            clients,
            config,
            durable,
            ephemeral,
            keys,
            clock,
            passwords,
            http,
        }))
    }

    /// A relying party, through the replica's client cache.
    pub async fn client(&self, id: &str) -> anyhow::Result<Option<crate::clients::Client>> {
        self.clients.get(&*self.durable, id).await
    }

    /// What a password check needs, lent from the replica's state.
    pub fn credentials(&self) -> crate::accounts::credentials::Verifier<'_> {
        crate::accounts::credentials::Verifier {
            accounts: &*self.durable,
            counters: &*self.ephemeral,
            passwords: &self.passwords,
            throttle: &self.config.throttle,
            clock: &*self.clock,
        }
    }

    /// The outbox worker of this replica, when it has somewhere to send.
    pub fn outbox_worker(&self) -> Option<Worker<'_>> {
        if self.mailer.is_none() && self.sms.is_none() {
            return None;
        }
        Some(Worker {
            store: &*self.durable,
            mailer: self.mailer.as_deref(),
            sms: self.sms.as_deref(),
            kek: self.keys.kek(),
            clock: &*self.clock,
            settings: &self.config.outbox,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
