//! The delivery status of outgoing messages (`crate::outbox`), for support: one message, or the
//! messages about one account. Recipient, subject, purpose and status; never the body (it may
//! carry a temporary password or a code). National scope only for now: a message names no
//! establishment, and the administration tokens are national (ADR 0007).

use super::{Actor, OperationError, Right};
use crate::outbox::DeliveryStatus;
use crate::store::OutboxStore;

fn require_national(actor: &Actor) -> Result<(), OperationError> {
    actor.require_national(Right::Guardians)
}

/// One message's delivery status; `None` if there is no such message.
pub async fn message_status(
    actor: &Actor,
    outbox: &dyn OutboxStore,
    id: &str,
) -> Result<Option<DeliveryStatus>, OperationError> {
    require_national(actor)?;
    Ok(outbox.message(id).await?.as_ref().map(DeliveryStatus::from))
}

/// The messages about an account, newest first.
pub async fn account_messages(
    actor: &Actor,
    outbox: &dyn OutboxStore,
    account_id: &str,
) -> Result<Vec<DeliveryStatus>, OperationError> {
    require_national(actor)?;
    let queued = outbox.account_messages(account_id).await?;
    Ok(queued.iter().map(DeliveryStatus::from).collect())
}
