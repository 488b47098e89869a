//! A store that does not answer (a restart, an outage): the error the backends return for it, and
//! the one test the HTTP layer makes to answer 503 with `Retry-After` rather than 500.

/// The database or Redis did not answer, even after the retry the backend allows itself.
#[derive(Debug, thiserror::Error)]
#[error("the {store} is unavailable")]
pub struct StoreUnavailable {
    /// `database` or `ephemeral store`.
    pub store: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreUnavailable {
    pub fn new(
        store: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreUnavailable {
        StoreUnavailable {
            store,
            source: Box::new(source),
        }
    }

    /// True if `error` comes from a store that did not answer: a `StoreUnavailable`, or a driver
    /// error that a backend classifies as a connection failure (a statement inside a
    /// transaction is not retried, so its error reaches the caller unwrapped).
    pub fn caused(error: &anyhow::Error) -> bool {
        error.chain().any(|cause| {
            cause.is::<StoreUnavailable>()
                || cause
                    .downcast_ref::<sqlx::Error>()
                    .is_some_and(super::sql::is_connection_failure)
                || cause
                    .downcast_ref::<redis::RedisError>()
                    .is_some_and(super::ephemeral::is_connection_failure)
        })
    }
}
