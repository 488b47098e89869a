//! The load driver against a real provider (in process, on both stores): every scenario
//! completes with its responses validated, and a failing flow counts as an error, never as a
//! success. Figures come from `bench/run`, not from here.

use std::sync::Arc;
use std::time::Duration;

use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect_bench::runner::{self, Group, Outcome};
use educonnect_bench::scenarios::{Scenario, Target};
use educonnect_bench::seed::ClientCreds;
use educonnect_bench::seed::{self, Seeded};

#[derive(Clone, Copy, Debug)]
enum Backend {
    Embedded,
    Production,
}

/// A fresh PostgreSQL schema named as the main test suite names its own (`edu_t_<secs>_<rand>`),
/// so its clean-up of stale schemas covers these too.
async fn fresh_schema(database_url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url)
        .await
        .expect("PostgreSQL must answer at EDUCONNECT_TEST_DATABASE_URL");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let suffix: String = educonnect::secrets::random_b64(9)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let schema = format!("edu_t_{now}_{suffix}");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create schema");
    schema
}

struct Provider {
    issuer: String,
    seeded: Seeded,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Starts educonnect on `backend` and seeds it as `bench/run` does (cheap argon2 parameters).
async fn provider(backend: Backend) -> Provider {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        keys_dir: dir.path().join("keys"),
        demo: Some(false),
        ..Config::default()
    };
    config.password.argon2_memory_kib = 1024;
    config.password.argon2_iterations = 1;
    match backend {
        Backend::Embedded => {
            config.database_url = format!("sqlite://{}", dir.path().join("e.db").display());
        }
        Backend::Production => {
            let url = std::env::var("EDUCONNECT_TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let schema = fresh_schema(&url).await;
            config.database_url = format!("{url}?options=-c%20search_path%3D{schema}");
            config.database_max_connections = 8;
            config.redis_url = std::env::var("EDUCONNECT_TEST_REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            config.redis_prefix = format!("test:{}:", educonnect::secrets::random_b64(9));
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.issuer = format!("http://{}", listener.local_addr().unwrap());
    config.listen = listener.local_addr().unwrap();
    let seeded = seed::seed(&config.database_url, &config.password, 50)
        .await
        .expect("seed");
    let app = App::build(config, Arc::new(SystemClock))
        .await
        .expect("provider starts");
    let issuer = app.config.issuer.clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(educonnect::http::serve(
        listener,
        educonnect::http::router(app),
        async {
            let _ = stopped.await;
        },
    ));
    Provider {
        issuer,
        seeded,
        _dir: dir,
        _shutdown: shutdown,
    }
}

async fn target(p: &Provider, seeded: Seeded) -> Arc<Target> {
    Arc::new(
        Target::discover(&p.issuer, seeded)
            .await
            .expect("discovery and JWKS"),
    )
}

async fn run(target: &Arc<Target>, scenario: Scenario) -> Outcome {
    runner::run(
        target.clone(),
        &[Group {
            scenario,
            connections: 2,
            pace: None,
        }],
        Duration::ZERO,
        Duration::from_millis(400),
    )
    .await
    .remove(0)
}

async fn every_scenario_completes_without_errors(backend: Backend) {
    let p = provider(backend).await;
    let target = target(&p, p.seeded.clone()).await;
    for scenario in Scenario::ALL {
        let outcome = run(&target, scenario).await;
        assert_eq!(
            outcome.stats.errors,
            0,
            "{backend:?} {}: {:?}",
            scenario.name(),
            outcome.stats.samples
        );
        assert!(
            outcome.stats.count() > 0,
            "{backend:?} {}: nothing completed",
            scenario.name()
        );
    }
}

/// A wrong password ends on the login page again: every flow is an error, none a success.
async fn a_failed_login_counts_as_an_error(backend: Backend) {
    let p = provider(backend).await;
    let wrong_password = Seeded {
        password: "not-the-password".into(),
        ..p.seeded.clone()
    };
    let target = target(&p, wrong_password).await;
    let outcome = run(&target, Scenario::Login).await;
    assert_eq!(outcome.stats.count(), 0, "{backend:?}");
    assert!(outcome.stats.errors > 0, "{backend:?}");
    assert!(
        outcome.stats.samples.iter().any(|s| s.contains("login of")),
        "{backend:?}: {:?}",
        outcome.stats.samples
    );
}

/// A rejected token exchange (wrong client secret) fails the flow after the login itself.
async fn a_rejected_token_exchange_counts_as_an_error(backend: Backend) {
    let p = provider(backend).await;
    let wrong_secret = Seeded {
        ent: ClientCreds {
            secret: "wrong-secret".into(),
            ..p.seeded.ent.clone()
        },
        ..p.seeded.clone()
    };
    let target = target(&p, wrong_secret).await;
    for scenario in [Scenario::Login, Scenario::Refresh, Scenario::Introspection] {
        let outcome = run(&target, scenario).await;
        assert_eq!(outcome.stats.count(), 0, "{backend:?} {}", scenario.name());
        assert!(
            outcome.stats.samples.iter().any(|s| s.contains("401")),
            "{backend:?} {}: {:?}",
            scenario.name(),
            outcome.stats.samples
        );
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Embedded).await })*
        }
        mod production {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Production).await })*
        }
    };
}

on_both_backends!(
    every_scenario_completes_without_errors,
    a_failed_login_counts_as_an_error,
    a_rejected_token_exchange_counts_as_an_error,
);
