//! Typed configuration: defaults, then a TOML file, then environment variables, validated once at
//! start-up. Every option is documented with its default in `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

mod accounts;
mod backoffice;
mod franceconnect;
mod outbox;
mod sms;
mod tokens;
pub use accounts::{CodeConfig, PasswordConfig, ThrottleConfig};
pub use backoffice::BackofficeConfig;
pub use franceconnect::FranceConnectConfig;
pub use outbox::{OutboxConfig, SmtpConfig};
pub use sms::{SelfServiceConfig, SmsConfig};
pub use tokens::{SessionConfig, TokenConfig};

/// A secret of the configuration: read and written as its text, shown by `Debug` as
/// `<redacted>` (a configuration printed in a log never carries it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl Redacted {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The whole configuration of one replica.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Public URL of the provider; the `iss` of every token and response.
    pub issuer: String,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where `/metrics` is served, apart from the public listener (review #13.13); none: not
    /// served.
    pub metrics_listen: Option<SocketAddr>,
    /// `sqlite://...` (embedded default) or `postgres://...`.
    pub database_url: String,
    /// Maximum connections of the database pool.
    pub database_max_connections: u32,
    /// Empty: in-process ephemeral store (one replica only). `redis://...`: Redis.
    pub redis_url: String,
    /// Prefix of every Redis key (several deployments may share one Redis).
    pub redis_prefix: String,
    /// How long a request waits for a store (a database connection, a Redis connection or
    /// answer) before it is answered 503.
    pub store_timeout_seconds: u64,
    /// Where the key-encryption key is kept when `EDUCONNECT_KEY_ENCRYPTION_KEY` is not set.
    pub keys_dir: PathBuf,
    /// Key-encryption key (base64url of 32 bytes); takes precedence over `keys_dir/kek`.
    pub key_encryption_key: Option<Redacted>,
    /// Seed the demo establishment, accounts and relying party at start-up.
    /// Unset: only in the embedded default.
    pub demo: Option<bool>,
    /// `text` or `json`.
    pub log_format: String,
    /// Take the client address from the right-most `X-Forwarded-For` entry, the one the reverse
    /// proxy in front added (set only behind such a proxy).
    pub trust_forwarded_for: bool,
    /// How long a replica keeps a relying party's registration in memory (0: read it from the
    /// database every time); a change made with `clients` reaches every replica within it.
    pub client_cache_seconds: u64,
    /// How long `serve` waits, once asked to stop, for the requests under way to end; then it
    /// exits all the same (uploads under way are interrupted at once).
    pub shutdown_grace_seconds: u64,
    pub tokens: TokenConfig,
    pub session: SessionConfig,
    pub password: PasswordConfig,
    pub throttle: ThrottleConfig,
    pub codes: CodeConfig,
    pub admin: AdminConfig,
    pub smtp: SmtpConfig,
    pub outbox: OutboxConfig,
    pub sms: SmsConfig,
    pub selfservice: SelfServiceConfig,
    pub backoffice: BackofficeConfig,
    pub franceconnect: FranceConnectConfig,
}

/// The administration API (`/admin/...`): Siècle imports, establishment notices.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// SHA-256 digests (base64url) of the bearer tokens allowed to call it, as printed by
    /// `educonnect admin token`. Empty: the API answers 404.
    pub token_digests: Vec<String>,
    /// Largest import request (the two files of one establishment), in bytes.
    pub max_import_bytes: usize,
    /// Siècle uploads carried out at once; one more answers 429.
    pub max_concurrent_imports: usize,
    /// How long one Siècle upload may take once admitted (its body, read and write), in
    /// seconds; past it the upload is interrupted (503) and writes nothing.
    pub import_deadline_seconds: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".parse().expect("static address"),
            metrics_listen: None,
            database_url: "sqlite://data/educonnect.db".into(),
            database_max_connections: 16,
            redis_url: String::new(),
            redis_prefix: "educonnect:".into(),
            store_timeout_seconds: 5,
            keys_dir: "keys".into(),
            key_encryption_key: None,
            demo: None,
            log_format: "text".into(),
            trust_forwarded_for: false,
            client_cache_seconds: 10,
            shutdown_grace_seconds: 10,
            tokens: TokenConfig::default(),
            session: SessionConfig::default(),
            password: PasswordConfig::default(),
            throttle: ThrottleConfig::default(),
            codes: CodeConfig::default(),
            admin: AdminConfig::default(),
            smtp: SmtpConfig::default(),
            outbox: OutboxConfig::default(),
            sms: SmsConfig::default(),
            selfservice: SelfServiceConfig::default(),
            backoffice: BackofficeConfig::default(),
            franceconnect: FranceConnectConfig::default(),
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            token_digests: Vec::new(),
            // A large lycée's two files are a few megabytes.
            max_import_bytes: 64 * 1024 * 1024,
            // Each upload holds its files and records in memory and a CPU while read.
            max_concurrent_imports: 2,
            // A 5,000-pupil establishment is read in under a second and written in seconds.
            import_deadline_seconds: 120.0,
        }
    }
}

