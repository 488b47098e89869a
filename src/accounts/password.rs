//! Password hashing with argon2id on a dedicated pool of `max_concurrent_hashes` threads, each
//! reusing one memory area of `argon2_memory_kib`. The bound makes a morning peak queue instead of
//! exhausting memory (resident memory stays at threads × memory, whatever the load), and keeps
//! the async workers free for every other endpoint; the reused area spares each verification
//! the cost of mapping and zeroing fresh memory.
//!
//! Each thread has one job waiting behind the one it is working on: a thread that finishes
//! takes the next job at once instead of idling until an async worker (busy on the same CPUs)
//! wakes the next caller to hand it one. A job whose caller has gone (the browser closed the
//! connection) is skipped when its turn comes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, OnceCell, Semaphore};

use crate::config::PasswordConfig;
use crate::secrets::Secret;

/// Result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    /// The stored hash used other parameters than the configured ones: store a new hash.
    pub needs_rehash: bool,
}

enum Job {
    Hash {
        password: Secret,
        reply: oneshot::Sender<anyhow::Result<String>>,
    },
    Verify {
        password: Secret,
        stored: String,
        reply: oneshot::Sender<anyhow::Result<bool>>,
    },
}

impl Job {
    /// Its caller no longer waits for the answer.
    fn abandoned(&self) -> bool {
        match self {
            Job::Hash { reply, .. } => reply.is_closed(),
            Job::Verify { reply, .. } => reply.is_closed(),
        }
    }
}

/// Jobs handed to the pool per hashing thread: the one it works on and the next.
const JOBS_PER_THREAD: usize = 2;

pub struct PasswordHasher {
    params: Params,
    /// Two permits per hashing thread (the job running and the one waiting behind it): callers
    /// wait here, in order, without holding a thread.
    permits: Arc<Semaphore>,
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Verified against when the account does not exist, so both cases cost the same.
    dummy_hash: OnceCell<String>,
    /// Passwords verified since start (`educonnect_password_verifications_total`): what the
    /// throttle bounds.
    verifications: AtomicU64,
    /// Jobs skipped because their caller had gone (`educonnect_password_jobs_abandoned_total`).
    abandoned: Arc<AtomicU64>,
    /// The number of hashing threads.
    threads: usize,
}

/// The memory area of one hashing thread, grown to the largest parameters it met.
#[derive(Default)]
pub struct Memory(Vec<Block>);

/// Verifies `password` against the PHC string `stored` in `memory`, with the parameters the hash
/// names (the provider's own verification, also measured by the benchmarks).
pub fn verify_in(memory: &mut Memory, password: &[u8], stored: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    let algorithm = Algorithm::try_from(parsed.algorithm)
        .map_err(|e| anyhow::anyhow!("stored hash algorithm: {e}"))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| anyhow::anyhow!("stored hash version: {e}"))?,
        None => Version::default(),
    };
    let params =
        Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("stored hash parameters: {e}"))?;
    let expected = parsed.hash.context("stored hash without output")?;
    let mut salt = [0u8; 64];
    let salt = parsed
        .salt
        .context("stored hash without salt")?
        .decode_b64(&mut salt)
        .map_err(|e| anyhow::anyhow!("stored hash salt: {e}"))?;
    let blocks = params.block_count();
    if memory.0.len() < blocks {
        memory.0.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory.0[..blocks])
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(aws_lc_rs::constant_time::verify_slices_are_equal(&out, expected.as_bytes()).is_ok())
}

/// The argon2id parameters `config` asks for.
pub fn params(config: &PasswordConfig) -> anyhow::Result<Params> {
    Params::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.argon2_parallelism,
        None,
    )
    .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))
}

