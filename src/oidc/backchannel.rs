//! Back-Channel Logout 1.0: a signed logout token POSTed to each RP of the ended session that
//! registered a `backchannel_logout_uri`. Deliveries run in the background with retries, so the
//! person's logout never waits for an RP.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::oidc::id_token;

/// Attempts per RP, and the pause before each retry (doubling).
const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(500);

pub async fn notify(
    app: &Arc<App>,
    client_ids: &[String],
    sub: &str,
    sid: &str,
) -> anyhow::Result<()> {
    for client_id in client_ids {
        let Some(client) = app.client(client_id).await? else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let token = id_token::logout_token(app, &client, sub, sid).await?;
        let http = app.http.clone();
        let client_id = client.id.clone();
        tokio::spawn(async move { deliver(http, client_id, uri, token).await });
    }
    Ok(())
}

async fn deliver(http: reqwest::Client, client_id: String, uri: String, token: String) {
    let mut pause = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let sent = http
            .post(&uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        match sent {
            // Back-Channel Logout §2.8: 200 (or 204) means done.
            Ok(response) if response.status().is_success() => {
                metrics::counter!("educonnect_backchannel_logout_total", "result" => "delivered")
                    .increment(1);
                return;
            }
            Ok(response) => {
                tracing::warn!(%client_id, attempt, status = %response.status(), "back-channel logout refused")
            }
            Err(error) => tracing::warn!(%client_id, attempt, %error, "back-channel logout failed"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    metrics::counter!("educonnect_backchannel_logout_total", "result" => "abandoned").increment(1);
}
