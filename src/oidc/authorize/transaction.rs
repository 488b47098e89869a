//! Login and consent transactions: the authorization request parked in the ephemeral store while
//! the person fills in a page, with the CSRF token of that page and the browser it belongs to.
//!
//! Review #13.2 (login CSRF): the CSRF token alone belongs to the request, not to the browser:
//! an attacker could take the `tx`/`csrf` of their own `/authorize` and have a victim's browser
//! submit the login form with the attacker's credentials. A transaction is therefore bound, when
//! it starts, to the browser that started it (the digest of a random cookie), and an answer from
//! any other browser is refused.
//!
//! A transaction without a request is a sign-in to Mon compte (`/compte/connexion`): the same
//! login page, throttles, activation and trusted devices, ending on `/compte` instead of at a
//! relying party.
//!
//! Review #13.5: new transactions are limited per client address, since each one parks a request
//! in the ephemeral store until it expires.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::request::AuthorizationRequest;
use crate::app::App;
use crate::secrets::{constant_time_eq, random_b64};
use crate::store::ephemeral::{get_json, put_json};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: String,
    /// The relying party's parked request; `None` for a sign-in to Mon compte, which has no
    /// relying party and ends on the account's own pages (older parked transactions, which all
    /// had one, still read).
    #[serde(default)]
    pub request: Option<AuthorizationRequest>,
    pub csrf: String,
    /// Set once the person is authenticated and only consent is awaited.
    pub account_id: Option<String>,
    /// The digest of the binding cookie of the browser that started the transaction.
    #[serde(default)]
    pub browser: String,
}

/// The browser a request comes from: the digest of its binding cookie, and its address.
#[derive(Clone, Debug)]
pub struct Browser {
    pub binding: String,
    pub address: String,
}

fn key(id: &str) -> String {
    format!("tx:{id}")
}

impl Transaction {
    /// The page's token, presented by the browser the transaction belongs to.
    pub fn answered_by(&self, browser: &Browser, csrf: &str) -> bool {
        constant_time_eq(&self.browser, &browser.binding) & constant_time_eq(&self.csrf, csrf)
    }

    /// Shown only to the browser that started it (another one would learn its CSRF token).
    pub fn belongs_to(&self, browser: &Browser) -> bool {
        constant_time_eq(&self.browser, &browser.binding)
    }
}

/// Parks the request for `browser`; `None` when that address started too many transactions in
/// this minute of the service's clock (ADR 0008's addendum: windows by the injected clock).
pub async fn start(
    app: &App,
    request: Option<AuthorizationRequest>,
    account_id: Option<String>,
    browser: &Browser,
) -> anyhow::Result<Option<Transaction>> {
    let minute = app.now_ms().div_euclid(60_000);
    let rate_key = format!("tx-rate:{}:{minute}", browser.address);
    let started = app
        .ephemeral
        .incr(&rate_key, Duration::from_secs(120))
        .await?;
    if started > app.config.tokens.transactions_per_address_per_minute {
        return Ok(None);
    }
    let tx = Transaction {
        id: random_b64(18),
        request,
        csrf: random_b64(24),
        account_id,
        browser: browser.binding.clone(),
    };
    save(app, &tx).await?;
    Ok(Some(tx))
}

pub async fn save(app: &App, tx: &Transaction) -> anyhow::Result<()> {
    let ttl = Duration::from_secs(app.config.tokens.login_transaction_seconds);
    put_json(&*app.ephemeral, &key(&tx.id), tx, ttl).await
}

pub async fn load(app: &App, id: &str) -> anyhow::Result<Option<Transaction>> {
    get_json(&*app.ephemeral, &key(id)).await
}

/// Whether the login transaction `id` is still under way (where a self-service procedure
/// that began at its login page can send the person back).
pub async fn is_live(store: &dyn crate::store::EphemeralStore, id: &str) -> anyhow::Result<bool> {
    store.exists(&key(id)).await
}

/// Ends the transaction; true if this call ended it (a double submit finds it gone).
pub async fn finish(app: &App, id: &str) -> anyhow::Result<bool> {
    Ok(app.ephemeral.take(&key(id)).await?.is_some())
}
