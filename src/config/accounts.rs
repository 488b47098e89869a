//! What guards an account: the password hashing, the login throttle, the single-use codes.

use serde::{Deserialize, Serialize};

/// Single-use codes sent to a person (`accounts::one_time`): the six digits confirming an
/// e-mail address.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodeConfig {
    /// How long a code can be used.
    pub ttl_seconds: u64,
    /// Tries of one code; then it is gone and a new one must be asked for.
    pub attempts_per_code: u64,
    /// Codes one account may be sent in an hour (what an address can be made to receive).
    pub sends_per_hour: u64,
}

impl Default for CodeConfig {
    fn default() -> Self {
        CodeConfig {
            ttl_seconds: 600,
            attempts_per_code: 5,
            sends_per_hour: 5,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Hashes computed at once; more logins wait in line. 0: the number of CPUs.
    pub max_concurrent_hashes: usize,
    /// How long a notification letter's temporary password stays valid (about three months).
    pub temporary_password_days: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    pub window_seconds: u64,
    pub failures_per_account: u64,
    pub failures_per_address: u64,
    /// How long a browser that logged in to an account keeps its own failure counter for it
    /// (ADR 0008); 0 disables trusted browsers.
    pub trusted_device_days: u64,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        // OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
        PasswordConfig {
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_concurrent_hashes: 0,
            temporary_password_days: 92,
        }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        // Whole schools share one public address: the per-address bound is deliberately high.
        ThrottleConfig {
            window_seconds: 900,
            failures_per_account: 5,
            failures_per_address: 200,
            trusted_device_days: 30,
        }
    }
}
