//! Background upkeep of one replica: the purge pass, every `PURGE_EVERY` (expired grants and
//! tokens, retired keys, settled outbox messages, audit events past
//! `backoffice.audit_retention_days`), and the outbox's delivery pass, every
//! `outbox.poll_seconds` (the store's locks keep replicas from running either at once).

use std::time::Duration;

use crate::app::AppState;

pub const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Used refresh tokens are kept this long so that a late reuse is still recognized as one.
pub const KEEP_USED_REFRESH_TOKENS: Duration = Duration::from_secs(24 * 3600);
/// Sent and failed messages (and their sealed bodies) are kept this long, for their delivery
/// status, then deleted.
pub const KEEP_SETTLED_MESSAGES: Duration = Duration::from_secs(30 * 24 * 3600);
const BATCH: i64 = 1000;

/// One purge pass.
pub async fn purge_once(app: &AppState) -> anyhow::Result<crate::store::Purged> {
    let now = app.now_ms();
    let used_before = now - KEEP_USED_REFRESH_TOKENS.as_millis() as i64;
    let mut purged = app.durable.purge(now, used_before, BATCH).await?;
    if !purged.skipped {
        let settled_before = now - KEEP_SETTLED_MESSAGES.as_millis() as i64;
        let messages = app
            .durable
            .purge_settled_messages(settled_before, BATCH)
            .await?;
        if messages > 0 {
            tracing::info!(messages, "purge: settled outbox messages deleted");
        }
        let retention_ms = app.config.backoffice.audit_retention_days as i64 * 86_400_000;
        purged.audit_events = app.durable.purge_events(now - retention_ms, BATCH).await?;
    }
    Ok(purged)
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
                audit_events = purged.audit_events,
                "purge done"
            ),
            Err(error) => tracing::warn!(%error, "purge failed"),
        }
    }
}

/// One outbox delivery pass (`outbox::worker`); `None` when neither an SMTP server nor an SMS
/// operator is configured (the messages stay in the outbox). The pending gauge is updated after it.
pub async fn deliver_once(app: &AppState) -> anyhow::Result<Option<crate::outbox::worker::Pass>> {
    let Some(worker) = app.outbox_worker() else {
        return Ok(None);
    };
    let pass = worker.deliver_due().await?;
    let pending = app.durable.pending_messages().await?;
    metrics::gauge!("educonnect_outbox_pending").set(pending as f64);
    Ok(Some(pass))
}

/// Runs until `stop` turns true: a delivery pass, then one every `outbox.poll_seconds`. A pass
/// under way is finished, not interrupted (a message accepted by the server is marked sent);
/// `serve` waits for it within its grace period. Without an SMTP server or an SMS operator it
/// returns at once.
pub async fn deliver_outbox(app: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    if app.mailer.is_none() {
        tracing::info!("no SMTP server (smtp.url): e-mails stay in the outbox");
    }
    if app.sms.is_none() {
        tracing::info!("no SMS operator (sms.url): SMS stay in the outbox");
    }
    if app.mailer.is_none() && app.sms.is_none() {
        return;
    }
    let every = Duration::from_secs(app.config.outbox.poll_seconds);
    while !*stop.borrow() {
        match deliver_once(&app).await {
            Ok(Some(pass)) if pass.skipped => {
                tracing::debug!("outbox delivery skipped: another replica holds the lock")
            }
            Ok(Some(pass)) if pass.sent + pass.retried + pass.failed > 0 => tracing::info!(
                sent = pass.sent,
                retried = pass.retried,
                failed = pass.failed,
                "outbox delivery pass"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "outbox delivery pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