/// Why the configuration cannot be used; the message names the option.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults, then `file` (if given, or `educonnect.toml` when present), then `EDUCONNECT_*`
    /// variables (`__` separates sections: `EDUCONNECT_TOKENS__ACCESS_TOKEN_SECONDS`), then
    /// `DATABASE_URL` and `REDIS_URL`.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!(
                    "configuration file {} not found",
                    path.display()
                )))
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("educonnect.toml")),
        }
        let figment = figment
            .merge(
                Env::prefixed("EDUCONNECT_")
                    .split("__")
                    .ignore(&["config", "account_password"]),
            )
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]));
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: URLs, bounds, and combinations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let issuer = self.issuer_url()?;
        let loopback = matches!(issuer.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if issuer.scheme() != "https" && !loopback {
            return Err(ConfigError(format!(
                "issuer {} must use https (http is accepted only on a loopback address)",
                self.issuer
            )));
        }
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
            || self.database_url.starts_with("sqlite:"))
        {
            return Err(ConfigError(
                "database_url must start with postgres:// or sqlite:".into(),
            ));
        }
        let redis_ok = self.redis_url.is_empty()
            || self.redis_url.starts_with("redis://")
            || self.redis_url.starts_with("rediss://");
        if !redis_ok {
            return Err(ConfigError(
                "redis_url must be empty or start with redis://".into(),
            ));
        }
        if self.store_timeout_seconds == 0 {
            return Err(ConfigError(
                "store_timeout_seconds must be at least 1".into(),
            ));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError("log_format must be text or json".into()));
        }
        let t = &self.tokens;
        // OpenID Connect Core §3.1.2.1 / RFC 9700: codes are short-lived, at most a minute here.
        if t.authorization_code_seconds == 0 || t.authorization_code_seconds > 60 {
            return Err(ConfigError(
                "tokens.authorization_code_seconds must be within 1..=60".into(),
            ));
        }
        for (name, value) in [
            ("tokens.access_token_seconds", t.access_token_seconds),
            ("tokens.id_token_seconds", t.id_token_seconds),
            ("tokens.refresh_token_seconds", t.refresh_token_seconds),
            ("tokens.logout_token_seconds", t.logout_token_seconds),
            (
                "tokens.login_transaction_seconds",
                t.login_transaction_seconds,
            ),
            ("session.lifetime_seconds", self.session.lifetime_seconds),
            ("throttle.window_seconds", self.throttle.window_seconds),
            ("admin.max_import_bytes", self.admin.max_import_bytes as u64),
            (
                "admin.max_concurrent_imports",
                self.admin.max_concurrent_imports as u64,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("{name} must be greater than 0")));
            }
        }
        let deadline = self.admin.import_deadline_seconds;
        if !(deadline > 0.0 && std::time::Duration::try_from_secs_f64(deadline).is_ok()) {
            return Err(ConfigError(
                "admin.import_deadline_seconds must be a number of seconds greater than 0".into(),
            ));
        }
        if t.refresh_reuse_grace_seconds > 300 {
            return Err(ConfigError(
                "tokens.refresh_reuse_grace_seconds must be at most 300".into(),
            ));
        }
        let p = &self.password;
        argon2::Params::new(
            p.argon2_memory_kib,
            p.argon2_iterations,
            p.argon2_parallelism,
            None,
        )
        .map_err(|e| ConfigError(format!("password argon2 parameters: {e}")))?;
        if !(1..=366).contains(&p.temporary_password_days) {
            return Err(ConfigError(
                "password.temporary_password_days must be between 1 and 366".into(),
            ));
        }
        let c = &self.codes;
        if !(60..=3600).contains(&c.ttl_seconds)
            || !(1..=10).contains(&c.attempts_per_code)
            || c.sends_per_hour == 0
        {
            return Err(ConfigError(
                "codes: ttl_seconds must be 60 to 3600, attempts_per_code 1 to 10, \
                 sends_per_hour at least 1"
                    .into(),
            ));
        }
        if self.session.cookie_name.is_empty()
            || !self
                .session
                .cookie_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ConfigError(
                "session.cookie_name must be ASCII letters, digits or _".into(),
            ));
        }
        // A SHA-256 digest is 43 base64url characters: a token pasted in place of its digest is
        // refused here rather than kept in the configuration.
        if let Some(bad) = self.admin.token_digests.iter().find(|d| {
            d.len() != 43
                || !d
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }) {
            let shown: String = bad.chars().take(6).collect();
            return Err(ConfigError(format!(
                "admin.token_digests: {shown}... is not a digest printed by `educonnect admin token`"
            )));
        }
        self.smtp.validate()?;
        self.outbox.validate()?;
        self.sms.validate()?;
        self.selfservice.validate()?;
        self.backoffice.validate()?;
        self.franceconnect.validate()?;
        Ok(())
    }

    /// What `serve` needs beyond `validate`: in production (a PostgreSQL `database_url`) an SMTP
    /// server, or the outbox's e-mails would never leave. The embedded default may go without
    /// (messages stay in the outbox, shown by the demo page).
    pub fn validate_for_serving(&self) -> Result<(), ConfigError> {
        if !self.database_url.starts_with("sqlite:") && !self.smtp.is_configured() {
            return Err(ConfigError(
                "smtp.url (EDUCONNECT_SMTP__URL) is required with a PostgreSQL database_url: \
                 without an SMTP server the outbox's e-mails would never be sent"
                    .into(),
            ));
        }
        Ok(())
    }

    pub fn issuer_url(&self) -> Result<Url, ConfigError> {
        let url = Url::parse(&self.issuer)
            .map_err(|e| ConfigError(format!("issuer {}: {e}", self.issuer)))?;
        if url.query().is_some() || url.fragment().is_some() || self.issuer.ends_with('/') {
            return Err(ConfigError(
                "issuer must have no query, no fragment and no trailing slash".into(),
            ));
        }
        Ok(url)
    }

    /// True when running on the embedded default (SQLite and in-process stores).
    pub fn is_embedded(&self) -> bool {
        self.database_url.starts_with("sqlite:") && self.redis_url.is_empty()
    }

    pub fn demo_enabled(&self) -> bool {
        self.demo.unwrap_or_else(|| self.is_embedded())
    }

    /// The longest lifetime of a token signed with a key: a retired key stays published this long.
    pub fn longest_signed_token_seconds(&self) -> u64 {
        self.tokens
            .id_token_seconds
            .max(self.tokens.logout_token_seconds)
    }

    /// Absolute URL of an endpoint under the issuer.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn plain_http_issuer_outside_loopback_is_refused() {
        let config = Config {
            issuer: "http://educonnect.example".into(),
            ..Config::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("https"), "{err}");
    }

    #[test]
    fn code_lifetime_above_a_minute_is_refused() {
        let mut config = Config::default();
        config.tokens.authorization_code_seconds = 600;
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("authorization_code_seconds"));
    }

    fn with_smtp(url: &str) -> Config {
        let mut config = Config::default();
        config.smtp.url = url.into();
        config.smtp.from_address = "ne-pas-repondre@educonnect.example".into();
        config
    }

    #[test]
    fn smtp_urls_are_checked() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://relay.example:587?tls=required",
            "smtp://relay.example?tls=opportunistic",
            "smtps://relay.example:465",
        ] {
            with_smtp(good).validate().unwrap();
        }
        for (bad, named) in [
            ("http://relay.example", "smtp://host:port"),
            ("smtp://user:secret@relay.example", "smtp.username"),
            ("smtp://relay.example?tls=maybe", "?tls=required"),
            ("smtps://relay.example?tls=required", "?tls=required"),
        ] {
            let err = with_smtp(bad).validate().unwrap_err().to_string();
            assert!(err.contains(named), "{bad}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
        let mut config = with_smtp("smtp://relay.example");
        config.smtp.from_address = "pas une adresse".into();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("smtp.from_address"));
        config.smtp.from_address = "a@b.example".into();
        config.smtp.password = Some("secret".into());
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("go together"));
    }

    #[test]
    fn the_key_encryption_key_is_redacted_in_debug() {
        let config = Config {
            key_encryption_key: Some(Redacted("c2VjcmV0LWtleS1lbmNyeXB0aW9uLWtleQ".into())),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn the_smtp_password_is_redacted_in_debug() {
        let mut config = with_smtp("smtp://relay.example");
        config.smtp.username = Some("educonnect".into());
        config.smtp.password = Some("hunter2-very-secret".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn serving_on_postgres_requires_smtp() {
        Config::default().validate_for_serving().unwrap();
        let mut config = Config {
            database_url: "postgres://db.example/educonnect".into(),
            ..Config::default()
        };
        let err = config.validate_for_serving().unwrap_err().to_string();
        assert!(err.contains("smtp.url"), "{err}");
        config.smtp = with_smtp("smtp://relay.example").smtp;
        config.validate_for_serving().unwrap();
    }

    #[test]
    fn weak_argon2_parameters_are_refused() {
        let mut config = Config::default();
        config.password.argon2_iterations = 0;
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("argon2"));
    }
}