/// Hashes `password` with `params` and a fresh salt into a PHC string, on the calling thread.
pub fn hash_blocking(params: Params, password: &[u8]) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// One hashing thread: runs the jobs it receives until the sender is gone, skipping (and
/// counting in `abandoned`) those whose caller no longer waits.
fn worker(params: Params, jobs: Arc<Mutex<mpsc::Receiver<Job>>>, abandoned: Arc<AtomicU64>) {
    let mut memory = Memory::default();
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        if job.abandoned() {
            abandoned.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("educonnect_password_jobs_abandoned_total").increment(1);
            continue;
        }
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_blocking(params.clone(), password.expose().as_bytes()));
            }
            Job::Verify {
                password,
                stored,
                reply,
            } => {
                let _ = reply.send(verify_in(
                    &mut memory,
                    password.expose().as_bytes(),
                    &stored,
                ));
            }
        }
    }
}

impl PasswordHasher {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<PasswordHasher> {
        let params = params(config)?;
        let threads = Self::threads(config);
        let (sender, receiver) = mpsc::channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let abandoned = Arc::new(AtomicU64::new(0));
        for i in 0..threads {
            let (params, receiver, abandoned) =
                (params.clone(), receiver.clone(), abandoned.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(params, receiver, abandoned))
                .context("start a hashing thread")?;
        }
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(threads * JOBS_PER_THREAD)),
            jobs: Mutex::new(sender),
            dummy_hash: OnceCell::new(),
            verifications: AtomicU64::new(0),
            abandoned,
            threads,
        })
    }

    /// Hashing threads: `max_concurrent_hashes`, or one per CPU when 0.
    pub fn threads(config: &PasswordConfig) -> usize {
        match config.max_concurrent_hashes {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        }
    }

    /// How many hashes the pool takes at once (running or next in line): a caller with many to
    /// make (a notification) keeps this many in flight, and more would only wait for a permit.
    pub fn concurrency(&self) -> usize {
        self.threads * JOBS_PER_THREAD
    }

    async fn run<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job(reply))
            .map_err(|_| anyhow::anyhow!("hashing threads stopped"))?;
        answer.await.context("hashing thread failed")
    }

    /// Hashes a new password with the configured parameters.
    pub async fn hash(&self, password: &Secret) -> anyhow::Result<String> {
        let password = password.clone();
        self.run(|reply| Job::Hash { password, reply }).await?
    }

    /// Verifies `password` against `stored`; with no stored hash, burns the same time and fails.
    pub async fn verify(
        &self,
        password: &Secret,
        stored: Option<&str>,
    ) -> anyhow::Result<Verification> {
        let (hash, exists) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?.to_owned(), false),
        };
        let needs_rehash = !PasswordHash::new(&hash).is_ok_and(|h| same_params(&h, &self.params));
        let password = password.clone();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("educonnect_password_verifications_total").increment(1);
        let ok = self
            .run(|reply| Job::Verify {
                password,
                stored: hash,
                reply,
            })
            .await??;
        Ok(Verification {
            ok: ok && exists,
            needs_rehash: ok && exists && needs_rehash,
        })
    }

    /// How many jobs the hashing threads skipped since start because their caller had gone.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// How many passwords this replica has verified since it started.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn dummy_hash(&self) -> anyhow::Result<&str> {
        self.dummy_hash
            .get_or_try_init(|| async { self.hash(&Secret::generate()).await })
            .await
            .map(String::as_str)
    }
}

