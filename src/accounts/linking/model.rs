//! The linking records the durable store exchanges (`store::LinkingStore`): candidates, how one
//! is resolved, attachment codes. Rows, not behaviour; nothing here imports `store` or `app`,
//! since the store imports this file.

use serde::Serialize;

/// The kind of the establishment notice left when a guardian says a pupil linked to them is
/// not their child (`LinkingStore::dispute_link`).
pub const DISPUTED_LINK_NOTICE: &str = "disputed_link";

/// Two accounts that may be one guardian, as shown for confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkCandidate {
    pub account: CandidateAccount,
    pub other: CandidateAccount,
    /// Why the import could not decide (French, for people).
    pub reason: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CandidateAccount {
    pub id: String,
    pub login: String,
    pub given_name: String,
    pub family_name: String,
}

/// How a candidate is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// One person: the other account's records and attached children move to `keep`, and the
    /// other account is disabled (`merged_into`), its grants revoked.
    Merge { keep: &'a str },
    /// Two people: the candidate is closed and the import will not propose it again.
    Reject,
}

/// What became of a resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    Done,
    /// No open candidate between these two accounts.
    NotFound,
}

/// What using an attachment code did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeOutcome {
    /// The pupil's account, now attached.
    Attached(String),
    AlreadyAttached,
    Invalid,
}

/// A code to attach a pupil, as stored (the code itself is shown once, never kept).
pub struct AttachmentCode {
    pub digest: String,
    pub pupil_id: String,
    pub created_at: i64,
    pub expires_at: i64,
}
