//! Shared test harness: starts a real provider on 127.0.0.1 (random port) over either backend,
//! with its own data (a fresh SQLite file, or a fresh PostgreSQL schema and Redis key prefix), so
//! tests run in parallel. The production backend needs PostgreSQL and Redis to answer: a test
//! fails, it never skips, when they do not.
//!
//! `EDUCONNECT_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `EDUCONNECT_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) point at them.

#![allow(dead_code)]

pub mod browser;
pub mod franceconnect;
pub mod pdf;
pub mod sms;
pub mod smtp;
pub mod staff;

use std::sync::Arc;

use educonnect::accounts::lifecycle::{activate_with_password, Author, NewPassword};
use educonnect::accounts::{Account, AccountState, LoginId, Profile};
use educonnect::app::{App, AppState};
use educonnect::clients::{AuthMethod, Client, GrantType, Registration};
use educonnect::clock::OffsetClock;
use educonnect::config::Config;
use educonnect::secrets::{random_b64, Secret};
use educonnect::tokens::SigningAlg;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process ephemeral store.
    Embedded,
    /// PostgreSQL + Redis.
    Production,
}

pub fn database_url() -> String {
    std::env::var("EDUCONNECT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn redis_url() -> String {
    std::env::var("EDUCONNECT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A running provider.
pub struct TestOp {
    pub app: AppState,
    pub issuer: String,
    pub clock: Arc<OffsetClock>,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestOp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A configuration with fresh, isolated stores for `backend`, and a cheap argon2 so tests stay
/// fast (the production parameters are measured in the benchmarks, not here).
pub async fn isolated_config(backend: Backend, dir: &std::path::Path) -> Config {
    let mut config = Config {
        keys_dir: dir.join("keys"),
        ..Config::default()
    };
    config.password.argon2_memory_kib = 1024;
    config.password.argon2_iterations = 1;
    config.demo = Some(false);
    match backend {
        Backend::Embedded => {
            config.database_url = format!("sqlite://{}", dir.join("educonnect.db").display());
        }
        Backend::Production => {
            let schema = fresh_schema().await;
            config.database_url = format!("{}?options=-c%20search_path%3D{schema}", database_url());
            config.database_max_connections = 8;
            config.redis_url = redis_url();
            config.redis_prefix = format!("test:{}:", random_b64(9));
        }
    }
    config
}

/// A new PostgreSQL schema for one test; schemas of earlier runs (over two hours old) are dropped.
async fn fresh_schema() -> String {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database_url())
        .await
        .expect("PostgreSQL must answer at EDUCONNECT_TEST_DATABASE_URL");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let old = sqlx::query(
        "SELECT nspname::text AS nspname FROM pg_namespace WHERE nspname LIKE 'edu_t%'",
    )
    .fetch_all(&pool)
    .await
    .expect("list schemas");
    for row in old {
        let name: String = row.get("nspname");
        let stamp = name
            .split('_')
            .nth(2)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        if stamp + 7200 < now {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&pool)
                .await;
        }
    }
    let suffix: String = random_b64(9)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let schema = format!("edu_t_{now}_{suffix}");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    schema
}

impl TestOp {
    pub async fn start(backend: Backend) -> TestOp {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a provider after `configure` adjusted its configuration.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestOp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = isolated_config(backend, dir.path()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().unwrap().port();
        config.issuer = format!("http://127.0.0.1:{port}");
        config.listen = listener.local_addr().unwrap();
        configure(&mut config);
        config.validate().expect("test configuration");
        let clock = Arc::new(OffsetClock::default());
        let app = App::build(config, clock.clone())
            .await
            .expect("provider starts");
        let router = educonnect::http::router(app.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(educonnect::http::serve(listener, router, async {
            let _ = stopped.await;
        }));
        let issuer = app.config.issuer.clone();
        TestOp {
            app,
            issuer,
            clock,
            backend,
            _dir: dir,
            shutdown: Some(shutdown),
        }
    }

    /// A second replica of the same provider: same configuration (same issuer, same PostgreSQL
    /// schema and Redis prefix, same key-encryption key), its own process state and port.
    pub async fn replica(&self) -> Replica {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = App::build(self.app.config.clone(), self.clock.clone())
            .await
            .expect("replica starts");
        let router = educonnect::http::router(app.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(educonnect::http::serve(listener, router, async {
            let _ = stopped.await;
        }));
        Replica {
            app,
            base,
            _shutdown: shutdown,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Registers a confidential client (client_secret_basic) with the usual redirect URIs.
    pub async fn confidential_client(&self, id: &str) -> (Client, Secret) {
        let (client, secret) = self.register(registration(id)).await;
        (client, secret.expect("secret-based client"))
    }

    pub async fn register(&self, registration: Registration) -> (Client, Option<Secret>) {
        let (client, secret) =
            Client::register(registration, self.app.now_ms()).expect("valid registration");
        self.app
            .durable
            .put_client(&client)
            .await
            .expect("store client");
        (client, secret)
    }

    /// An active account with a password.
    pub async fn account(&self, login: &str, password: &str, profile: Profile) -> Account {
        let mut account = Account::new(
            LoginId::parse(login).unwrap(),
            profile,
            "Léa",
            "Martin",
            self.app.now_ms(),
        );
        account.state = AccountState::Active;
        account.email = Some(format!("{login}@example.invalid"));
        account.password_hash = Some(
            self.app
                .passwords
                .hash(&Secret::from_presented(password))
                .await
                .unwrap(),
        );
        self.app
            .durable
            .insert_account(&account)
            .await
            .expect("store account");
        account
    }

    /// Gives an imported account a password and makes it active, as activation will; returns
    /// the account as stored.
    pub async fn activate(&self, account_id: &str, password: &str) -> Account {
        let store = &*self.app.durable;
        let account = store.account(account_id).await.unwrap().unwrap();
        let password = NewPassword::parse(Secret::from_presented(password)).unwrap();
        let now = self.app.now_ms();
        let author = Author {
            audit: store,
            actor: "test",
            address: None,
        };
        activate_with_password(
            store,
            &self.app.passwords,
            &self.app,
            author,
            &account,
            &password,
            now,
        )
        .await
        .unwrap();
        store.account(account_id).await.unwrap().unwrap()
    }

    /// Imports the establishments under `root` (as `educonnect import siecle` would) and
    /// returns their exports.
    /// The birth dates of the guardian's children, each child once, as the import stored them
    /// (what the self-registration asks for).
    pub async fn birth_dates(&self, guardian_id: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut dates = Vec::new();
        let children = self
            .app
            .durable
            .affiliations(guardian_id)
            .await
            .unwrap()
            .children;
        for child in children {
            if !seen.contains(&child.account_id) {
                let date = self.app.durable.pupil_birth_date(&child.account_id).await;
                dates.push(date.unwrap().expect("a birth date"));
                seen.push(child.account_id);
            }
        }
        dates
    }

    pub async fn import_siecle(&self, root: &std::path::Path) -> Vec<educonnect::siecle::Export> {
        let pairs = educonnect::siecle::find_exports(&[root.to_path_buf()]).unwrap();
        let exports = pairs
            .iter()
            .map(|(p, g)| educonnect::siecle::read_establishment(p, g).unwrap())
            .collect();
        educonnect::provisioning::import_exports(
            &*self.app.durable,
            pairs,
            false,
            "test",
            &educonnect::clock::SystemClock,
            &mut |_: &educonnect::provisioning::Outcome| {},
            educonnect::provisioning::FIRST_LOAD_FROM,
        )
        .await
        .unwrap();
        exports
    }

    /// Every open linking candidate of the establishments of `exports`, each once.
    pub async fn candidates(
        &self,
        exports: &[educonnect::siecle::Export],
    ) -> Vec<educonnect::accounts::linking::LinkCandidate> {
        let mut all = Vec::new();
        for export in exports {
            let found = self
                .app
                .durable
                .candidates_of_establishment(export.uai.as_str())
                .await
                .unwrap()
                .unwrap_or_default();
            for candidate in found {
                if !all.contains(&candidate) {
                    all.push(candidate);
                }
            }
        }
        all
    }
}

/// Another replica (see `TestOp::replica`); `base` is where it listens.
pub struct Replica {
    pub app: AppState,
    pub base: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Replica {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

pub const REDIRECT_URI: &str = "https://rp.example/cb";
pub const POST_LOGOUT_URI: &str = "https://rp.example/logged-out";

/// A registration for a confidential ENT with every grant.
pub fn registration(id: &str) -> Registration {
    Registration {
        id: Some(id.into()),
        name: format!("ENT {id}"),
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
        backchannel_logout_uri: None,
        grant_types: vec![
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ],
        scopes: ["openid", "profile", "email", "offline_access", "scolarite"]
            .map(String::from)
            .to_vec(),
        auth_method: AuthMethod::ClientSecretBasic,
        id_token_alg: SigningAlg::RS256,
        jwks: None,
        require_consent: false,
        resource_server: false,
    }
}

/// Generates one `#[tokio::test]` per backend for a test body `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name($crate::common::Backend::Embedded).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn production() {
                    super::$name($crate::common::Backend::Production).await
                }
            }
        )*
    };
}

/// The shared Siècle sample exports (`../shared/fixtures/siecle/sample`).
pub fn siecle_samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/siecle/sample")
}

/// One folder per sample establishment, in a stable order.
pub fn siecle_sample_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(siecle_samples())
        .expect("../shared/fixtures/siecle/sample")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

/// A copy of the establishments' export folders `dirs` in which each `(from, to)` is replaced:
/// the establishment's next export, after the secretariat changed these values. The files are
/// ISO-8859-15; the replacements must be ASCII.
pub fn siecle_changed(
    dirs: &[std::path::PathBuf],
    replacements: &[(&str, &str)],
) -> tempfile::TempDir {
    let next = tempfile::tempdir().unwrap();
    for dir in dirs {
        let to = next.path().join(dir.file_name().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(dir).unwrap() {
            let file = file.unwrap().path();
            let mut bytes = std::fs::read(&file).unwrap();
            for (from, into) in replacements {
                assert!(from.is_ascii() && into.is_ascii());
                bytes = replaced(&bytes, from.as_bytes(), into.as_bytes());
            }
            std::fs::write(to.join(file.file_name().unwrap()), bytes).unwrap();
        }
    }
    next
}

fn replaced(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Exports written by the shared generator into a temporary folder.
pub fn siecle_generated(schools: u32, pupils: u32, seed: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/fixtures/siecle/generate.py"),
        )
        .arg(dir.path())
        .args(["--schools", &schools.to_string()])
        .args(["--pupils-per-school", &pupils.to_string()])
        .args(["--seed", &seed.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the fixture generator");
    assert!(status.success());
    dir
}
