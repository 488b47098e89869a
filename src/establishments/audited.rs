//! The audit trail of the back-office's operations on accounts (`crate::audit`): each done, and
//! each refused (outside the actor's rights, or waiting for the second factor), with who acted,
//! on whom, where and from where. Never a secret in it: no password, no code.

use super::{Actor, OperationError};
use crate::audit::{self, Action, Event, Outcome};
use crate::siecle::Uai;
use crate::store::AuditStore;

/// `subject` of an event on an account.
pub fn account_subject(account_id: &str) -> String {
    format!("account:{account_id}")
}

/// Records that `actor` did `action` on `subject` at `uai`.
pub async fn done(
    audit: &dyn AuditStore,
    actor: &Actor,
    uai: &Uai,
    subject: Option<&str>,
    action: Action,
    detail: Option<String>,
    now_ms: i64,
) {
    let mut event =
        Event::new(actor.label(), action, Outcome::Ok, now_ms).at_establishment(uai.as_str());
    if let Some(subject) = subject {
        event = event.on(subject);
    }
    if let Some(detail) = detail {
        event = event.detail(detail);
    }
    audit::record_by(audit, actor, event).await
}

/// Records what `result` says of `attempted`: its refusal, if it was refused.
pub async fn refusal_of<T>(
    audit: &dyn AuditStore,
    actor: &Actor,
    uai: &Uai,
    subject: Option<&str>,
    attempted: Action,
    result: Result<T, OperationError>,
    now_ms: i64,
) -> Result<T, OperationError> {
    if let Err(error) = &result {
        let uai = Some(uai.as_str());
        audit::refused(
            audit,
            actor,
            attempted.as_str(),
            subject,
            uai,
            error,
            now_ms,
        )
        .await;
    }
    result
}
