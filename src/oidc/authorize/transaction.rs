//! Login and consent transactions: the authorization request parked in the ephemeral store while
//! the person fills in a page, with the CSRF token of that page.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::request::AuthorizationRequest;
use crate::app::App;
use crate::secrets::{constant_time_eq, random_b64};
use crate::store::ephemeral::{get_json, put_json};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: String,
    pub request: AuthorizationRequest,
    pub csrf: String,
    /// Set once the person is authenticated and only consent is awaited.
    pub account_id: Option<String>,
}

fn key(id: &str) -> String {
    format!("tx:{id}")
}

impl Transaction {
    pub fn csrf_matches(&self, presented: &str) -> bool {
        constant_time_eq(&self.csrf, presented)
    }
}

pub async fn start(
    app: &App,
    request: AuthorizationRequest,
    account_id: Option<String>,
) -> anyhow::Result<Transaction> {
    let tx = Transaction {
        id: random_b64(18),
        request,
        csrf: random_b64(24),
        account_id,
    };
    save(app, &tx).await?;
    Ok(tx)
}

pub async fn save(app: &App, tx: &Transaction) -> anyhow::Result<()> {
    let ttl = Duration::from_secs(app.config.tokens.login_transaction_seconds);
    put_json(&*app.ephemeral, &key(&tx.id), tx, ttl).await
}

pub async fn load(app: &App, id: &str) -> anyhow::Result<Option<Transaction>> {
    get_json(&*app.ephemeral, &key(id)).await
}

/// Ends the transaction; true if this call ended it (a double submit finds it gone).
pub async fn finish(app: &App, id: &str) -> anyhow::Result<bool> {
    Ok(app.ephemeral.take(&key(id)).await?.is_some())
}
