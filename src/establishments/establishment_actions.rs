//! What the back-office does from an establishment's dashboard and its identifiers page, each
//! recorded in the audit trail (refusals too): a notice marked read, a linking candidate merged
//! or declined (`candidates`), the identifiers file produced (`identifiers`).

use super::audited::{self, account_subject};
use super::{candidates, identifiers, Actor, IdentifiersFile, OperationError, Resolver, Right};
use crate::audit::Action;
use crate::siecle::Uai;
use crate::store::{AuditStore, DirectoryStore};

/// Two accounts are one guardian (the first stays), or two people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Merge,
    Decline,
}

/// Marks the establishment's notice `id` read.
pub async fn read_notice(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    audit: &dyn AuditStore,
    uai: &Uai,
    id: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    let action = Action::NoticeRead;
    let subject = format!("notice:{id}");
    let done = super::mark_notice_read(actor, directory, uai, id, now_ms).await;
    audited::refusal_of(audit, actor, uai, Some(&subject), action, done, now_ms).await?;
    audited::done(audit, actor, uai, Some(&subject), action, None, now_ms).await;
    Ok(())
}

/// Resolves the candidate between `account_id` and `other_account_id`, as seen from `uai`'s
/// dashboard (`candidates::{merge, decline}` check the scope over the accounts themselves).
#[allow(clippy::too_many_arguments)] // each is one decision of the caller
pub async fn resolve_candidate(
    actor: &Actor,
    resolver: &Resolver<'_>,
    audit: &dyn AuditStore,
    uai: &Uai,
    account_id: &str,
    other_account_id: &str,
    decision: Decision,
    now_ms: i64,
) -> Result<(), OperationError> {
    let action = Action::CandidateResolved;
    let subject = account_subject(account_id);
    let resolved = match actor.require(uai, Right::Guardians) {
        Err(refused) => Err(refused),
        Ok(()) => match decision {
            Decision::Merge => {
                candidates::merge(actor, resolver, account_id, other_account_id, now_ms).await
            }
            Decision::Decline => {
                candidates::decline(actor, resolver, account_id, other_account_id, now_ms).await
            }
        },
    };
    audited::refusal_of(audit, actor, uai, Some(&subject), action, resolved, now_ms).await?;
    let detail = match decision {
        Decision::Merge => format!("fusion de account:{other_account_id} dans ce compte"),
        Decision::Decline => format!("distinct de account:{other_account_id}"),
    };
    audited::done(
        audit,
        actor,
        uai,
        Some(&subject),
        action,
        Some(detail),
        now_ms,
    )
    .await;
    Ok(())
}

/// The establishment's next identifiers file (`identifiers_file`), recorded.
pub async fn identifiers_recorded(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    audit: &dyn AuditStore,
    uai: &Uai,
    format: &str,
    now_ms: i64,
) -> Result<IdentifiersFile, OperationError> {
    let action = Action::IdentifiersFile;
    let file = identifiers::identifiers_file(actor, directory, uai, now_ms).await;
    let file = audited::refusal_of(audit, actor, uai, None, action, file, now_ms).await?;
    let detail = format!(
        "{format}, {} compte(s), fichier {}",
        file.rows.len(),
        file.id
    );
    audited::done(audit, actor, uai, None, action, Some(detail), now_ms).await;
    Ok(file)
}
