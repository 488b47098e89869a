//! The durable store over `sqlx::AnyPool`: one implementation, portable SQL (`$n` placeholders in
//! increasing order, `ON CONFLICT`, `RETURNING`, epoch milliseconds, 0/1 booleans), and one
//! migration folder per dialect.

mod accounts;
mod assistance;
mod audit;
mod backoffice;
mod batch;
mod clients;
mod consents;
mod directory;
mod federation;
mod first_load;
mod grants;
mod identifiers;
mod import_tx;
mod import_write;
mod journal;
mod keys;
mod linking;
mod notify;
mod outbox;
mod purge;
mod retry;
mod staff;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection};

use super::DurableStore;
pub use retry::is_connection_failure;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    /// PostgreSQL's own driver, for what `sqlx::Any` cannot say (`COPY`: `first_load`); one
    /// connection, opened when first used.
    native: Option<sqlx::PgPool>,
    suspicion: Arc<retry::Suspicion>,
    /// The outbox's delivery lock on SQLite (one process; PostgreSQL uses an advisory lock).
    delivery: Arc<tokio::sync::Mutex<()>>,
}

/// How long a statement waits for a connection by default (`store_timeout_seconds`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqlStore {
    /// Connects to `postgres://...` or `sqlite:...` (the SQLite file and its folder are created).
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<SqlStore> {
        Self::connect_with_timeout(url, max_connections, DEFAULT_TIMEOUT).await
    }

    /// Like `connect`; a statement waits at most `timeout` for a connection (the pool's own
    /// retries of a refused connection included), then fails as `StoreUnavailable`.
    pub async fn connect_with_timeout(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> anyhow::Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).context("invalid DATABASE_URL")?;
        // No liveness ping before each query (sqlx's default): it doubles the round trips of
        // every statement. After a connection failure, connections older than it are pinged
        // for a while and replaced if broken; statements safe to run twice are retried
        // (`retry.rs`). Idle connections are closed before a firewall or the server forgets them.
        let suspicion = Arc::new(retry::Suspicion::new());
        let hook = suspicion.clone();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let suspect = hook.suspects(meta.age);
                // `false`: sqlx closes the connection and hands out (or opens) another.
                Box::pin(async move { Ok(!suspect || conn.ping().await.is_ok()) })
            })
            .acquire_timeout(timeout)
            .idle_timeout(std::time::Duration::from_secs(300))
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to the {dialect:?} database"))?;
        if dialect == Dialect::Sqlite {
            // Readers do not block the writer; the busy timeout queues concurrent writers.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let native = match dialect {
            Dialect::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .idle_timeout(std::time::Duration::from_secs(60))
                    // Its statements are a first load's `COPY`s and index builds: seconds each
                    // by design, logged at `debug` (`first_load`) rather than warned about.
                    .connect_lazy_with(sqlx::ConnectOptions::log_slow_statements(
                        url.parse::<sqlx::postgres::PgConnectOptions>()?,
                        tracing::log::LevelFilter::Debug,
                        std::time::Duration::from_secs(1),
                    )),
            ),
            Dialect::Sqlite => None,
        };
        Ok(SqlStore {
            pool,
            dialect,
            native,
            suspicion,
            delivery: Arc::default(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// `sqlite://data/x.db` → create `data/`, and ask SQLite to create the file.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let file = path.split('?').next().unwrap_or_default();
    if file != ":memory:" && !file.is_empty() {
        if let Some(dir) = std::path::Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

#[async_trait]
impl DurableStore for SqlStore {
    async fn ping(&self) -> anyhow::Result<()> {
        // Not retried: readiness reports what the database does now.
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| super::StoreUnavailable::new("database", e))?;
        Ok(())
    }

    async fn purge(
        &self,
        now_ms: i64,
        used_before_ms: i64,
        batch: i64,
    ) -> anyhow::Result<super::Purged> {
        purge::purge(self, now_ms, used_before_ms, batch).await
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.dialect {
            Dialect::Postgres => &POSTGRES,
            Dialect::Sqlite => &SQLITE,
        };
        migrator
            .run(&self.pool)
            .await
            .context("database migration failed")?;
        Ok(())
    }
}

/// 0/1 columns.
fn flag(value: bool) -> i64 {
    i64::from(value)
}
