//! The audit trail: every back-office action and every security event of an account (sign-ins
//! and their failures, password changes, resets, notifications, delegations), in the durable
//! store — who, on whom, what, when, from where, with what outcome. Read by the head for their
//! establishment and by operators; purged after `backoffice.audit_retention_days` by the purge
//! job (`maintenance`). Never a secret in it: no password, no code, no token.
//!
//! `event.rs` holds the records (the store imports them); this file writes them.

pub mod event;

pub use event::{Action, Event, Outcome};

use crate::store::AuditStore;

/// Records `event`. A failure to record is logged, never hidden, and never undoes what was
/// done (the action happened; the log line names it).
pub async fn record(store: &dyn AuditStore, event: Event) {
    if let Err(error) = store.record_event(&event).await {
        tracing::error!(%error, action = %event.action, actor = %event.actor, "audit event not recorded");
    }
}

/// Records what an actor did: the actor's label and address.
pub async fn record_by(store: &dyn AuditStore, actor: &crate::establishments::Actor, event: Event) {
    let event = Event {
        actor: actor.label().to_owned(),
        address: event.address.or_else(|| actor.address().map(str::to_owned)),
        ..event
    };
    record(store, event).await
}

/// Records that `actor` was refused `attempted` (an `Action` name) when `error` is a refusal:
/// outside the actor's rights, or the second factor missing (anything else is no refusal, and
/// nothing is recorded). `subject` and `uai` say what it was about, when known.
pub async fn refused(
    store: &dyn AuditStore,
    actor: &crate::establishments::Actor,
    attempted: &str,
    subject: Option<&str>,
    uai: Option<&str>,
    error: &crate::establishments::OperationError,
    now_ms: i64,
) {
    use crate::establishments::OperationError;
    let why = match error {
        OperationError::OutOfScope => "hors périmètre",
        OperationError::SecondFactorRequired => "second facteur requis",
        _ => return,
    };
    let mut event = Event::new(actor.label(), Action::Refused, Outcome::Refused, now_ms)
        .detail(format!("{attempted} ({why})"));
    if let Some(subject) = subject {
        event = event.on(subject);
    }
    if let Some(uai) = uai {
        event = event.at_establishment(uai);
    }
    record_by(store, actor, event).await
}
