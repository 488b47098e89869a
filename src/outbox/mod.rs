//! The durable outbox (DESIGN.md, "Outgoing messages"): every message the service sends — a
//! notification e-mail, an e-mail code, a "password changed" notice; SMS with issue #17 — is a
//! row of the `outbox` table, written in the same transaction as what caused it, and delivered
//! later by the outbox worker, which one replica at a time runs. Nothing is sent from a request.
//!
//! A message's body is sealed with the key-encryption key before it is stored (it may carry a
//! temporary password or a code); its recipient, subject and status stay readable, for the
//! delivery status and the demo outbox page.
//!
//! The delivery: `worker.rs` (one pass over the due messages, under the store's delivery lock,
//! with retries and backoff), `mailer.rs` (the `Mailer` trait the worker sends through),
//! `smtp.rs` (the production `Mailer`, SMTP through lettre), `status.rs` (an attempt's outcome,
//! a message's status as shown), `opened.rs` (the last messages opened, for the demo page).

pub mod mailer;
pub mod opened;
pub mod smtp;
pub mod status;
pub mod worker;

pub use mailer::{Mailer, SendError};
pub use status::{Attempt, DeliveryStatus};

use serde::{Deserialize, Serialize};

use crate::tokens::kek::Kek;

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
        }
    }

    pub fn parse(value: &str) -> Option<Channel> {
        match value {
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// Why a message is sent (what a support agent reads in its delivery status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A notification: the identifier and a temporary password (or "your password stays").
    Notification,
    /// A code confirming an e-mail address.
    EmailCode,
    /// The account's password was changed.
    PasswordChanged,
    // Assistance requests (`crate::assistance`):
    /// A new assistance request, to the agents of its académie.
    AssistanceFiled,
    /// A comment on, or a change of status of, an assistance request, to whoever filed it.
    AssistanceUpdate,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Notification => "notification",
            Purpose::EmailCode => "email_code",
            Purpose::PasswordChanged => "password_changed",
            Purpose::AssistanceFiled => "assistance_filed",
            Purpose::AssistanceUpdate => "assistance_update",
        }
    }

    pub fn parse(value: &str) -> Option<Purpose> {
        match value {
            "notification" => Some(Purpose::Notification),
            "email_code" => Some(Purpose::EmailCode),
            "password_changed" => Some(Purpose::PasswordChanged),
            "assistance_filed" => Some(Purpose::AssistanceFiled),
            "assistance_update" => Some(Purpose::AssistanceUpdate),
            _ => None,
        }
    }
}

/// Where a message is in its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the worker (or for its next attempt, after a failure).
    Pending,
    Sent,
    /// Given up: refused for good by the server, or out of attempts.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        match value {
            "pending" => Some(Status::Pending),
            "sent" => Some(Status::Sent),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

/// An e-mail, in French, as plain text and HTML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What is sealed: the parts of a message that may carry a secret.
#[derive(Serialize, Deserialize)]
struct Body {
    text: String,
    html: String,
}

/// A message ready to be written to the outbox: its body already sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub id: String,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub purpose: Purpose,
    /// The account it concerns, for its delivery status.
    pub account_id: Option<String>,
    pub sealed_body: String,
    pub created_at: i64,
}

/// The additional data the body is sealed with: a body cannot be moved to another message.
fn seal_label(id: &str) -> String {
    format!("outbox {id}")
}

impl Outgoing {
    /// `email`, sealed with `kek`, for the outbox.
    pub fn email(
        kek: &Kek,
        email: &Email,
        purpose: Purpose,
        account_id: Option<&str>,
        now_ms: i64,
    ) -> anyhow::Result<Outgoing> {
        let id = crate::secrets::random_b64(12);
        let body = serde_json::to_vec(&Body {
            text: email.text.clone(),
            html: email.html.clone(),
        })?;
        Ok(Outgoing {
            sealed_body: kek.seal(&seal_label(&id), &body)?,
            id,
            channel: Channel::Email,
            recipient: email.to.clone(),
            subject: email.subject.clone(),
            purpose,
            account_id: account_id.map(str::to_owned),
            created_at: now_ms,
        })
    }

    /// The e-mail again, its body opened with `kek` (the worker sending it; the demo page).
    pub fn open_email(&self, kek: &Kek) -> anyhow::Result<Email> {
        let body: Body =
            serde_json::from_slice(&kek.open(&seal_label(&self.id), &self.sealed_body)?)?;
        Ok(Email {
            to: self.recipient.clone(),
            subject: self.subject.clone(),
            text: body.text,
            html: body.html,
        })
    }
}

/// A message in the outbox, with its delivery status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub message: Outgoing,
    pub status: Status,
    /// Delivery attempts made so far.
    pub attempts: i64,
    /// When the worker tries (again), for a pending message.
    pub next_attempt_at: i64,
    /// Why the last attempt failed (the server's answer, never the body).
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    fn kek() -> Kek {
        Kek::from_b64(&URL_SAFE_NO_PAD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn a_body_is_sealed_and_opens_only_for_its_own_message() {
        let email = Email {
            to: "claire.martin@example.org".into(),
            subject: "Votre compte ÉduConnect".into(),
            text: "Mot de passe provisoire : abcd-efgh-jkmn".into(),
            html: "<p>Mot de passe provisoire : <strong>abcd-efgh-jkmn</strong></p>".into(),
        };
        let kek = kek();
        let outgoing = Outgoing::email(&kek, &email, Purpose::Notification, Some("a1"), 5).unwrap();
        assert!(!outgoing.sealed_body.contains("abcd"));
        assert_eq!(outgoing.open_email(&kek).unwrap(), email);
        let mut moved = outgoing.clone();
        moved.id = "another".into();
        assert!(moved.open_email(&kek).is_err());
    }

    #[test]
    fn the_stored_names_read_back() {
        for p in [
            Purpose::Notification,
            Purpose::EmailCode,
            Purpose::PasswordChanged,
            Purpose::AssistanceFiled,
            Purpose::AssistanceUpdate,
        ] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        for s in [Status::Pending, Status::Sent, Status::Failed] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Channel::parse("email"), Some(Channel::Email));
        assert_eq!(Channel::parse("sms"), None);
    }
}
