//! What the import reads from and writes to the durable store for one establishment: the state
//! it compares an export with, and the changes it computed. Rows, not behaviour.

use std::collections::HashMap;

use crate::accounts::Profile;

/// A lookup key that finds more accounts than this (a placeholder e-mail, a foster home's
/// address) is too common to tell anyone apart, and is not used.
pub const KEY_SHARERS: usize = 8;

/// What the store holds for one establishment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By Siècle `ELEVE_ID`.
    pub enrolments: HashMap<String, EnrolmentState>,
    /// By Siècle `PERSONNE_ID`.
    pub persons: HashMap<String, PersonState>,
    /// By (`ELEVE_ID`, `PERSONNE_ID`).
    pub links: HashMap<(String, String), LinkState>,
}

#[derive(Debug, Clone)]
pub struct EnrolmentState {
    pub account_id: String,
    pub ine: String,
    pub digest: String,
    pub left: bool,
}

#[derive(Debug, Clone)]
pub struct PersonState {
    pub account_id: String,
    pub digest: String,
    pub left: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub legal: i64,
    pub relationship: Option<String>,
}

/// The lookup keys of new guardian records (`names::Traits`).
#[derive(Debug, Clone, Default)]
pub struct LookupKeys {
    pub mobile: Vec<String>,
    pub email: Vec<String>,
    pub address: Vec<String>,
}

/// A guardian record of some establishment found through a lookup key, for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownRecord {
    pub uai: String,
    pub personne_id: String,
    pub account_id: String,
    pub given_key: String,
    pub mobile_key: Option<String>,
    pub email_key: Option<String>,
    pub address_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EstablishmentRow {
    pub uai: String,
    pub academy: Option<String>,
    pub school_year: Option<String>,
    pub export_date: Option<String>,
}

/// An establishment as the directory knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Establishment {
    pub uai: String,
    /// Not in the Siècle exports: set through the administration API.
    pub name: Option<String>,
    /// From the UAI's département.
    pub academy: Option<String>,
    pub school_year: Option<String>,
    pub last_export_date: Option<String>,
    pub last_import_at: Option<i64>,
}

/// A pupil, nationally (inserted, or its birth date updated).
#[derive(Debug, Clone)]
pub struct PupilRow {
    pub ine: String,
    pub account_id: String,
    pub birth_date: String,
}

#[derive(Debug, Clone)]
pub struct EnrolmentRow {
    pub eleve_id: String,
    pub account_id: String,
    pub division: Option<String>,
    /// `CODE_MEF`: the level is its first three digits (`siecle::Level`).
    pub mef: Option<String>,
    pub entry_date: Option<String>,
    pub exit_date: Option<String>,
    pub digest: String,
    pub left_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PersonRow {
    pub personne_id: String,
    pub account_id: String,
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub given_key: String,
    pub mobile_key: Option<String>,
    pub email_key: Option<String>,
    pub address_key: Option<String>,
    pub digest: String,
}

#[derive(Debug, Clone)]
pub struct LinkRow {
    pub eleve_id: String,
    pub personne_id: String,
    pub state: LinkState,
}

/// New names and contact details of an existing account. Contact details only replace what
/// the account has when the record has some; the profile only ever goes up to guardian.
#[derive(Debug, Clone)]
pub struct AccountUpdate {
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub profile: Option<Profile>,
}

/// Two accounts that may be the same guardian; `account_id` < `other_account_id`.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub account_id: String,
    pub other_account_id: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Notice {
    pub id: String,
    pub kind: String,
    pub message: String,
    /// Where to act on it (the identifiers file's address in the administration API).
    pub link: Option<String>,
}

/// Where the administration API serves an establishment's next identifiers file, as CSV or
/// PDF (`extension`): what the "new identifiers available" notice links to.
pub fn identifiers_file_path(uai: &str, extension: &str) -> String {
    format!("/admin/establishments/{uai}/identifiers.{extension}")
}

/// Everything one establishment's import writes, besides the new accounts.
#[derive(Debug, Default)]
pub struct Changes {
    pub pupils: Vec<PupilRow>,
    /// (account id, corrected INE): Siècle replaced a pupil's INE.
    pub ine_corrections: Vec<(String, String)>,
    pub account_updates: Vec<AccountUpdate>,
    pub enrolments: Vec<EnrolmentRow>,
    pub enrolments_left: Vec<String>,
    pub persons: Vec<PersonRow>,
    pub persons_left: Vec<String>,
    pub links: Vec<LinkRow>,
    pub links_deleted: Vec<(String, String)>,
    pub candidates: Vec<Candidate>,
    pub notice: Option<Notice>,
    /// The report, as JSON, kept in the import history.
    pub report: String,
    pub source: String,
}

/// An in-app notification for an establishment's administrators.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EstablishmentNotice {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
    /// Where to act on it, e.g. the identifiers file (`identifiers_file_path`).
    pub link: Option<String>,
}

/// One import of an establishment, with its report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportRecord {
    pub id: String,
    pub source: String,
    pub export_date: Option<String>,
    pub imported_at: i64,
    /// The `EstablishmentReport`, as it was written.
    pub report: serde_json::Value,
}
