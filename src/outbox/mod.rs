//! The durable outbox (DESIGN.md, "Outgoing messages"): every message the service sends — a
//! notification e-mail, an e-mail code, a "password changed" notice, an SMS code — is a row of
//! the `outbox` table, written in the same transaction as what caused it, and delivered later by
//! the outbox worker, which one replica at a time runs. Nothing is sent from a request.
//!
//! A message's body is sealed with the key-encryption key before it is stored (it may carry a
//! temporary password or a code); its recipient, subject and status stay readable, for the
//! delivery status and the demo outbox page.
//!
//! The delivery: `worker.rs` (one pass over the due messages, under the store's delivery lock,
//! with retries and backoff), `mailer.rs` (the `Mailer` trait the worker sends through),
//! `smtp.rs` (the production `Mailer`, SMTP through lettre), `sms.rs` (the `SmsGateway` trait,
//! the same for SMS), `sms_http.rs` (the production `SmsGateway`, an SMS operator's HTTP API),
//! `status.rs` (an attempt's outcome, a message's status as shown), `opened.rs` (the last
//! messages opened, for the demo page).

pub mod mailer;
pub mod opened;
pub mod sms;
pub mod sms_http;
pub mod smtp;
pub mod status;
pub mod worker;

pub use mailer::{Mailer, SendError};
pub use sms::SmsGateway;
pub use status::{Attempt, DeliveryStatus};

use serde::{Deserialize, Serialize};

use crate::tokens::kek::Kek;

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(value: &str) -> Option<Channel> {
        match value {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
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
    /// A code sent by SMS: a guardian's self-registration, a recovery, a new mobile number.
    SmsCode,
    /// A link that sets a new password (password forgotten, by e-mail).
    RecoveryLink,
    /// The login identifier, to the account's confirmed contact (identifier forgotten).
    IdentifierReminder,
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
            Purpose::SmsCode => "sms_code",
            Purpose::RecoveryLink => "recovery_link",
            Purpose::IdentifierReminder => "identifier_reminder",
            Purpose::AssistanceFiled => "assistance_filed",
            Purpose::AssistanceUpdate => "assistance_update",
        }
    }

    pub fn parse(value: &str) -> Option<Purpose> {
        match value {
            "notification" => Some(Purpose::Notification),
            "email_code" => Some(Purpose::EmailCode),
            "password_changed" => Some(Purpose::PasswordChanged),
            "sms_code" => Some(Purpose::SmsCode),
            "recovery_link" => Some(Purpose::RecoveryLink),
            "identifier_reminder" => Some(Purpose::IdentifierReminder),
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

/// An SMS: a mobile number as Siècle and the forms write it (`0612345678`) and its text, in
/// French, without a link (a code or an identifier).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sms {
    pub to: String,
    pub text: String,
}

impl Sms {
    /// The number in E.164 (`+33612345678`), as SMS operators take it.
    pub fn international_number(&self) -> String {
        match self.to.strip_prefix('0') {
            Some(national) => format!("+33{national}"),
            None => self.to.clone(),
        }
    }
}

/// A message opened: what the worker hands to the channel's sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Email(Email),
    Sms(Sms),
}

/// What is sealed: the parts of a message that may carry a secret (an SMS has no HTML).
#[derive(Serialize, Deserialize)]
struct Body {
    text: String,
    #[serde(default)]
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

    /// `sms`, sealed with `kek`, for the outbox; its subject is what it is for, in French
    /// (shown in its delivery status; an SMS has none of its own).
    pub fn sms(
        kek: &Kek,
        sms: &Sms,
        purpose: Purpose,
        account_id: Option<&str>,
        now_ms: i64,
    ) -> anyhow::Result<Outgoing> {
        let id = crate::secrets::random_b64(12);
        let body = serde_json::to_vec(&Body {
            text: sms.text.clone(),
            html: String::new(),
        })?;
        Ok(Outgoing {
            sealed_body: kek.seal(&seal_label(&id), &body)?,
            id,
            channel: Channel::Sms,
            recipient: sms.to.clone(),
            subject: sms_subject(purpose).to_owned(),
            purpose,
            account_id: account_id.map(str::to_owned),
            created_at: now_ms,
        })
    }

    fn open_body(&self, kek: &Kek) -> anyhow::Result<Body> {
        Ok(serde_json::from_slice(
            &kek.open(&seal_label(&self.id), &self.sealed_body)?,
        )?)
    }

    /// The message again, its body opened with `kek` (the worker sending it; the demo page).
    pub fn open(&self, kek: &Kek) -> anyhow::Result<Message> {
        let body = self.open_body(kek)?;
        Ok(match self.channel {
            Channel::Email => Message::Email(Email {
                to: self.recipient.clone(),
                subject: self.subject.clone(),
                text: body.text,
                html: body.html,
            }),
            Channel::Sms => Message::Sms(Sms {
                to: self.recipient.clone(),
                text: body.text,
            }),
        })
    }

    /// The e-mail again, its body opened with `kek`; an error for an SMS.
    pub fn open_email(&self, kek: &Kek) -> anyhow::Result<Email> {
        match self.open(kek)? {
            Message::Email(email) => Ok(email),
            Message::Sms(_) => anyhow::bail!("message {} is an SMS", self.id),
        }
    }

    /// The SMS again, its body opened with `kek`; an error for an e-mail.
    pub fn open_sms(&self, kek: &Kek) -> anyhow::Result<Sms> {
        match self.open(kek)? {
            Message::Sms(sms) => Ok(sms),
            Message::Email(_) => anyhow::bail!("message {} is an e-mail", self.id),
        }
    }
}

/// What an SMS is for, as its delivery status names it.
fn sms_subject(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::SmsCode => "Code de vérification par SMS",
        Purpose::IdentifierReminder => "Rappel de l'identifiant par SMS",
        _ => "SMS",
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
            Purpose::SmsCode,
            Purpose::RecoveryLink,
            Purpose::IdentifierReminder,
            Purpose::AssistanceFiled,
            Purpose::AssistanceUpdate,
        ] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        for s in [Status::Pending, Status::Sent, Status::Failed] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Channel::parse("email"), Some(Channel::Email));
        assert_eq!(Channel::parse("sms"), Some(Channel::Sms));
        assert_eq!(Channel::parse("fax"), None);
    }

    #[test]
    fn an_sms_is_sealed_and_opens_as_an_sms_only() {
        let sms = Sms {
            to: "0639980103".into(),
            text: "EduConnect : votre code est 123456".into(),
        };
        let kek = kek();
        let outgoing = Outgoing::sms(&kek, &sms, Purpose::SmsCode, None, 5).unwrap();
        assert!(!outgoing.sealed_body.contains("123456"));
        assert_eq!(outgoing.channel, Channel::Sms);
        assert_eq!(outgoing.open_sms(&kek).unwrap(), sms);
        assert!(outgoing.open_email(&kek).is_err());
        assert_eq!(sms.international_number(), "+33639980103");
    }
}
