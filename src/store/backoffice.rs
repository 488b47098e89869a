//! The back-office's storage seam: the staff directory and roles (`StaffStore`), the audit
//! trail (`AuditStore`, `JournalStore`), the establishment's account views
//! (`BackofficeQueries`) and assistance requests (`AssistanceStore`). Implemented by `sql::`;
//! contract in `tests/store_contract.rs`.

use async_trait::async_trait;

use crate::assistance::model::{AssistanceEvent, AssistanceRequest};
use crate::audit::event::Event;
use crate::establishments::account_model::{EstablishmentAccount, PupilGuardian};
use crate::outbox::Outgoing;
use crate::staff::{Role, RoleKind, Staff, StaffCredentials, StaffState};

/// Why a staff member could not be inserted.
#[derive(Debug, thiserror::Error)]
pub enum InsertStaffError {
    #[error("the staff login {0} is already taken")]
    LoginTaken(String),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// The back-office's staff directory and their roles (`crate::staff`): apart from accounts.
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Fails with `LoginTaken` (and changes nothing) if the login exists.
    async fn insert_staff(
        &self,
        staff: &Staff,
        password_hash: &str,
    ) -> Result<(), InsertStaffError>;
    async fn staff(&self, id: &str) -> anyhow::Result<Option<Staff>>;
    /// `login` lower-case.
    async fn staff_credentials(&self, login: &str) -> anyhow::Result<Option<StaffCredentials>>;
    /// Every staff member, by family name then given name, at most `limit`.
    async fn staff_list(&self, limit: i64) -> anyhow::Result<Vec<Staff>>;
    /// Enrols the second factor: the TOTP secret sealed with the key-encryption key. False
    /// when one was enrolled already (nothing written): enrolling again is an operator's reset.
    async fn enrol_staff_totp(&self, id: &str, sealed: &str, now_ms: i64) -> anyhow::Result<bool>;
    /// Forgets the second factor: the next sign-in enrols a new one.
    async fn reset_staff_totp(&self, id: &str, now_ms: i64) -> anyhow::Result<()>;
    async fn set_staff_password(&self, id: &str, hash: &str, now_ms: i64) -> anyhow::Result<()>;
    async fn set_staff_state(&self, id: &str, state: StaffState, now_ms: i64)
        -> anyhow::Result<()>;
    async fn insert_role(&self, role: &Role) -> anyhow::Result<()>;
    /// Revokes a live role; false when there is no such role or it was already revoked.
    async fn revoke_role(&self, id: &str, now_ms: i64) -> anyhow::Result<bool>;
    async fn role(&self, id: &str) -> anyhow::Result<Option<Role>>;
    /// Every role of the staff member, revoked and ended ones included, newest first.
    async fn roles_of(&self, staff_id: &str) -> anyhow::Result<Vec<Role>>;
    /// The roles at an establishment that were never revoked (ended ones included), each with
    /// its staff member, by family name.
    async fn roles_at(&self, uai: &str) -> anyhow::Result<Vec<(Role, Staff)>>;
    /// The staff members holding a role never revoked of this kind in this académie.
    async fn staff_of_academy(&self, academy: &str, kind: RoleKind) -> anyhow::Result<Vec<Staff>>;
}

/// Which audit events to read, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub uai: Option<String>,
    pub subject: Option<String>,
    /// Events strictly before this time (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// The audit trail (`crate::audit`).
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn record_event(&self, event: &Event) -> anyhow::Result<()>;
    async fn events(&self, query: &AuditQuery) -> anyhow::Result<Vec<Event>>;
    /// The time of the last event of `action` with outcome `ok` on `subject` (an account's last
    /// login).
    async fn last_event(&self, subject: &str, action: &str) -> anyhow::Result<Option<i64>>;
    /// Deletes, `batch` rows at a time, the events before `before_ms`; returns how many.
    async fn purge_events(&self, before_ms: i64, batch: i64) -> anyhow::Result<u64>;
}

