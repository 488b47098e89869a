//! Notifying accounts (*notifier un compte*): handing a person their identifier and how to
//! activate the account. This module owns what is sent; choosing the accounts, resetting
//! passwords and recording the notification belong to the domain services that call it.
//!
//! - `letters`: the printable letters (PDF, one A4 page per person), a pure renderer;
//! - `from_notified`: a notification's letters (`establishments::notify` → `letters`);
//! - `email`: the same content as a French e-mail (text and HTML), sealed for the outbox;
//! - `identifiers`: an establishment's identifiers file (CSV, and PDF with the letters' fonts);
//! - `run`: a whole notification as the CLI and the API ask for it (a flow, taking the `App`).

pub mod account_mail;
pub mod email;
pub mod from_notified;
pub mod identifiers;
pub mod letters;
pub mod run;
pub mod sms;
