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