fn same_params(hash: &PasswordHash<'_>, params: &Params) -> bool {
    hash.algorithm.as_str() == "argon2id"
        && Params::try_from(hash).is_ok_and(|p| {
            p.m_cost() == params.m_cost()
                && p.t_cost() == params.t_cost()
                && p.p_cost() == params.p_cost()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(iterations: u32) -> PasswordConfig {
        PasswordConfig {
            argon2_memory_kib: 1024,
            argon2_iterations: iterations,
            argon2_parallelism: 1,
            max_concurrent_hashes: 1,
            ..PasswordConfig::default()
        }
    }

    #[tokio::test]
    async fn right_password_verifies_and_wrong_one_does_not() {
        let hasher = PasswordHasher::new(&config(1)).unwrap();
        let hash = hasher
            .hash(&Secret::from_presented("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let ok = hasher
            .verify(&Secret::from_presented("correct horse"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                ok: true,
                needs_rehash: false
            }
        );
        let bad = hasher
            .verify(&Secret::from_presented("wrong"), Some(&hash))
            .await
            .unwrap();
        assert!(!bad.ok);
    }

    #[tokio::test]
    async fn missing_account_never_verifies() {
        let hasher = PasswordHasher::new(&config(1)).unwrap();
        assert!(
            !hasher
                .verify(&Secret::from_presented("x"), None)
                .await
                .unwrap()
                .ok
        );
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_a_rehash() {
        let old = PasswordHasher::new(&config(1)).unwrap();
        let hash = old.hash(&Secret::from_presented("pw")).await.unwrap();
        let new = PasswordHasher::new(&config(2)).unwrap();
        let v = new
            .verify(&Secret::from_presented("pw"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verification {
                ok: true,
                needs_rehash: true
            }
        );
    }

    #[test]
    fn a_job_whose_caller_has_gone_is_abandoned() {
        let (reply, answer) = oneshot::channel();
        let job = Job::Verify {
            password: Secret::from_presented("pw"),
            stored: String::new(),
            reply,
        };
        assert!(!job.abandoned());
        drop(answer);
        assert!(job.abandoned());
    }

    /// The thread itself, with a job whose caller has gone queued before a live one: the first
    /// is skipped and counted, the second answered.
    #[test]
    fn a_thread_skips_the_job_of_a_caller_that_has_gone_and_answers_the_next() {
        let hash = hash_blocking(params(&config(1)).unwrap(), b"pw").unwrap();
        let (jobs, receiver) = mpsc::channel();
        let (gone, answer) = oneshot::channel();
        drop(answer);
        jobs.send(Job::Verify {
            password: Secret::from_presented("pw"),
            stored: hash.clone(),
            reply: gone,
        })
        .unwrap();
        let (reply, mut answer) = oneshot::channel();
        jobs.send(Job::Verify {
            password: Secret::from_presented("pw"),
            stored: hash,
            reply,
        })
        .unwrap();
        drop(jobs);
        let abandoned = Arc::new(AtomicU64::new(0));
        // Returns once both jobs are taken and the sender is gone.
        worker(
            params(&config(1)).unwrap(),
            Arc::new(Mutex::new(receiver)),
            abandoned.clone(),
        );
        assert_eq!(abandoned.load(Ordering::Relaxed), 1);
        assert!(answer.try_recv().unwrap().unwrap(), "the live job answered");
    }

    /// Callers aborted at any point (waiting for a permit, or before their first poll) leave
    /// the pool answering the others with their own results.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_that_give_up_in_the_queue_do_not_stall_the_others() {
        let hasher = Arc::new(PasswordHasher::new(&config(1)).unwrap());
        let hash = hasher.hash(&Secret::from_presented("pw")).await.unwrap();
        let calls: Vec<_> = (0..8)
            .map(|i| {
                let (hasher, hash) = (hasher.clone(), hash.clone());
                tokio::spawn(async move {
                    let password = if i % 2 == 0 { "pw" } else { "other" };
                    hasher
                        .verify(&Secret::from_presented(password), Some(&hash))
                        .await
                        .unwrap()
                        .ok
                })
            })
            .collect();
        // Every third caller goes away, whether its job waits for a permit, waits in the
        // queue or runs.
        for call in calls.iter().step_by(3) {
            call.abort();
        }
        for (i, call) in calls.into_iter().enumerate() {
            match call.await {
                Ok(ok) => assert_eq!(ok, i % 2 == 0, "caller {i}"),
                Err(e) => assert!(e.is_cancelled() && i % 3 == 0, "caller {i}: {e}"),
            }
        }
        assert!(
            hasher
                .verify(&Secret::from_presented("pw"), Some(&hash))
                .await
                .unwrap()
                .ok
        );
    }
}
