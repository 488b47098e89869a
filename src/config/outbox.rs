//! Outgoing e-mail: the SMTP server the outbox worker delivers through, and the worker's pace
//! and retries.

use serde::{Deserialize, Serialize};
use url::Url;

use super::ConfigError;

/// The SMTP server the outbox worker delivers e-mail through. No `url`: nothing is sent (the
/// embedded default keeps messages in the outbox, for the demo page; `serve` refuses to start
/// on PostgreSQL without one).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS, refused if the
    /// server does not offer it), `smtp://host:port?tls=opportunistic` (STARTTLS when offered),
    /// `smtps://host:port` (TLS from the first byte). Empty: no SMTP server.
    pub url: String,
    /// The `From` address of every e-mail.
    pub from_address: String,
    /// The `From` display name.
    pub from_name: String,
    /// SMTP authentication (both or neither); kept out of the URL so the URL can be logged.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Connecting, and each command, time out after this many seconds.
    pub timeout_seconds: u64,
}

/// The outbox worker: how often it looks for due messages, how many it sends in a pass, and
/// how it retries.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Seconds between two delivery passes.
    pub poll_seconds: u64,
    /// Messages sent in one pass at most (the lock is held that long).
    pub batch_size: u32,
    /// Attempts before a message is given up (`failed`).
    pub max_attempts: u32,
    /// The pause after a first failed attempt; it doubles at each failure...
    pub backoff_base_seconds: u64,
    /// ...up to this.
    pub backoff_max_seconds: u64,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &self.url)
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            url: String::new(),
            from_address: String::new(),
            from_name: "EduConnect".into(),
            username: None,
            password: None,
            timeout_seconds: 30,
        }
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        // 30 s, 1 min, 2 min ... capped at an hour: ten attempts span about four hours, long
        // enough for an SMTP relay's maintenance, short enough that a letter's e-mail is news.
        OutboxConfig {
            poll_seconds: 5,
            batch_size: 50,
            max_attempts: 10,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
        }
    }
}

impl SmtpConfig {
    pub fn is_configured(&self) -> bool {
        !self.url.is_empty()
    }

    /// The URL's form, the sender and the credentials (both or neither).
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.is_configured() {
            return Ok(());
        }
        let url = Url::parse(&self.url).map_err(|e| ConfigError(format!("smtp.url: {e}")))?;
        if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
            return Err(ConfigError(
                "smtp.url must be smtp://host:port or smtps://host:port".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError(
                "smtp.url must not carry credentials: set smtp.username and smtp.password".into(),
            ));
        }
        let tls: Vec<_> = url.query_pairs().collect();
        let tls_ok = match (url.scheme(), tls.as_slice()) {
            (_, []) => true,
            ("smtp", [(k, v)]) => k == "tls" && (v == "required" || v == "opportunistic"),
            _ => false,
        };
        if !tls_ok {
            return Err(ConfigError(
                "smtp.url: the only query accepted is ?tls=required or ?tls=opportunistic, on smtp://"
                    .into(),
            ));
        }
        if self.from_address.parse::<lettre::Address>().is_err() {
            return Err(ConfigError(format!(
                "smtp.from_address must be an e-mail address (the From of every message), not {:?}",
                self.from_address
            )));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(ConfigError(
                "smtp.username and smtp.password go together".into(),
            ));
        }
        if self.timeout_seconds == 0 {
            return Err(ConfigError(
                "smtp.timeout_seconds must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl OutboxConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("outbox.poll_seconds", self.poll_seconds),
            ("outbox.batch_size", u64::from(self.batch_size)),
            ("outbox.max_attempts", u64::from(self.max_attempts)),
            ("outbox.backoff_base_seconds", self.backoff_base_seconds),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("{name} must be greater than 0")));
            }
        }
        if self.backoff_max_seconds < self.backoff_base_seconds {
            return Err(ConfigError(
                "outbox.backoff_max_seconds must be at least outbox.backoff_base_seconds".into(),
            ));
        }
        Ok(())
    }
}
