//! The outbox opened for the demo page (`/demo/outbox`): the last messages with their status
//! and their bodies. Only the demo shows bodies; the administration API never does.

use super::{DeliveryStatus, Message};
use crate::store::OutboxStore;
use crate::tokens::kek::Kek;

/// A message as the demo page shows it.
pub struct Opened {
    pub status: DeliveryStatus,
    /// `None` if the body does not open with this key.
    pub message: Option<Message>,
}

/// The last `limit` messages, newest first, opened with `kek`.
pub async fn recent(store: &dyn OutboxStore, kek: &Kek, limit: i64) -> anyhow::Result<Vec<Opened>> {
    let queued = store.recent_messages(limit).await?;
    Ok(queued
        .iter()
        .map(|q| Opened {
            status: DeliveryStatus::from(q),
            message: q.message.open(kek).ok(),
        })
        .collect())
}

/// One message, opened; `None` if there is no such message.
pub async fn one(store: &dyn OutboxStore, kek: &Kek, id: &str) -> anyhow::Result<Option<Opened>> {
    Ok(store.message(id).await?.map(|q| Opened {
        status: DeliveryStatus::from(&q),
        message: q.message.open(kek).ok(),
    }))
}
