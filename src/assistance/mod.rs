//! Assistance requests (*demandes d'assistance*): what an establishment's staff — or a national
//! operator, on behalf of a guardian who called or wrote — asks the assistance of its académie
//! about accounts (an account missing after the import, a child that cannot be linked, an
//! activation that fails). A request is routed to the académie its establishment's UAI belongs
//! to (`Uai::academy`); it goes `open` → `in_progress` → `closed`, and may be reopened.
//!
//! The records are `model.rs`; filing is `file.rs`, reading (an establishment's requests, an académie's
//! queue, one request) `read.rs`, comments and status changes `update.rs`, the e-mails that
//! tell the académie and the requester `mail.rs`. Each function checks the `Actor` itself and
//! writes the audit trail; a change and the e-mails it causes are written in one transaction.

mod file;
mod mail;
pub mod model;
mod read;
mod update;

use crate::audit;
use crate::establishments::{Actor, OperationError};
use crate::store::{AccountStore, AssistanceStore, AuditStore, DirectoryStore, StaffStore};
use crate::tokens::kek::Kek;

pub use file::{file, AccountRef, Filing, MAX_ACCOUNTS, MAX_DESCRIPTION};
pub use model::{AssistanceEvent, AssistanceRequest, Category, Concerned, Field, OnBehalf, Status};
pub use read::{establishment_requests, queue, request, Access, Detail, QueueFilter};
pub use update::{update, Change};

/// What the assistance functions need.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    pub requests: &'a dyn AssistanceStore,
    pub accounts: &'a dyn AccountStore,
    pub directory: &'a dyn DirectoryStore,
    pub staff: &'a dyn StaffStore,
    pub audit: &'a dyn AuditStore,
    /// Seals the e-mails' bodies for the outbox.
    pub kek: &'a Kek,
    /// The provider's public URL (the issuer), for the links in the e-mails.
    pub service_url: &'a str,
}

fn invalid(field: Field, message: impl Into<String>) -> OperationError {
    OperationError::InvalidAssistance {
        field,
        message: message.into(),
    }
}

/// A request's number: `DA-` and eight characters that read without ambiguity (no 0/O, 1/I/L).
fn new_number() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut pick = || ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
    let first: String = (0..4).map(|_| pick()).collect();
    let second: String = (0..4).map(|_| pick()).collect();
    format!("DA-{first}-{second}")
}

/// Free text as the requests keep it: trimmed, between 1 and `max` characters, no control
/// character but line breaks and tabs.
fn text(value: &str, max: usize) -> Option<String> {
    let value = value.trim();
    let fits = !value.is_empty()
        && value.chars().count() <= max
        && !value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    fits.then(|| value.replace("\r\n", "\n"))
}

/// Records a refusal (outside the actor's rights, or without the second factor).
async fn refused(
    desk: &Desk<'_>,
    actor: &Actor,
    attempted: &str,
    subject: String,
    uai: Option<&str>,
    error: &OperationError,
    now_ms: i64,
) {
    audit::refused(
        desk.audit,
        actor,
        attempted,
        Some(&subject),
        uai,
        error,
        now_ms,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_request_is_only_reopened_and_no_change_is_to_the_same_status() {
        assert!(Status::Open.may_become(Status::InProgress));
        assert!(Status::Open.may_become(Status::Closed));
        assert!(Status::InProgress.may_become(Status::Closed));
        assert!(Status::Closed.may_become(Status::Open));
        assert!(!Status::Closed.may_become(Status::InProgress));
        assert!(!Status::Open.may_become(Status::Open));
    }

    #[test]
    fn names_read_back_and_numbers_avoid_ambiguous_characters() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        let number = new_number();
        assert_eq!(number.len(), 12, "{number}");
        assert!(number.starts_with("DA-"));
        assert!(!number[3..].contains(['0', 'O', '1', 'I', 'L']));
    }

    #[test]
    fn free_text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            text("  Bonjour\r\nmerci ", 20).as_deref(),
            Some("Bonjour\nmerci")
        );
        assert_eq!(text("   ", 20), None);
        assert_eq!(text(&"é".repeat(21), 20), None);
        assert_eq!(
            text(&"é".repeat(20), 20).map(|t| t.chars().count()),
            Some(20)
        );
        assert_eq!(text("a\u{7}b", 20), None);
    }
}
