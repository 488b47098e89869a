//! What the directory holds about one establishment: the establishment itself and its name
//! (which the Siècle exports do not carry), its notices, its import history.

use super::Right;
use super::{Actor, OperationError};
use crate::provisioning::model::{Establishment, EstablishmentNotice, ImportRecord};
use crate::siecle::Uai;
use crate::store::DirectoryStore;

/// Imports listed by `imports`, newest first.
pub const HISTORY: i64 = 50;
/// The longest name an establishment is given, in characters.
const NAME_CHARS: usize = 200;

pub async fn establishment(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    uai: &Uai,
) -> Result<Establishment, OperationError> {
    actor.require(uai, Right::View)?;
    known(uai, directory.establishment(uai.as_str()).await?)
}

/// Names the establishment; returns it as stored.
pub async fn name(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    uai: &Uai,
    name: &str,
) -> Result<Establishment, OperationError> {
    actor.require(uai, Right::Import)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_CHARS || name.chars().any(char::is_control) {
        return Err(OperationError::InvalidName);
    }
    if !directory.set_establishment_name(uai.as_str(), name).await? {
        return Err(OperationError::UnknownEstablishment(uai.clone()));
    }
    tracing::info!(actor = %actor, %uai, "establishment named");
    establishment(actor, directory, uai).await
}

/// The establishment's notices, newest first.
pub async fn notices(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    uai: &Uai,
) -> Result<Vec<EstablishmentNotice>, OperationError> {
    actor.require(uai, Right::View)?;
    known(uai, directory.notices(uai.as_str()).await?)
}

pub async fn mark_notice_read(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    uai: &Uai,
    id: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    actor.require(uai, Right::View)?;
    if !directory.mark_notice_read(uai.as_str(), id, now_ms).await? {
        return Err(OperationError::UnknownNotice {
            uai: uai.clone(),
            id: id.to_owned(),
        });
    }
    Ok(())
}

/// The establishment's last `HISTORY` imports, newest first.
pub async fn imports(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    uai: &Uai,
) -> Result<Vec<ImportRecord>, OperationError> {
    actor.require(uai, Right::View)?;
    known(uai, directory.imports(uai.as_str(), HISTORY).await?)
}

/// What the store found, or `UnknownEstablishment` for an establishment never imported.
pub(super) fn known<T>(uai: &Uai, found: Option<T>) -> Result<T, OperationError> {
    found.ok_or_else(|| OperationError::UnknownEstablishment(uai.clone()))
}
