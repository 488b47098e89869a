//! Linking candidates closed: by the guardian on `/compte` (a merge proven with the other
//! account's password; a decline needs no proof), or by an establishment
//! (`crate::establishments`). Both go through `resolve`, the one place where a merge also ends
//! the absorbed account's sessions.

use super::{checked_credentials, Linker, Refusal, Resolution, Resolved};
use crate::accounts::sessions::Sessions;
use crate::accounts::Account;
use crate::secrets::Secret;
use crate::store::LinkingStore;

/// Resolves the open candidate between two accounts (in either order). On a merge, the absorbed
/// account can no longer log in: its SSO sessions end at once, as a logout would.
pub async fn resolve(
    links: &dyn LinkingStore,
    sessions: &dyn Sessions,
    account_id: &str,
    other_account_id: &str,
    resolution: Resolution<'_>,
    now_ms: i64,
) -> anyhow::Result<Resolved> {
    let resolved = links
        .resolve_candidate(account_id, other_account_id, resolution, now_ms)
        .await?;
    if resolved == Resolved::NotFound {
        return Ok(resolved);
    }
    tracing::info!(
        account_id,
        other_account_id,
        ?resolution,
        "linking candidate resolved"
    );
    if let Resolution::Merge { keep } = resolution {
        let absorbed = if keep == account_id {
            other_account_id
        } else {
            account_id
        };
        sessions.end_all(absorbed).await?;
    }
    Ok(resolved)
}

/// The guardian `account` confirms that `other_login` is also theirs, with that account's
/// password: the two accounts become one (`account` is kept).
pub async fn confirm_candidate(
    linker: &Linker<'_>,
    account: &Account,
    other_login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    // Only an account proposed for this one: the page is no oracle for anyone's password.
    let candidates = linker.links.candidates_of_account(&account.id).await?;
    if !candidates.iter().any(|c| c.other.login == other_login) {
        return Ok(Err(Refusal::NotACandidate));
    }
    let other = match checked_credentials(&linker.verifier, other_login, password, address).await? {
        Ok(other) => other,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let keep = Resolution::Merge { keep: &account.id };
    let resolved = resolve_for(linker, account, &other.id, keep).await?;
    if resolved.is_ok() {
        tracing::info!(kept = %account.id, merged = %other.id, "accounts merged by the guardian");
    }
    Ok(resolved)
}

/// The guardian says the account `other_login` is someone else: no proof is needed to keep two
/// accounts apart.
pub async fn decline_candidate(
    linker: &Linker<'_>,
    account: &Account,
    other_login: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    let candidates = linker.links.candidates_of_account(&account.id).await?;
    let Some(candidate) = candidates.iter().find(|c| c.other.login == other_login) else {
        return Ok(Err(Refusal::NotACandidate));
    };
    resolve_for(linker, account, &candidate.other.id, Resolution::Reject).await
}

async fn resolve_for(
    linker: &Linker<'_>,
    account: &Account,
    other_id: &str,
    resolution: Resolution<'_>,
) -> anyhow::Result<Result<(), Refusal>> {
    let resolved = resolve(
        linker.links,
        linker.sessions,
        &account.id,
        other_id,
        resolution,
        linker.now_ms(),
    )
    .await?;
    Ok(match resolved {
        Resolved::Done => Ok(()),
        Resolved::NotFound => Err(Refusal::NotACandidate),
    })
}
