//! Attachment codes an establishment hands a guardian to attach a pupil by hand
//! (`accounts::linking` uses them on `/compte`). Scope: the pupil must be currently enrolled in
//! an establishment the actor's scope covers.

use super::{Actor, OperationError, Right};
use crate::accounts::linking;
use crate::accounts::{Account, Profile};
use crate::siecle::Ine;
use crate::store::{AccountStore, DirectoryStore, LinkingStore};

/// A code just issued: shown once, only its digest is kept.
pub struct IssuedCode {
    /// As handed out (`ABCD-EFGH-JKMN`).
    pub code: String,
    pub expires_at: i64,
    pub pupil: Account,
}

/// A new single-use code to attach the pupil `ine` (valid `linking::CODE_DAYS` days).
pub async fn attachment_code(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    accounts: &dyn AccountStore,
    links: &dyn LinkingStore,
    ine: &Ine,
    now_ms: i64,
) -> Result<IssuedCode, OperationError> {
    let pupil = match directory.pupil_account(ine.as_str()).await? {
        Some(id) => accounts.account(&id).await?,
        None => None,
    };
    let pupil = pupil.filter(|a| a.profile == Profile::Pupil);
    if !actor.holds_nationally(Right::Pupils) {
        // An unknown INE and a pupil enrolled elsewhere answer alike: nothing is learned about
        // pupils outside the scope.
        let enrolled = match &pupil {
            Some(pupil) => directory
                .affiliations(&pupil.id)
                .await?
                .enrolments
                .iter()
                .any(|e| actor.grants_stored(&e.uai, Right::Pupils)),
            None => false,
        };
        if !enrolled {
            return Err(actor.refused());
        }
    }
    let Some(pupil) = pupil else {
        return Err(OperationError::UnknownPupil(ine.clone()));
    };
    let (code, stored) = linking::new_code(&pupil.id, now_ms);
    links.insert_attachment_code(&stored).await?;
    tracing::info!(actor = %actor, pupil = %pupil.id, "attachment code issued");
    Ok(IssuedCode {
        code,
        expires_at: stored.expires_at,
        pupil,
    })
}
