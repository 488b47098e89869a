//! The bounds each scenario is compared with, measured in the same run on the same machine,
//! through the provider's own code: argon2id verification with the provider's parameters (one
//! at a time, and as many at once as the provider has hashing threads), one RS256 and one ES256
//! signature of an ID token, and refresh-token rotations by the durable store alone.

use std::time::{Duration, Instant};

use educonnect::accounts::password::{hash_blocking, params, verify_in, Memory};
use educonnect::config::PasswordConfig;
use educonnect::tokens::keys::LoadedKey;
use educonnect::tokens::SigningAlg;

pub struct Bounds {
    /// One verification, median of several, nothing else running.
    pub argon2_verify: Duration,
    /// Verifications per second with one verification running on every hashing thread at
    /// once, nothing else running: the login rate if a login cost nothing but its argon2.
    pub argon2_pool_rate: f64,
    pub rs256_sign: Duration,
    pub es256_sign: Duration,
    /// Threads the provider verifies passwords on at once (its argon2 pool).
    pub hash_threads: usize,
}

impl Bounds {
    /// Logins per second if argon2 were the only cost on every hashing thread.
    pub fn login_bound(&self) -> f64 {
        self.argon2_pool_rate
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
/// hashing thread does): the median of `runs`.
pub fn argon2_verify(config: &PasswordConfig, runs: usize) -> anyhow::Result<Duration> {
    let hash = hash_blocking(params(config)?, b"Bench-Password-2026")?;
    let mut memory = Memory::default();
    let mut times: Vec<Duration> = (0..=runs)
        .map(|_| {
            let start = Instant::now();
            assert!(verify_in(&mut memory, b"Bench-Password-2026", &hash).expect("verifies"));
            start.elapsed()
        })
        .skip(1)
        .collect();
    times.sort();
    Ok(times[times.len() / 2])
}

/// Verifications per second with `threads` threads verifying back to back for `window`.
pub fn argon2_pool_rate(
    config: &PasswordConfig,
    threads: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    let hash = hash_blocking(params(config)?, b"Bench-Password-2026")?;
    let start = Instant::now();
    let done: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut memory = Memory::default();
                    let mut n = 0;
                    while start.elapsed() < window {
                        assert!(verify_in(&mut memory, b"Bench-Password-2026", &hash)
                            .expect("verifies"));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("argon2 thread"))
            .sum()
    });
    Ok(done as f64 / start.elapsed().as_secs_f64())
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
        argon2_verify: argon2_verify(config, 15)?,
        argon2_pool_rate: argon2_pool_rate(config, hash_threads, Duration::from_secs(3))?,
        rs256_sign: sign(SigningAlg::RS256, 500)?,
        es256_sign: sign(SigningAlg::ES256, 2000)?,
        hash_threads,
    })
}

/// Refresh-token rotations per second by the durable store alone (the provider's own
/// `rotate_refresh_token`, the statement and commit every refresh makes), `chains` rotating at
/// once for `window`, with the provider idle: what the database can give the refresh scenario
/// on this machine.
pub async fn store_rotation_rate(
    database_url: &str,
    client_id: &str,
    chains: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    use educonnect::oidc::grants::{Grant, RefreshToken};
    use educonnect::store::sql::SqlStore;
    use educonnect::store::{AccountStore, GrantStore, Rotation};

    let store = std::sync::Arc::new(SqlStore::connect(database_url, chains as u32).await?);
    let account = store
        .account_by_login(&crate::seed::account_login(crate::seed::ACCOUNT_PREFIX, 0))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the accounts are not seeded"))?;
    fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64
    }
    let token = move |grant_id: &str, parent: Option<String>| RefreshToken {
        digest: educonnect::secrets::random_b64(32),
        grant_id: grant_id.to_owned(),
        parent_digest: parent,
        created_at: now_ms(),
        expires_at: now_ms() + 3_600_000,
    };
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    for _ in 0..chains {
        let store = store.clone();
        let grant = Grant {
            id: educonnect::secrets::random_b64(18),
            account_id: account.id.clone(),
            client_id: client_id.to_owned(),
            scope: "openid profile".into(),
            sid: None,
            offline: false,
            auth_time: now_ms() / 1000,
            acr: "eidas1".into(),
            amr: vec!["pwd".into()],
            created_at: now_ms(),
            expires_at: now_ms() + 3_600_000,
        };
        let mut current = token(&grant.id, None);
        store.insert_grant(&grant, &current).await?;
        tasks.spawn(async move {
            let mut rotations = 0u64;
            while start.elapsed() < window {
                let next = token("", Some(current.digest.clone()));
                match store
                    .rotate_refresh_token(&grant.client_id, &current.digest, &next, now_ms(), 0)
                    .await?
                {
                    Rotation::Rotated(_) => {}
                    other => anyhow::bail!("rotation: {other:?}"),
                }
                current = next;
                rotations += 1;
            }
            anyhow::Ok(rotations)
        });
    }
    let mut total = 0;
    for result in tasks.join_all().await {
        total += result?;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}
