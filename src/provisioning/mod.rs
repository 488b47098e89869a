//! Accounts from Siècle (issue #4). Each establishment's export, read and checked by
//! `crate::siecle`, is compared with what the directory holds and only the difference is written,
//! in one transaction per establishment (`apply`): new pupils and guardians get accounts, changed
//! records are updated, pupils and guardians who left are detached but keep their accounts, and a
//! guardian already known from another establishment is recognized (`matching`) instead of
//! getting a second account. `import` runs it over many establishments, reading the next exports
//! while the current one is written; `upload` runs one uploaded export, bounded.

mod apply;
mod guardians;
pub mod import;
mod matching;
pub mod model;
pub mod names;
mod summary;
pub mod upload;
mod work;

use serde::Serialize;

pub use apply::import_establishment;
pub use import::{
    accept, import_exports, refresh_statistics_if_large, Outcome, Progress, FIRST_LOAD_FROM,
};
pub use summary::Summary;
pub use upload::{UploadError, Uploads};

/// What importing one establishment's export did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EstablishmentReport {
    pub uai: String,
    /// Pupil and guardian records in the export, rejected ones included.
    pub records: u64,
    /// Pupils who got an account.
    pub pupils_created: u64,
    /// Guardians and persons in charge who got an account.
    pub guardians_created: u64,
    /// Pupils and guardians new to this establishment whose account already existed (a pupil
    /// who moved in, a guardian recognized from another establishment, a pupil who came back).
    pub arrived: u64,
    /// Records whose names, class, contact details or dates changed.
    pub updated: u64,
    pub unchanged: u64,
    /// Pupils and guardians detached from the establishment (they keep their account).
    pub left: u64,
    /// Pupil–guardian links added, and removed.
    pub linked: u64,
    pub unlinked: u64,
    /// Of the guardians arrived, those recognized from another establishment's records.
    pub recognized: u64,
    /// Possible matches recorded for confirmation instead of being merged.
    pub candidates: u64,
    /// Records with nothing to import: a pupil who had already left, a person linked to no
    /// current pupil.
    pub ignored: u64,
    /// Records rejected as invalid, left as they were (each with its file, line and reason).
    pub rejected: Vec<String>,
}

impl EstablishmentReport {
    pub fn created(&self) -> u64 {
        self.pupils_created + self.guardians_created
    }
}
