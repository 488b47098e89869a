//! The production `SmsGateway`: an SMS operator's HTTP API in the shape most operators share
//! (Twilio's Messages resource is the best known): one `POST {url}/Accounts/{account}/Messages.json`
//! per message, a form body `To` (E.164) / `From` (the sender name) / `Body`, the account and
//! its token as HTTP Basic credentials; `201 Created` with the operator's JSON (`sid`, `status`)
//! once accepted. The tests run it against a faithful local fake operator (`tests/common/sms.rs`).
//!
//! What comes back decides whether the worker tries again (`SendError`): the request refused
//! for good (`400`: an invalid or unreachable number, `404`) is permanent; everything the
//! operator or the network may get over — a timeout, `429`, `5xx`, and `401`/`403` (the token
//! being rotated: messages wait for the right one rather than being lost) — is transient.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use serde::Deserialize;

use super::{SendError, Sms, SmsGateway};
use crate::config::SmsConfig;

/// Longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 300;

pub struct HttpSmsGateway {
    client: reqwest::Client,
    endpoint: String,
    account: String,
    token: String,
    sender: String,
}

/// The operator's error body (`{"code": 21211, "message": "..."}`), when it sends one.
#[derive(Deserialize)]
struct OperatorError {
    code: Option<i64>,
    message: Option<String>,
}

impl HttpSmsGateway {
    /// The gateway of `config` (already validated).
    pub fn new(config: &SmsConfig) -> anyhow::Result<HttpSmsGateway> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("SMS HTTP client")?;
        let account: String =
            url::form_urlencoded::byte_serialize(config.account.as_bytes()).collect();
        Ok(HttpSmsGateway {
            client,
            endpoint: format!(
                "{}/Accounts/{account}/Messages.json",
                config.url.trim_end_matches('/')
            ),
            account: config.account.clone(),
            token: config.token.clone().unwrap_or_default(),
            sender: config.sender.clone(),
        })
    }
}

#[async_trait]
impl SmsGateway for HttpSmsGateway {
    async fn send(&self, id: &str, sms: &Sms) -> Result<(), SendError> {
        let to = sms.international_number();
        let form = [
            ("To", to.as_str()),
            ("From", self.sender.as_str()),
            ("Body", sms.text.as_str()),
        ];
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account, Some(&self.token))
            // The client's reference: the same at every attempt, so a duplicate is recognized.
            .header("X-Request-Id", id)
            .form(&form)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("opérateur SMS injoignable : {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let detail = match serde_json::from_str::<OperatorError>(&body) {
            Ok(OperatorError { code, message }) => format!(
                "{}{}",
                code.map(|c| format!("code {c} ")).unwrap_or_default(),
                message.unwrap_or_default()
            ),
            Err(_) => body,
        };
        let error: String = format!("opérateur SMS : HTTP {} {}", status.as_u16(), detail.trim())
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect();
        Err(match status.as_u16() {
            400 | 404 | 422 => SendError::Permanent(error),
            _ => SendError::Transient(error),
        })
    }
}
