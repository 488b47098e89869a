//! The directory's storage seam: establishments, pupils, guardians and their links, as the
//! Siècle import writes them (`ImportTx`, `DirectoryStore`) and as linking changes them
//! (`LinkingStore`). Implemented by `sql::`; contract in `tests/store_contract.rs`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;

use crate::accounts::affiliations::Affiliations;
use crate::accounts::linking::model::{
    AttachmentCode, CodeOutcome, LinkCandidate, Resolution, Resolved,
};
use crate::accounts::{Account, Profile};
use crate::establishments::model::{IdentifierRow, NotificationRecord, NotificationTarget};
use crate::provisioning::model::{
    Changes, Establishment, EstablishmentNotice, EstablishmentRow, ImportRecord, KnownRecord,
    LookupKeys, Snapshot,
};

/// One establishment's Siècle import: a single transaction, which other imports wait for (so
/// two imports never both decide that the same new guardian is unknown). Dropped without
/// `commit`, it changes nothing.
#[async_trait]
pub trait ImportTx: Send {
    /// Creates the establishment or records its new export.
    async fn upsert_establishment(
        &mut self,
        e: &EstablishmentRow,
        now_ms: i64,
    ) -> anyhow::Result<()>;
    /// What the store holds for the establishment.
    async fn snapshot(&mut self, uai: &str) -> anyhow::Result<Snapshot>;
    /// INE → account id, for the INEs known.
    async fn accounts_by_ine(&mut self, ines: &[String])
        -> anyhow::Result<HashMap<String, String>>;
    /// The guardian records, in every establishment, that carry one of the keys.
    async fn records_with_keys(&mut self, keys: &LookupKeys) -> anyhow::Result<Vec<KnownRecord>>;
    /// Reserves `count` login numbers for each stem; returns the last one reserved per stem
    /// (the reserved range ends there).
    async fn reserve_login_numbers(
        &mut self,
        stems: &[(String, i64)],
    ) -> anyhow::Result<HashMap<String, i64>>;
    /// Inserts the accounts whose login is free; returns the ids of those inserted. (By value,
    /// like `write`'s changes: a first load keeps the rows rather than copies of them.)
    async fn insert_accounts(&mut self, accounts: Vec<Account>) -> anyhow::Result<HashSet<String>>;
    /// Everything else the import changes, after the new accounts.
    async fn write(&mut self, uai: &str, changes: Changes, now_ms: i64) -> anyhow::Result<()>;
    async fn commit(self: Box<Self>) -> anyhow::Result<()>;
}

/// Establishments, pupils, guardians and the links between them.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Starts an import, waiting for any other import to finish.
    async fn begin_import(&self) -> anyhow::Result<Box<dyn ImportTx>>;
    /// Starts a first load (`import_exports`): many establishments in one transaction, written
    /// at its commit, while the directory holds no pupil and no guardian yet. `None` when it
    /// does, or when the store has no such load (SQLite): one transaction per establishment.
    async fn begin_first_load(&self) -> anyhow::Result<Option<Box<dyn ImportTx>>>;
    /// Where the account belongs (empty for an account no establishment records).
    async fn affiliations(&self, account_id: &str) -> anyhow::Result<Affiliations>;
    /// The account of the pupil with this INE.
    async fn pupil_account(&self, ine: &str) -> anyhow::Result<Option<String>>;
    /// The account an establishment's guardian record (`PERSONNE_ID`) belongs to.
    async fn person_account(&self, uai: &str, personne_id: &str) -> anyhow::Result<Option<String>>;
    /// Brings the planner's statistics of the directory tables up to date, after an import
    /// that wrote many rows (PostgreSQL's autovacuum may be late, or off).
    async fn refresh_statistics(&self) -> anyhow::Result<()>;
    async fn establishment(&self, uai: &str) -> anyhow::Result<Option<Establishment>>;
    /// Sets the name (not in the exports); false for an establishment never imported.
    async fn set_establishment_name(&self, uai: &str, name: &str) -> anyhow::Result<bool>;
    /// An establishment's notices, newest first; `None` for an establishment never imported.
    async fn notices(&self, uai: &str) -> anyhow::Result<Option<Vec<EstablishmentNotice>>>;
    /// Marks a notice read; false when the establishment has no such notice.
    async fn mark_notice_read(&self, uai: &str, id: &str, now_ms: i64) -> anyhow::Result<bool>;
    /// The last `limit` imports of an establishment, newest first; `None` as for `notices`.
    async fn imports(&self, uai: &str, limit: i64) -> anyhow::Result<Option<Vec<ImportRecord>>>;
    /// Who the establishment may notify with `profile`: its current pupils, or the accounts of
    /// its current guardian (or person in charge) records with their children there; one
    /// target per account, disabled ones left out, sorted by class then name.
    async fn notification_targets(
        &self,
        uai: &str,
        profile: Profile,
    ) -> anyhow::Result<Vec<NotificationTarget>>;
    /// Records a notification (`establishments::notify`).
    async fn record_notification(&self, record: &NotificationRecord) -> anyhow::Result<()>;
    /// An establishment's notifications, newest first.
    async fn notifications(&self, uai: &str) -> anyhow::Result<Vec<NotificationRecord>>;
    /// Records the identifiers file `file_id` of `uai`, listing in one transaction every
    /// account of its current pupils and guardian records that no earlier file of `uai`
    /// listed; returns those rows (in no order). Two files produced at once never list the
    /// same account.
    async fn list_new_identifiers(
        &self,
        uai: &str,
        file_id: &str,
        actor: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<IdentifierRow>>;
}

/// Linking accounts by hand after the import (`accounts::linking`).
#[async_trait]
pub trait LinkingStore: Send + Sync {
    /// Open linking candidates involving the account.
    async fn candidates_of_account(&self, account_id: &str) -> anyhow::Result<Vec<LinkCandidate>>;
    /// Open linking candidates involving a guardian the establishment records; `None` as for
    /// `notices`.
    async fn candidates_of_establishment(
        &self,
        uai: &str,
    ) -> anyhow::Result<Option<Vec<LinkCandidate>>>;
    /// Resolves the open candidate between two accounts (in either order). A merge waits for
    /// any import to finish, like an import.
    async fn resolve_candidate(
        &self,
        account_id: &str,
        other_account_id: &str,
        resolution: Resolution<'_>,
        now_ms: i64,
    ) -> anyhow::Result<Resolved>;
    /// Records that a pupil is attached to a guardian by hand; false when already attached.
    async fn attach(
        &self,
        guardian_id: &str,
        pupil_id: &str,
        proof: &str,
        now_ms: i64,
    ) -> anyhow::Result<bool>;
    async fn insert_attachment_code(&self, code: &AttachmentCode) -> anyhow::Result<()>;
    /// Records that the guardian says the pupil is not their child: from then on the pupil is
    /// left out of the guardian's children (and claims) until the establishment resolves it. In
    /// the same transaction, each establishment the pupil is enrolled in gets a notice
    /// (`DISPUTED_LINK_NOTICE`) saying `message`. False when it was already disputed (nothing
    /// written).
    async fn dispute_link(
        &self,
        guardian_id: &str,
        pupil_id: &str,
        message: &str,
        now_ms: i64,
    ) -> anyhow::Result<bool>;
    /// Uses a code: in one transaction, the code is spent and its pupil attached to the
    /// guardian. A code unknown, expired, used, or whose pupil can no longer be attached (a
    /// disabled account) is `Invalid`; a pupil already attached leaves the code unspent.
    async fn attach_with_code(
        &self,
        digest: &str,
        guardian_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<CodeOutcome>;
}
