//! A guardian attaches a child with proof: the child's own login and password, or a code the
//! child's establishment handed out. Both are guesses at a secret, so both are throttled.

use super::{checked_credentials, code_digest, CodeOutcome, Linker, Proof, Refusal};
use crate::accounts::{throttle, Account, Profile};
use crate::secrets::Secret;

/// Attaches a child to `guardian` once the proof holds. Returns the child's account.
pub async fn attach_child(
    linker: &Linker<'_>,
    guardian: &Account,
    proof: Proof,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    if guardian.profile == Profile::Pupil {
        return Ok(Err(Refusal::NotAGuardian));
    }
    let attached = match proof {
        Proof::Credentials { login, password } => {
            by_password(linker, guardian, &login, &password, address).await?
        }
        Proof::Code(code) => by_code(linker, guardian, &code, address).await?,
    };
    if let Ok(child) = &attached {
        tracing::info!(guardian = %guardian.id, pupil = %child.id, "child attached");
    }
    Ok(attached)
}

async fn by_password(
    linker: &Linker<'_>,
    guardian: &Account,
    login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    let child = match checked_credentials(&linker.verifier, login, password, address).await? {
        Ok(child) => child,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if child.profile != Profile::Pupil {
        return Ok(Err(Refusal::NotAPupil));
    }
    let now = linker.now_ms();
    if !linker
        .links
        .attach(&guardian.id, &child.id, "password", now)
        .await?
    {
        return Ok(Err(Refusal::AlreadyAttached));
    }
    Ok(Ok(child))
}

async fn by_code(
    linker: &Linker<'_>,
    guardian: &Account,
    code: &str,
    address: &str,
) -> anyhow::Result<Result<Account, Refusal>> {
    // Codes are guessed per guardian account and per address, like passwords; the attempt is
    // counted before the code is tried (review #13.1).
    let config = linker.verifier.throttle;
    let counters_store = linker.verifier.counters;
    let counters = throttle::subject(config, &format!("code:{}", guardian.id), address);
    let Some(attempt) = throttle::begin(counters_store, config, linker.now_ms(), counters).await?
    else {
        return Ok(Err(Refusal::Throttled));
    };
    let outcome = linker
        .links
        .attach_with_code(&code_digest(code), &guardian.id, linker.now_ms())
        .await?;
    let pupil_id = match outcome {
        CodeOutcome::Attached(pupil_id) => pupil_id,
        CodeOutcome::AlreadyAttached => {
            attempt.passed(counters_store).await?;
            return Ok(Err(Refusal::AlreadyAttached));
        }
        CodeOutcome::Invalid => {
            attempt.failed();
            return Ok(Err(Refusal::InvalidCode));
        }
    };
    attempt.passed(counters_store).await?;
    let child = linker.verifier.accounts.account(&pupil_id).await?;
    Ok(Ok(child.ok_or_else(|| {
        anyhow::anyhow!("attached pupil {pupil_id} vanished")
    })?))
}
