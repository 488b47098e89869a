//! Background upkeep of one replica: the purge pass, every `PURGE_EVERY` (the store's lock keeps
//! replicas from running it at once).

use std::time::Duration;

use crate::app::AppState;

pub const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Used refresh tokens are kept this long so that a late reuse is still recognized as one.
pub const KEEP_USED_REFRESH_TOKENS: Duration = Duration::from_secs(24 * 3600);
const BATCH: i64 = 1000;

/// One purge pass.
pub async fn purge_once(app: &AppState) -> anyhow::Result<crate::store::Purged> {
    let now = app.now_ms();
    let used_before = now - KEEP_USED_REFRESH_TOKENS.as_millis() as i64;
    app.durable.purge(now, used_before, BATCH).await
}

/// Runs forever: a pass now, then one every `PURGE_EVERY`.
pub async fn run(app: AppState) {
    let mut ticker = tokio::time::interval(PURGE_EVERY);
    loop {
        ticker.tick().await;
        match purge_once(&app).await {
            Ok(purged) if purged.skipped => {
                tracing::debug!("purge skipped: another replica holds the lock")
            }
            Ok(purged) if purged == crate::store::Purged::default() => {
                tracing::debug!("purge: nothing to remove")
            }
            Ok(purged) => tracing::info!(
                grants = purged.grants,
                refresh_tokens = purged.refresh_tokens,
                keys = purged.keys,
                "purge done"
            ),
            Err(error) => tracing::warn!(%error, "purge failed"),
        }
    }
}
