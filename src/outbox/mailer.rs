//! What the outbox worker sends e-mail through: one production adapter (`smtp::SmtpMailer`),
//! and whatever a test needs. The worker decides from the error's kind whether to try again.

use async_trait::async_trait;

use super::Email;

/// Why a message was not accepted. The text is the server's answer (or the connection's
/// failure), never the message's body: it is kept as the message's `last_error`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt later: the server unreachable or timing out, an SMTP 4xx reply.
    #[error("{0}")]
    Transient(String),
    /// Will fail again: an SMTP 5xx reply (unknown mailbox, message refused), an address that
    /// cannot be written.
    #[error("{0}")]
    Permanent(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands `email` to the mail system. `id` (the outbox message's) names it in its
    /// `Message-ID`, the same at every attempt, so that a rare duplicate can be recognized.
    /// `Ok` once the server accepted it.
    async fn send(&self, id: &str, email: &Email) -> Result<(), SendError>;
}
