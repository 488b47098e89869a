//! A message's delivery as the store records it (`Attempt`, what one attempt came to) and as it
//! is shown (`DeliveryStatus`: everything but the body, for the administration API).

use serde::Serialize;

use super::Queued;

/// What one delivery attempt came to, as the worker records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The server accepted the message at `at`.
    Sent { at: i64 },
    /// A transient failure: tried again at `next_attempt_at`.
    Retry { next_attempt_at: i64, error: String },
    /// Refused for good, or out of attempts.
    Failed { error: String },
}

/// A message's delivery status, without its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryStatus {
    pub id: String,
    pub channel: &'static str,
    pub recipient: String,
    pub subject: String,
    pub purpose: &'static str,
    pub account_id: Option<String>,
    pub status: &'static str,
    pub attempts: i64,
    /// When the worker tries again; only while pending.
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

impl From<&Queued> for DeliveryStatus {
    fn from(queued: &Queued) -> DeliveryStatus {
        let m = &queued.message;
        DeliveryStatus {
            id: m.id.clone(),
            channel: m.channel.as_str(),
            recipient: m.recipient.clone(),
            subject: m.subject.clone(),
            purpose: m.purpose.as_str(),
            account_id: m.account_id.clone(),
            status: queued.status.as_str(),
            attempts: queued.attempts,
            next_attempt_at: (queued.status == super::Status::Pending)
                .then_some(queued.next_attempt_at),
            last_error: queued.last_error.clone(),
            created_at: m.created_at,
            sent_at: queued.sent_at,
        }
    }
}
