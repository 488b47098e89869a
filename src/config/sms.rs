//! Outgoing SMS and families' self-service: the SMS operator the outbox worker delivers
//! through, the caps that bound what SMS can cost, and the self-service pages' timings.

use serde::{Deserialize, Serialize};
use url::Url;

use super::ConfigError;

/// The SMS operator (`outbox::sms_http`): an HTTP API taking a message per `POST`, with the
/// account and token as HTTP Basic credentials. No `url`: nothing is sent (the embedded default
/// keeps SMS in the outbox, for the demo page). The caps hold with or without an operator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// The operator's API base (`https://sms.example/2010-04-01`); empty: no operator.
    pub url: String,
    /// The operator account (the Basic user, and part of the messages' path).
    pub account: String,
    /// The account's API token (the Basic password); never logged.
    pub token: Option<String>,
    /// The sender name the phone shows (11 letters or digits at most, the operators' limit).
    pub sender: String,
    /// A request to the operator times out after this many seconds (then it is tried again).
    pub timeout_seconds: u64,
    /// SMS one mobile number may be sent in a day (fraud and cost: a number cannot be flooded).
    pub per_number_per_day: u64,
    /// SMS requests from one client address in a day (whole schools share an address: high).
    pub per_address_per_day: u64,
    /// SMS the whole service sends in a day, the budget past which every SMS waits for the next
    /// day (a pumping attack costs no more than this).
    pub per_day: u64,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("url", &self.url)
            .field("account", &self.account)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("sender", &self.sender)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("per_number_per_day", &self.per_number_per_day)
            .field("per_address_per_day", &self.per_address_per_day)
            .field("per_day", &self.per_day)
            .finish()
    }
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            url: String::new(),
            account: String::new(),
            token: None,
            sender: "EduConnect".into(),
            timeout_seconds: 10,
            per_number_per_day: 5,
            per_address_per_day: 500,
            per_day: 200_000,
        }
    }
}

impl SmsConfig {
    pub fn is_configured(&self) -> bool {
        !self.url.is_empty()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("sms.per_number_per_day", self.per_number_per_day),
            ("sms.per_address_per_day", self.per_address_per_day),
            ("sms.per_day", self.per_day),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("{name} must be at least 1")));
            }
        }
        if !self.is_configured() {
            return Ok(());
        }
        let url = Url::parse(&self.url).map_err(|e| ConfigError(format!("sms.url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError(
                "sms.url must be an http:// or https:// URL".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError(
                "sms.url must not carry credentials: set sms.account and sms.token".into(),
            ));
        }
        if self.account.is_empty() || self.token.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError(
                "sms.account and sms.token are required with sms.url".into(),
            ));
        }
        let sender_ok = (1..=11).contains(&self.sender.len())
            && self.sender.chars().all(|c| c.is_ascii_alphanumeric());
        if !sender_ok {
            return Err(ConfigError(
                "sms.sender must be 1 to 11 ASCII letters or digits".into(),
            ));
        }
        if self.timeout_seconds == 0 {
            return Err(ConfigError("sms.timeout_seconds must be at least 1".into()));
        }
        Ok(())
    }
}

/// Families' self-service (`crate::selfservice`): registration, recovery, contact changes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfServiceConfig {
    /// How long one self-service procedure (its pages from the first to the last) may take.
    pub flow_seconds: u64,
    /// How long a password-recovery link sent by e-mail can be used.
    pub recovery_link_seconds: u64,
    /// The answers that could tell whether an account, a number or an address exists are
    /// given no sooner than this after the request arrived, whatever was found (the work done
    /// for an existing account — a lookup, a message queued — fits well within it).
    pub response_floor_ms: u64,
    /// Procedures one client address may start in a minute.
    pub starts_per_address_per_minute: u64,
}

impl Default for SelfServiceConfig {
    fn default() -> Self {
        SelfServiceConfig {
            flow_seconds: 1200,
            recovery_link_seconds: 1800,
            response_floor_ms: 400,
            starts_per_address_per_minute: 30,
        }
    }
}

impl SelfServiceConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(60..=86_400).contains(&self.flow_seconds)
            || !(300..=86_400).contains(&self.recovery_link_seconds)
            || !(50..=5_000).contains(&self.response_floor_ms)
            || self.starts_per_address_per_minute == 0
        {
            return Err(ConfigError(
                "selfservice: flow_seconds must be 60 to 86400, recovery_link_seconds 300 to \
                 86400, response_floor_ms 50 to 5000, starts_per_address_per_minute at least 1"
                    .into(),
            ));
        }
        Ok(())
    }
}
