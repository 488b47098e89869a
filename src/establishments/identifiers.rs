//! The identifiers file (*fichier des nouveaux identifiants*): for one establishment, the
//! accounts not listed in any of its previous files — those created, or arrived from another
//! establishment, since the last one — with login, names, class, profile and state, for the
//! secretariat to hand out or check. Producing the file records it (`identifier_files`), so
//! the next one holds only what came after. Rendering (CSV, PDF) is `notify::identifiers`.

use super::model::IdentifierRow;
use super::Right;
use super::{Actor, OperationError};
use crate::siecle::Uai;
use crate::store::DirectoryStore;

/// A file produced: its id, when, and its rows (pupils first, then by class and name).
#[derive(Clone, Debug)]
pub struct IdentifiersFile {
    pub id: String,
    pub uai: Uai,
    pub created_at: i64,
    pub rows: Vec<IdentifierRow>,
}

/// The establishment's new identifiers, recorded as listed.
pub async fn identifiers_file(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    uai: &Uai,
    now_ms: i64,
) -> Result<IdentifiersFile, OperationError> {
    // The file lists pupils and guardians alike.
    actor.require(uai, Right::Pupils)?;
    actor.require(uai, Right::Guardians)?;
    if directory.establishment(uai.as_str()).await?.is_none() {
        return Err(OperationError::UnknownEstablishment(uai.clone()));
    }
    let id = crate::secrets::random_b64(12);
    let mut rows = directory
        .list_new_identifiers(uai.as_str(), &id, actor.label(), now_ms)
        .await?;
    rows.sort_by(|a, b| {
        let key = |r: &IdentifierRow| {
            (
                r.profile != crate::accounts::Profile::Pupil,
                r.class.clone(),
                r.family_name.to_lowercase(),
                r.given_name.to_lowercase(),
                r.login.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    tracing::info!(actor = %actor, %uai, count = rows.len(), "identifiers file produced");
    Ok(IdentifiersFile {
        id,
        uai: uai.clone(),
        created_at: now_ms,
        rows,
    })
}
