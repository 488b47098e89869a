//! The bounds each scenario is compared with, measured in the same run on the same machine:
//! one argon2id verification with the provider's parameters, one RS256 and one ES256 signature
//! of an ID token, through the provider's own code.

use std::time::{Duration, Instant};

use educonnect::accounts::password::{hash_blocking, params, verify_in, Memory};
use educonnect::config::PasswordConfig;
use educonnect::tokens::keyring::LoadedKey;
use educonnect::tokens::SigningAlg;

pub struct Bounds {
    pub argon2_verify: Duration,
    pub rs256_sign: Duration,
    pub es256_sign: Duration,
    /// Threads the provider verifies passwords on at once (its argon2 pool).
    pub hash_threads: usize,
}

impl Bounds {
    /// Logins per second if argon2 were the only cost on every hashing thread.
    pub fn login_bound(&self) -> f64 {
        self.hash_threads as f64 / self.argon2_verify.as_secs_f64()
    }
}

fn mean(runs: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

/// One verification by the provider's own code (`verify_in`, reusing its memory area as each
/// hashing thread does).
pub fn argon2_verify(config: &PasswordConfig, runs: u32) -> anyhow::Result<Duration> {
    let hash = hash_blocking(params(config)?, b"Bench-Password-2026")?;
    let mut memory = Memory::default();
    Ok(mean(runs, || {
        assert!(verify_in(&mut memory, b"Bench-Password-2026", &hash).expect("verifies"));
    }))
}

/// Claims the size of a real ID token.
pub fn id_token_claims() -> serde_json::Value {
    serde_json::json!({
        "iss": "http://127.0.0.1:18080", "sub": "f3kq0Qm2Zb1n8hY4rT7cXw9e", "aud": "bench-ent",
        "exp": 1_800_000_600, "iat": 1_800_000_000, "auth_time": 1_800_000_000,
        "nonce": "n-0S6_WzA2Mj", "acr": "eidas1", "amr": ["pwd"], "sid": "8sJd2kLq0pXz",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "given_name": "Léa", "family_name": "Martin",
        "name": "Léa Martin", "educonnect_profile": "pupil"
    })
}

pub fn sign(alg: SigningAlg, runs: u32) -> anyhow::Result<Duration> {
    let key = LoadedKey::generate_unpublished(alg)?;
    let claims = id_token_claims();
    Ok(mean(runs, || {
        educonnect::tokens::jwt::sign(&key, "JWT", &claims).expect("signs");
    }))
}

pub fn measure(config: &PasswordConfig) -> anyhow::Result<Bounds> {
    let hash_threads = educonnect::accounts::password::PasswordHasher::threads(config);
    Ok(Bounds {
        argon2_verify: argon2_verify(config, 20)?,
        rs256_sign: sign(SigningAlg::RS256, 500)?,
        es256_sign: sign(SigningAlg::ES256, 2000)?,
        hash_threads,
    })
}
