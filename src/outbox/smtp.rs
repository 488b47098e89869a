//! The production `Mailer`: SMTP through lettre (async on tokio, rustls), each message
//! multipart/alternative (plain text, then HTML), UTF-8, its French subject encoded as RFC 2047
//! words by lettre. One connection per message (no pool): a pass sends a few dozen at most, and
//! a connection broken by a server restart is never reused.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Email, Mailer, SendError};
use crate::config::SmtpConfig;

/// Longest `last_error` kept: a server's answer, not a novel.
const MAX_ERROR_CHARS: usize = 500;

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain of `Message-ID`s: the sender's.
    domain: String,
}

impl SmtpMailer {
    /// The mailer of `config` (already validated), saying `EHLO hello_name` (the issuer's host).
    pub fn new(config: &SmtpConfig, hello_name: &str) -> anyhow::Result<SmtpMailer> {
        let address: Address = config.from_address.parse().context("smtp.from_address")?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .context("smtp.url")?
            .hello_name(ClientId::Domain(hello_name.to_owned()))
            .timeout(Some(Duration::from_secs(config.timeout_seconds)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            domain: address.domain().to_owned(),
            from: Mailbox::new(Some(config.from_name.clone()), address),
        })
    }

    fn message(&self, id: &str, email: &Email) -> Result<Message, SendError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("adresse du destinataire invalide : {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{id}@{}>", self.domain)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(email.html.clone()),
                    ),
            )
            .map_err(|e| SendError::Permanent(format!("message impossible à composer : {e}")))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, id: &str, email: &Email) -> Result<(), SendError> {
        let message = self.message(id, email)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(classify(&error)),
        }
    }
}

/// RFC 5321 §4.2.1: a 5yz reply is permanent, a 4yz one transient; so is everything that is not
/// a reply (no connection, a timeout, TLS), since the server may answer later.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    // lettre's text carries the reply's code and lines, or the cause of the failure.
    let text: String = error.to_string().chars().take(MAX_ERROR_CHARS).collect();
    if error.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}