/// What the establishment back-office reads and writes of the accounts an establishment
/// records (`establishments::{dashboard, account_list, account_file, account_actions}`).
#[async_trait]
pub trait BackofficeQueries: Send + Sync {
    /// Every account the establishment currently records: its enrolled pupils and the accounts
    /// of its current guardian (and person in charge) records, disabled ones included, each
    /// once, in no order.
    async fn establishment_accounts(&self, uai: &str) -> anyhow::Result<Vec<EstablishmentAccount>>;
    /// The guardians and persons in charge that the pupil's current establishments record as
    /// linked to their enrolment there, by establishment then name.
    async fn pupil_guardians(&self, pupil_id: &str) -> anyhow::Result<Vec<PupilGuardian>>;
    /// Corrects the contact details Siècle gives (`email`, `phone`; `None` clears one), not the
    /// account's own confirmed address: the next import that brings others replaces them.
    async fn set_siecle_contact(
        &self,
        id: &str,
        email: Option<&str>,
        phone: Option<&str>,
        now_ms: i64,
    ) -> anyhow::Result<()>;
}

/// Where a page of the journal starts: strictly before this event, by time then by id (two
/// events of the same millisecond are never skipped between pages). Without an id, before
/// the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalCursor {
    pub at: i64,
    pub id: Option<String>,
}

/// Which events a page of the journal shows (`establishments::audit`).
#[derive(Clone, Debug, Default)]
pub struct JournalQuery {
    /// Events at this establishment.
    pub uai: Option<String>,
    /// With `uai`: the events at no establishment about these subjects (an account's own: its
    /// sign-ins; the establishment's staff) or by these actors (its staff signing in).
    pub unplaced_about: Vec<String>,
    pub unplaced_by: Vec<String>,
    pub subject: Option<String>,
    pub before: Option<JournalCursor>,
    pub limit: i64,
}

/// The audit trail as the journal pages read it.
#[async_trait]
pub trait JournalStore: Send + Sync {
    /// The events `query` selects, newest first (time, then id, descending), at most `limit`.
    async fn journal(&self, query: &JournalQuery) -> anyhow::Result<Vec<Event>>;
}

/// Assistance requests (`crate::assistance`) and what happened to them.
#[async_trait]
pub trait AssistanceStore: Send + Sync {
    /// Files `request` (its accounts concerned included) and queues `messages` (the e-mails
    /// telling the académie) in one transaction. False when a request with this id exists
    /// (nothing written: the caller draws another id).
    async fn insert_assistance(
        &self,
        request: &AssistanceRequest,
        messages: &[Outgoing],
    ) -> anyhow::Result<bool>;
    async fn assistance(&self, id: &str) -> anyhow::Result<Option<AssistanceRequest>>;
    /// A request's events, oldest first.
    async fn assistance_events(&self, request_id: &str) -> anyhow::Result<Vec<AssistanceEvent>>;
    /// The requests of `query`, newest first.
    async fn assistance_requests(
        &self,
        query: &AssistanceQuery,
    ) -> anyhow::Result<Vec<AssistanceRequest>>;
    /// Records `event` and queues `messages` in one transaction; when the event changes the
    /// status, only if the request still has the event's `previous_status` (false otherwise,
    /// nothing written). The request's `updated_at` becomes the event's time. An event on a
    /// request never filed is false too, nothing written (tests/store_contract.rs).
    async fn add_assistance_event(
        &self,
        event: &AssistanceEvent,
        messages: &[Outgoing],
    ) -> anyhow::Result<bool>;
}

/// Which assistance requests to read: each filter applies when given.
#[derive(Clone, Debug, Default)]
pub struct AssistanceQuery {
    pub uai: Option<String>,
    pub academy: Option<String>,
    pub status: Option<crate::assistance::model::Status>,
    pub limit: i64,
}
