//! Notifying accounts (*notifier un compte*): handing a person their identifier and how to
//! activate the account. This module owns what is sent; choosing the accounts, resetting
//! passwords and recording the notification belong to the domain services that call it.
//!
//! - `letters`: the printable letters (PDF, one A4 page per person), a pure renderer;
//! - `from_notified`: a notification's letters (`establishments::notify` → `letters`).

pub mod account_mail;
pub mod from_notified;
pub mod letters;
