//! A self-service procedure of several pages (a registration: number, code, birth dates, new
//! password), parked in the ephemeral store between them: its state, the CSRF token its pages'
//! forms carry, the browser it belongs to (review #13.2, as for login transactions: a procedure
//! started in one browser cannot be answered from another), and, when it began at a relying
//! party's login page, that login's transaction, to go back to it at the end.
//!
//! Starts are limited per client address (`selfservice.starts_per_address_per_minute`), each
//! one parking state until it expires (`selfservice.flow_seconds`).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::SelfServiceConfig;
use crate::oidc::authorize::Browser;
use crate::secrets::{constant_time_eq, random_b64};
use crate::store::ephemeral::{get_json, put_json};
use crate::store::EphemeralStore;

/// A parked procedure of kind `kind` (`registration`, `recovery`, …) and state `S`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flow<S> {
    pub id: String,
    pub csrf: String,
    /// The digest of the binding cookie of the browser that started it.
    browser: String,
    /// The login transaction of the relying party the person came from, if any.
    pub tx: Option<String>,
    pub state: S,
}

fn key(kind: &str, id: &str) -> String {
    format!("selfservice:{kind}:{id}")
}

impl<S: Serialize + DeserializeOwned + Sync> Flow<S> {
    /// Whether `csrf` is this procedure's, presented by its browser.
    pub fn answered_by(&self, browser: &Browser, csrf: &str) -> bool {
        constant_time_eq(&self.browser, &browser.binding) & constant_time_eq(&self.csrf, csrf)
    }

    /// Shown only to the browser that started it.
    pub fn belongs_to(&self, browser: &Browser) -> bool {
        constant_time_eq(&self.browser, &browser.binding)
    }

    /// Parks a new procedure for `browser`; `None` when its address started too many in this
    /// minute of the service's clock (`now_ms`).
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        store: &dyn EphemeralStore,
        config: &SelfServiceConfig,
        kind: &str,
        browser: &Browser,
        now_ms: i64,
        tx: Option<String>,
        state: S,
    ) -> anyhow::Result<Option<Flow<S>>> {
        let minute = now_ms.div_euclid(60_000);
        let rate_key = format!("selfservice-rate:{}:{minute}", browser.address);
        let started = store.incr(&rate_key, Duration::from_secs(120)).await?;
        if started > config.starts_per_address_per_minute {
            return Ok(None);
        }
        let flow = Flow {
            id: random_b64(18),
            csrf: random_b64(24),
            browser: browser.binding.clone(),
            tx,
            state,
        };
        flow.save(store, config, kind).await?;
        Ok(Some(flow))
    }

    /// The procedure `id` of kind `kind`, if it is still parked.
    pub async fn load(
        store: &dyn EphemeralStore,
        kind: &str,
        id: &str,
    ) -> anyhow::Result<Option<Flow<S>>> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        get_json(store, &key(kind, id)).await
    }

    /// Parks the procedure's new state (its lifetime starts again: each page has the whole
    /// `flow_seconds`).
    pub async fn save(
        &self,
        store: &dyn EphemeralStore,
        config: &SelfServiceConfig,
        kind: &str,
    ) -> anyhow::Result<()> {
        let ttl = Duration::from_secs(config.flow_seconds);
        put_json(store, &key(kind, &self.id), self, ttl).await
    }

    /// Ends the procedure; true if this call ended it (a double submit finds it gone).
    pub async fn finish(&self, store: &dyn EphemeralStore, kind: &str) -> anyhow::Result<bool> {
        Ok(store.take(&key(kind, &self.id)).await?.is_some())
    }
}
