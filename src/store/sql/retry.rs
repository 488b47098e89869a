//! Surviving a database restart without a ping before every statement (issue #13).
//!
//! A restart breaks every pooled connection at once, and silently: each would fail the next
//! statement sent on it. The rule:
//! - after a connection failure, for [`SUSPICION`], a connection opened before that failure is
//!   pinged when it leaves the pool and replaced if it does not answer (`Suspicion`, sqlx's
//!   `before_acquire`); the rest of the time nothing is pinged;
//! - a statement that leaves the same state and gives the same answer when run twice (a read, an
//!   upsert, an update to given values) is run once more after a connection failure
//!   (`SqlStore::retry`): by then the pool only hands out connections that answered;
//! - a transaction is started once more when starting it failed (`SqlStore::begin`: nothing was
//!   written yet); a statement inside it never is (the import, the refresh rotation);
//! - any other write is run once more only when the error proves it did not take effect
//!   (`SqlStore::retry_if_not_run`).
//!
//! What still fails is a connection failure (`StoreUnavailable`: the HTTP layer answers 503); the
//! pool's own wait for a connection (`PoolTimedOut`, after the store's timeout) is not retried.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Any, Transaction};

use super::SqlStore;
use crate::store::StoreUnavailable;

/// How long after a connection failure older connections are pinged before use.
const SUSPICION: Duration = Duration::from_secs(30);

/// When a connection failure was last seen.
pub(super) struct Suspicion {
    start: Instant,
    /// Milliseconds after `start`, plus one; 0: never.
    failed_at: AtomicU64,
}

impl Suspicion {
    pub(super) fn new() -> Suspicion {
        Suspicion {
            start: Instant::now(),
            failed_at: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }

    fn record(&self) {
        self.failed_at.store(self.now(), Ordering::Relaxed);
    }

    /// A connection opened `age` ago may have been broken by the last failure: it predates it,
    /// and the failure is recent.
    pub(super) fn suspects(&self, age: Duration) -> bool {
        let failed_at = self.failed_at.load(Ordering::Relaxed);
        if failed_at == 0 {
            return false;
        }
        let since = self.now().saturating_sub(failed_at);
        since < SUSPICION.as_millis() as u64 && age.as_millis() as u64 >= since
    }
}

/// The connection, not the statement, failed: I/O, the pool, the protocol, SQLSTATE class 08
/// (connection exception), or the server ending or refusing sessions (57P01 `admin_shutdown`,
/// 57P02 `crash_shutdown`, 57P03 `cannot_connect_now`).
pub fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

/// PostgreSQL ended or refused the session (57P01, 57P02, 57P03): it rolls back the statement it
/// interrupts, and one sent after never ran. (An I/O error proves nothing: the statement may
/// have committed before the connection broke.)
fn did_not_run(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code.starts_with("57P0")),
        _ => false,
    }
}

impl SqlStore {
    /// Runs a statement that may run twice (a read, an upsert, an update to given values): after
    /// a connection failure, once more.
    pub(super) async fn retry<T, F, Fut>(&self, statement: F) -> anyhow::Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.run(statement, is_connection_failure).await
    }

    /// Runs a write that must not run twice: once more only if the failure proves it did not run.
    pub(super) async fn retry_if_not_run<T, F, Fut>(&self, statement: F) -> anyhow::Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.run(statement, did_not_run).await
    }

    /// Starts a transaction, once more if starting it failed on a broken connection.
    pub(super) async fn begin(&self) -> anyhow::Result<Transaction<'static, Any>> {
        self.retry(|| self.pool.begin()).await
    }

    async fn run<T, F, Fut>(
        &self,
        statement: F,
        again: fn(&sqlx::Error) -> bool,
    ) -> anyhow::Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        match statement().await {
            Ok(value) => Ok(value),
            // The pool already waited its whole timeout for a connection.
            Err(error @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)) => {
                Err(self.failed(error))
            }
            Err(error) if again(&error) => {
                self.suspicion.record();
                tracing::info!(%error, "database connection failed: statement run again");
                statement().await.map_err(|error| self.failed(error))
            }
            Err(error) => Err(self.failed(error)),
        }
    }

    /// A connection failure becomes `StoreUnavailable` (and makes older connections suspect).
    fn failed(&self, error: sqlx::Error) -> anyhow::Error {
        if is_connection_failure(&error) {
            self.suspicion.record();
            StoreUnavailable::new("database", error).into()
        } else {
            error.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connections_older_than_a_recent_failure_are_suspect() {
        let suspicion = Suspicion {
            start: Instant::now() - Duration::from_secs(100),
            failed_at: AtomicU64::new(0),
        };
        assert!(
            !suspicion.suspects(Duration::from_secs(3600)),
            "no failure yet"
        );
        let failed_at = |ago: Duration| suspicion.now() - ago.as_millis() as u64;
        suspicion
            .failed_at
            .store(failed_at(Duration::from_secs(1)), Ordering::Relaxed);
        assert!(suspicion.suspects(Duration::from_secs(2)), "opened before");
        assert!(
            !suspicion.suspects(Duration::from_millis(500)),
            "opened after"
        );
        suspicion
            .failed_at
            .store(failed_at(SUSPICION), Ordering::Relaxed);
        assert!(
            !suspicion.suspects(Duration::from_secs(3600)),
            "failure too old"
        );
    }

    #[test]
    fn a_pool_timeout_is_a_connection_failure_a_constraint_is_not() {
        assert!(is_connection_failure(&sqlx::Error::PoolTimedOut));
        assert!(is_connection_failure(&sqlx::Error::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionReset)
        )));
        assert!(!is_connection_failure(&sqlx::Error::RowNotFound));
        assert!(!did_not_run(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset
        ))));
    }
}
