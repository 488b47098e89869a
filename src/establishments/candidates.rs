//! Linking candidates as an establishment sees them: those involving a guardian it records,
//! merged (one person) or declined (two people) through `accounts::linking::resolve`, the same
//! resolution the guardian's own confirmation goes through.
//!
//! Scope of a merge or a decline: the request names two accounts, no establishment. A candidate
//! is within an actor's scope when one of its two accounts is currently recorded as a guardian
//! (`Affiliations::records`) by an establishment the scope covers: while open, it is then among
//! the candidates that establishment lists (`candidates`). One listed only through a record the
//! establishment has since dropped (a guardian who left) is no longer its to resolve.

use super::records::known;
use super::Right;
use super::{Actor, OperationError};
use crate::accounts::linking::{self, LinkCandidate, Resolution, Resolved};
use crate::accounts::sessions::Sessions;
use crate::siecle::Uai;
use crate::store::{DirectoryStore, LinkingStore};

/// What resolving a candidate needs.
#[derive(Clone, Copy)]
pub struct Resolver<'a> {
    /// Where the two accounts are recorded (the scope check).
    pub directory: &'a dyn DirectoryStore,
    pub links: &'a dyn LinkingStore,
    /// A merged account's sessions end with the merge.
    pub sessions: &'a dyn Sessions,
}

/// The open candidates involving a guardian the establishment records.
pub async fn candidates(
    actor: &Actor,
    links: &dyn LinkingStore,
    uai: &Uai,
) -> Result<Vec<LinkCandidate>, OperationError> {
    actor.require(uai, Right::Guardians)?;
    known(uai, links.candidates_of_establishment(uai.as_str()).await?)
}

/// The two accounts are one guardian: `merge` becomes part of `keep`.
pub async fn merge(
    actor: &Actor,
    resolver: &Resolver<'_>,
    keep: &str,
    merge: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    resolve(
        actor,
        resolver,
        keep,
        merge,
        Resolution::Merge { keep },
        now_ms,
    )
    .await
}

/// The two accounts are two people.
pub async fn decline(
    actor: &Actor,
    resolver: &Resolver<'_>,
    account_id: &str,
    other_account_id: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    let resolution = Resolution::Reject;
    resolve(
        actor,
        resolver,
        account_id,
        other_account_id,
        resolution,
        now_ms,
    )
    .await
}

async fn resolve(
    actor: &Actor,
    resolver: &Resolver<'_>,
    account_id: &str,
    other_account_id: &str,
    resolution: Resolution<'_>,
    now_ms: i64,
) -> Result<(), OperationError> {
    actor.require_strong(Right::Guardians)?;
    if !within_scope(actor, resolver.directory, [account_id, other_account_id]).await? {
        return Err(actor.refused());
    }
    let resolved = linking::resolve(
        resolver.links,
        resolver.sessions,
        account_id,
        other_account_id,
        resolution,
        now_ms,
    )
    .await?;
    match resolved {
        Resolved::Done => {
            tracing::info!(actor = %actor, account_id, other_account_id, "candidate resolved");
            Ok(())
        }
        Resolved::NotFound => Err(OperationError::NoOpenCandidate),
    }
}

/// One of the accounts is currently recorded by an establishment of the actor's scope.
async fn within_scope(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    accounts: [&str; 2],
) -> anyhow::Result<bool> {
    if actor.holds_nationally(Right::Guardians) {
        return Ok(true);
    }
    for account_id in accounts {
        let affiliations = directory.affiliations(account_id).await?;
        if affiliations
            .records
            .iter()
            .any(|r| actor.grants_stored(&r.uai, Right::Guardians))
        {
            return Ok(true);
        }
    }
    Ok(false)
}
