//! A Siècle export uploaded for one establishment: read and checked in an upload slot
//! (`provisioning::Slot`, bounded in number and time), then imported as `educonnect import
//! siecle` would. The establishment is the export's own (its `UAJ`), so the actor's scope is
//! checked once the files are read, before anything is written.

use super::{Actor, OperationError};
use crate::provisioning::upload::Slot;
use crate::provisioning::Outcome;
use crate::store::DirectoryStore;

/// The two files of an upload, as received.
pub struct UploadedFiles<P, G> {
    /// `ElevesSansAdresses.xml`.
    pub pupils: P,
    /// `ResponsablesAvecAdresses.xml`.
    pub guardians: G,
}

/// Imports the upload admitted in `slot`: the report, or the refusal (nothing written) when the
/// files cannot be trusted or hold invalid records and `skip_invalid` is not set.
pub async fn import_upload<P, G>(
    actor: &Actor,
    slot: &Slot<'_>,
    directory: &dyn DirectoryStore,
    files: UploadedFiles<P, G>,
    skip_invalid: bool,
    now_ms: i64,
) -> Result<Outcome, OperationError>
where
    P: AsRef<[u8]> + Send + 'static,
    G: AsRef<[u8]> + Send + 'static,
{
    let export = match slot
        .read(files.pupils, files.guardians, skip_invalid)
        .await?
    {
        Ok(export) => export,
        Err(refused) => return Ok(*refused),
    };
    actor.require(&export.uai, super::Right::Import)?;
    let outcome = slot.write(directory, &export, now_ms).await?;
    tracing::info!(actor = %actor, uai = %export.uai, "Siècle export uploaded and imported");
    Ok(outcome)
}
