//! What the outbox worker sends SMS through: one production adapter (`sms_http::HttpSmsGateway`,
//! an SMS operator's HTTP API), and in the tests a faithful local fake operator behind that
//! same adapter. The worker decides from the error's kind whether to try again, as for e-mail.

use async_trait::async_trait;

use super::{SendError, Sms};

#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Hands `sms` to the operator. `id` (the outbox message's) goes with it as the client's
    /// reference, the same at every attempt. `Ok` once the operator accepted it.
    async fn send(&self, id: &str, sms: &Sms) -> Result<(), SendError>;
}
