//! Linking accounts by hand, after the import: a guardian attaches a child with proof (the
//! child's login and password, or a code the establishment handed out: `attach.rs`), and two
//! accounts the import could not tell apart (`link_candidates`) are merged once the guardian,
//! with the other account's credentials, or an establishment confirms they are one person
//! (`candidates.rs`, which holds the one way a candidate is resolved). Only a pupil can be
//! attached, and only to a guardian or person in charge: never one adult to another.
//!
//! The flows take what they use (`Linker`), never `App`: the store's linking and account traits,
//! the attempt counters, the clock, and `Sessions` to end an absorbed account's sessions.

mod attach;
mod candidates;
mod codes;
pub mod model;

pub use attach::attach_child;
pub use candidates::{confirm_candidate, decline_candidate, resolve};
pub use codes::{code_digest, new_code, CODE_DAYS};
pub use model::{
    AttachmentCode, CandidateAccount, CodeOutcome, LinkCandidate, Resolution, Resolved,
};

use crate::accounts::credentials::{self, Checked, Verifier};
use crate::accounts::sessions::Sessions;
use crate::accounts::Account;
use crate::secrets::Secret;
use crate::store::LinkingStore;

/// What the guardian's linking flows need, and nothing more.
#[derive(Clone, Copy)]
pub struct Linker<'a> {
    /// The accounts, the attempt counters, the throttle settings and the clock: a proof by
    /// password needs them all, and a code is throttled and timed with the same.
    pub verifier: Verifier<'a>,
    pub links: &'a dyn LinkingStore,
    /// A merged account's sessions end with the merge.
    pub sessions: &'a dyn Sessions,
}

impl Linker<'_> {
    fn now_ms(&self) -> i64 {
        self.verifier.clock.now_ms()
    }
}

/// Why an attachment or a confirmation was refused (French, for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Identifiant ou mot de passe incorrect.")]
    WrongCredentials,
    #[error("Ce code n'est pas valable : il est inconnu, a expiré ou a déjà servi.")]
    InvalidCode,
    #[error("Trop de tentatives. Réessayez dans quelques minutes.")]
    Throttled,
    #[error("Seul un compte d'élève peut être rattaché à un compte de responsable.")]
    NotAPupil,
    #[error("Seul un responsable peut rattacher un enfant à son compte.")]
    NotAGuardian,
    #[error("Cet enfant est déjà rattaché à votre compte.")]
    AlreadyAttached,
    #[error("Ce compte ne fait pas partie des rapprochements proposés pour le vôtre.")]
    NotACandidate,
}

/// The proof a guardian gives that a child is theirs.
pub enum Proof {
    /// The child's own login and password.
    Credentials { login: String, password: Secret },
    /// A code from the child's establishment.
    Code(String),
}

/// The account behind a login and password, checked like a login.
async fn checked_credentials(
    verifier: &Verifier<'_>,
    login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    Ok(
        match credentials::check(verifier, login, password, address, None).await? {
            Checked::Valid(account) | Checked::Temporary(account) => Ok(account),
            Checked::Wrong { .. } | Checked::TemporaryExpired { .. } => {
                Err(Refusal::WrongCredentials)
            }
            Checked::Throttled => Err(Refusal::Throttled),
        },
    )
}
