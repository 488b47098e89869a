//! Linking accounts by hand, after the import: a guardian attaches a child with proof (the
//! child's login and password, or a code the establishment handed out), and two accounts the
//! import could not tell apart (`link_candidates`) are merged once the guardian, with the other
//! account's credentials, or an administrator confirms they are one person. Only a pupil can be
//! attached, and only to a guardian or person in charge: never one adult to another.

use serde::Serialize;

use crate::accounts::credentials::{self, Checked};
use crate::accounts::{throttle, Account, Profile};
use crate::app::App;
use crate::secrets::{digest, Secret};

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

/// How long a code handed out by an establishment can be used.
pub const CODE_DAYS: i64 = 30;
/// Unambiguous letters and digits (no I, L, O, U; no 0, 1): read off paper and typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
const CODE_LENGTH: usize = 12;

/// A new code, as shown (`ABCD-EFGH-JKMN`: 12 characters of 30, 58 bits) and as stored.
pub fn new_code(pupil_id: &str, now_ms: i64) -> (String, AttachmentCode) {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    let shown = raw
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-");
    let stored = AttachmentCode {
        digest: code_digest(&raw),
        pupil_id: pupil_id.to_owned(),
        created_at: now_ms,
        expires_at: now_ms + CODE_DAYS * 24 * 3600 * 1000,
    };
    (shown, stored)
}

/// The digest of a code as typed: case, spaces and dashes do not matter.
pub fn code_digest(typed: &str) -> String {
    let normalized: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    digest(normalized.as_bytes())
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

/// Attaches a child to `guardian` once the proof holds. Returns the child's account.
pub async fn attach_child(
    app: &App,
    guardian: &Account,
    proof: Proof,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    if guardian.profile == Profile::Pupil {
        return Ok(Err(Refusal::NotAGuardian));
    }
    let attached = match proof {
        Proof::Credentials { login, password } => {
            by_password(app, guardian, &login, &password, address).await?
        }
        Proof::Code(code) => by_code(app, guardian, &code, address).await?,
    };
    if let Ok(child) = &attached {
        tracing::info!(guardian = %guardian.id, pupil = %child.id, "child attached");
    }
    Ok(attached)
}

async fn by_password(
    app: &App,
    guardian: &Account,
    login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    let child = match checked_credentials(app, login, password, address).await? {
        Ok(child) => child,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if child.profile != Profile::Pupil {
        return Ok(Err(Refusal::NotAPupil));
    }
    let now = app.now_ms();
    if !app
        .durable
        .attach(&guardian.id, &child.id, "password", now)
        .await?
    {
        return Ok(Err(Refusal::AlreadyAttached));
    }
    Ok(Ok(child))
}

async fn by_code(
    app: &App,
    guardian: &Account,
    code: &str,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    // Codes are guessed per guardian account and per address, like passwords; the attempt is
    // counted before the code is tried (review #13.1).
    let config = &app.config.throttle;
    let counters = throttle::subject(config, &format!("code:{}", guardian.id), address);
    let Some(attempt) = throttle::begin(&*app.ephemeral, config, counters).await? else {
        return Ok(Err(Refusal::Throttled));
    };
    let outcome = app
        .durable
        .attach_with_code(&code_digest(code), &guardian.id, app.now_ms())
        .await?;
    let pupil_id = match outcome {
        CodeOutcome::Attached(pupil_id) => pupil_id,
        CodeOutcome::AlreadyAttached => {
            attempt.passed(&*app.ephemeral).await?;
            return Ok(Err(Refusal::AlreadyAttached));
        }
        CodeOutcome::Invalid => {
            attempt.failed();
            return Ok(Err(Refusal::InvalidCode));
        }
    };
    attempt.passed(&*app.ephemeral).await?;
    let child = app.durable.account(&pupil_id).await?;
    Ok(Ok(child.ok_or_else(|| {
        anyhow::anyhow!("attached pupil {pupil_id} vanished")
    })?))
}

/// The guardian `account` confirms that `other_login` is also theirs, with that account's
/// password: the two accounts become one (`account` is kept).
pub async fn confirm_candidate(
    app: &std::sync::Arc<App>,
    account: &Account,
    other_login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    // Only an account proposed for this one: the page is no oracle for anyone's password.
    let candidates = app.durable.candidates_of_account(&account.id).await?;
    if !candidates.iter().any(|c| c.other.login == other_login) {
        return Ok(Err(Refusal::NotACandidate));
    }
    let other = match checked_credentials(app, other_login, password, address).await? {
        Ok(other) => other,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let resolved = app
        .durable
        .resolve_candidate(
            &account.id,
            &other.id,
            Resolution::Merge { keep: &account.id },
            app.now_ms(),
        )
        .await?;
    Ok(match resolved {
        Resolved::Done => {
            tracing::info!(kept = %account.id, merged = %other.id, "accounts merged by the guardian");
            // The absorbed account can no longer log in: its sessions end now.
            crate::oidc::logout::end_sessions_of(app, &other.id).await?;
            Ok(())
        }
        Resolved::NotFound => Err(Refusal::NotACandidate),
    })
}

/// The guardian says the account `other_login` is someone else: no proof is needed to keep two
/// accounts apart.
pub async fn decline_candidate(
    app: &App,
    account: &Account,
    other_login: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    let candidates = app.durable.candidates_of_account(&account.id).await?;
    let Some(candidate) = candidates.iter().find(|c| c.other.login == other_login) else {
        return Ok(Err(Refusal::NotACandidate));
    };
    let resolved = app
        .durable
        .resolve_candidate(
            &account.id,
            &candidate.other.id,
            Resolution::Reject,
            app.now_ms(),
        )
        .await?;
    Ok(match resolved {
        Resolved::Done => Ok(()),
        Resolved::NotFound => Err(Refusal::NotACandidate),
    })
}

/// The account behind a login and password, checked like a login.
async fn checked_credentials(
    app: &App,
    login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    Ok(
        match credentials::check(&app.credentials(), login, password, address, None).await? {
            Checked::Valid(account) => Ok(account),
            Checked::Wrong => Err(Refusal::WrongCredentials),
            Checked::Throttled => Err(Refusal::Throttled),
        },
    )
}
