//! The establishment back-office (`/gestion`): its session and its audit trail.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackofficeConfig {
    /// The back-office session's cookie (path `/gestion`, apart from the SSO session's).
    pub cookie_name: String,
    /// A session unused this long ends (the next request signs in again).
    pub idle_seconds: u64,
    /// A session ends this long after the sign-in, however much it is used.
    pub lifetime_seconds: u64,
    /// How long the audit trail keeps an event; then the purge job deletes it.
    pub audit_retention_days: u64,
}

impl Default for BackofficeConfig {
    fn default() -> Self {
        BackofficeConfig {
            cookie_name: "educonnect_gestion".into(),
            idle_seconds: 15 * 60,
            lifetime_seconds: 8 * 3600,
            audit_retention_days: 365,
        }
    }
}

impl BackofficeConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.idle_seconds == 0 || self.idle_seconds > self.lifetime_seconds {
            return Err(ConfigError(
                "backoffice.idle_seconds must be greater than 0 and at most backoffice.lifetime_seconds"
                    .into(),
            ));
        }
        if self.lifetime_seconds > 24 * 3600 {
            return Err(ConfigError(
                "backoffice.lifetime_seconds must be at most a day (86400)".into(),
            ));
        }
        if self.audit_retention_days == 0 {
            return Err(ConfigError(
                "backoffice.audit_retention_days must be greater than 0".into(),
            ));
        }
        if self.cookie_name.is_empty()
            || !self
                .cookie_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ConfigError(
                "backoffice.cookie_name: letters, digits, _ and - only".into(),
            ));
        }
        Ok(())
    }
}
