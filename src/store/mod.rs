//! Storage seams. Durable: PostgreSQL or SQLite behind one `sqlx::AnyPool` implementation.
//! Ephemeral: Redis or an in-process map. Each trait states its contract; the contract test suite
//! (`tests/store_contract.rs`) runs against both implementations of both families.

pub mod ephemeral;
pub mod sql;
mod unavailable;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;

use crate::accounts::affiliations::Affiliations;
use crate::accounts::linking::model::{
    AttachmentCode, CodeOutcome, LinkCandidate, Resolution, Resolved,
};
use crate::accounts::{Account, AccountState, Profile};
use crate::assistance::model::{AssistanceEvent, AssistanceRequest};
use crate::audit::event::Event;
use crate::clients::Client;
use crate::establishments::account_model::{EstablishmentAccount, PupilGuardian};
use crate::establishments::model::{IdentifierRow, NotificationRecord, NotificationTarget};
use crate::oidc::grants::{Grant, RefreshToken};
use crate::outbox::{Attempt, Outgoing, Queued};
use crate::provisioning::model::{
    Changes, Establishment, EstablishmentNotice, EstablishmentRow, ImportRecord, KnownRecord,
    LookupKeys, Snapshot,
};
use crate::staff::{Role, RoleKind, Staff, StaffCredentials, StaffState};
use crate::tokens::keys::StoredKey;

pub use ephemeral::{EphemeralStore, Taken};
pub use unavailable::StoreUnavailable;

/// Relying parties.
#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn client(&self, id: &str) -> anyhow::Result<Option<Client>>;
    /// Inserts or replaces the client with this id.
    async fn put_client(&self, client: &Client) -> anyhow::Result<()>;
    async fn clients(&self) -> anyhow::Result<Vec<Client>>;
    /// True if a client was removed.
    async fn delete_client(&self, id: &str) -> anyhow::Result<bool>;
}

/// Why an account could not be inserted.
#[derive(Debug, thiserror::Error)]
pub enum InsertAccountError {
    #[error("the login {0} is already taken")]
    LoginTaken(String),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Pupil and guardian accounts.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn account(&self, id: &str) -> anyhow::Result<Option<Account>>;
    /// Logins are stored lower-case; `login` must already be normalized.
    async fn account_by_login(&self, login: &str) -> anyhow::Result<Option<Account>>;
    /// Fails with `LoginTaken` (and changes nothing) if the login exists.
    async fn insert_account(&self, account: &Account) -> Result<(), InsertAccountError>;
    /// A password the person chose (or the renewed hash of one): no longer temporary.
    async fn set_password_hash(&self, id: &str, hash: &str, now_ms: i64) -> anyhow::Result<()>;
    /// A temporary password valid until `expires_at_ms`, in one write with the state it puts
    /// the account in, `notified` (`accounts::lifecycle::issue_temporary_password`), and with
    /// `message`, the e-mail carrying the password, queued in the outbox in the same
    /// transaction: both are written or neither.
    async fn set_temporary_password(
        &self,
        id: &str,
        hash: &str,
        expires_at_ms: i64,
        now_ms: i64,
        message: Option<&Outgoing>,
    ) -> anyhow::Result<()>;
    async fn set_state(&self, id: &str, state: AccountState, now_ms: i64) -> anyhow::Result<()>;
    /// The address of the `email` claim, for an account no Siècle record gives one (a pupil's);
    /// an import that brings one replaces it.
    async fn set_email(&self, id: &str, email: &str, now_ms: i64) -> anyhow::Result<()>;
    /// The account's own address, confirmed by a code (activation, Mon compte): kept apart from
    /// the one Siècle gives (`email`), never written by an import; one per account (FAQ: one
    /// e-mail per pupil account), a new one replaces it.
    async fn set_verified_email(&self, id: &str, email: &str, now_ms: i64) -> anyhow::Result<()>;
    /// The account's own mobile number, confirmed by an SMS code (Mon compte): kept apart from
    /// Siècle's (`phone`), never written by an import; a new one replaces it.
    async fn set_verified_phone(&self, id: &str, phone: &str, now_ms: i64) -> anyhow::Result<()>;
    /// The guardians (and persons in charge) whose Siècle record gives `mobile` (normalized,
    /// `0612345678`): who may self-register with it. Several when a family shares a number.
    async fn guardians_by_siecle_mobile(&self, mobile: &str) -> anyhow::Result<Vec<Account>>;
    /// The accounts whose confirmed address is `email` (lower-cased): recovery by e-mail.
    async fn accounts_by_confirmed_email(&self, email: &str) -> anyhow::Result<Vec<Account>>;
    /// The accounts whose confirmed mobile number is `mobile`: recovery by SMS.
    async fn accounts_by_confirmed_mobile(&self, mobile: &str) -> anyhow::Result<Vec<Account>>;
    /// A pupil account's date of birth (`YYYY-MM-DD`, from Siècle); `None` for an account that
    /// is no pupil of the directory.
    async fn pupil_birth_date(&self, account_id: &str) -> anyhow::Result<Option<String>>;
}

/// Outcome of presenting a refresh token (RFC 6749 §6, RFC 9700 §4.14.2).
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was active: it is now used and `successor` is stored in its place.
    Rotated(Grant),
    /// The token had been rotated within the grace window and its child was never used: the
    /// child is revoked and `successor` replaces it, so one valid child remains.
    ReissuedWithinGrace(Grant),
    /// The token had already been used: the caller must revoke the grant (theft suspected).
    Reused { grant_id: String },
    /// Unknown, expired, revoked, or its grant is revoked.
    Invalid,
}

/// Refresh grants: a grant is one authorization of a client by an account; its refresh tokens
/// form a chain where only the newest is usable.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new grant with its first refresh token.
    async fn insert_grant(&self, grant: &Grant, first: &RefreshToken) -> anyhow::Result<()>;
    async fn grant(&self, id: &str) -> anyhow::Result<Option<Grant>>;
    /// Atomically consumes the token with digest `presented`, if its grant belongs to
    /// `client_id`, and stores `successor` (whose `grant_id` the store overwrites with the
    /// presented token's). Two concurrent calls with the same token never both return `Rotated`.
    /// A token of another client is `Invalid` and left untouched.
    async fn rotate_refresh_token(
        &self,
        client_id: &str,
        presented: &str,
        successor: &RefreshToken,
        now_ms: i64,
        grace_ms: i64,
    ) -> anyhow::Result<Rotation>;
    /// The grant of a refresh token of `client_id`, whatever the token's state (used, revoked,
    /// expired): what a refresh request is validated against before anything is consumed.
    async fn refresh_token_grant(
        &self,
        client_id: &str,
        digest: &str,
    ) -> anyhow::Result<Option<Grant>>;
    /// The grant of an active (unused, unrevoked, unexpired) refresh token.
    async fn active_refresh_token(
        &self,
        digest: &str,
        now_ms: i64,
    ) -> anyhow::Result<Option<(RefreshToken, Grant)>>;
    /// Revokes the grant and every refresh token of it. True if it was active.
    async fn revoke_grant(&self, id: &str, now_ms: i64) -> anyhow::Result<bool>;
    /// Revokes every active grant of the account (and its refresh tokens); returns their ids.
    async fn revoke_account_grants(
        &self,
        account_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<String>>;
    /// Revokes the grants bound to an SSO session that did not ask for `offline_access`;
    /// returns their ids.
    async fn revoke_session_grants(&self, sid: &str, now_ms: i64) -> anyhow::Result<Vec<String>>;
    /// Revokes every active grant the account gave `client_id` (offline ones included) and
    /// their refresh tokens; returns their ids. Other clients' grants are untouched.
    async fn revoke_client_grants(
        &self,
        account_id: &str,
        client_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<String>>;
}

/// Signing keys, shared by every replica.
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn keys(&self) -> anyhow::Result<Vec<StoredKey>>;
    async fn insert_key(&self, key: &StoredKey) -> anyhow::Result<()>;
    async fn set_key_retire_at(&self, kid: &str, retire_at_ms: i64) -> anyhow::Result<()>;
    /// Deletes keys retired before `now_ms`; returns how many.
    async fn delete_retired_keys(&self, now_ms: i64) -> anyhow::Result<u64>;
}

/// Scopes an account consented to give a client.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn consented_scopes(
        &self,
        account_id: &str,
        client_id: &str,
    ) -> anyhow::Result<Vec<String>>;
    async fn put_consent(
        &self,
        account_id: &str,
        client_id: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> anyhow::Result<()>;
    /// Forgets the account's consent to `client_id` (the consent page is shown again next
    /// time); true if there was one.
    async fn delete_consent(&self, account_id: &str, client_id: &str) -> anyhow::Result<bool>;
    /// The clients the account consented to or holds an active (unrevoked, unexpired) grant
    /// for at `now_ms`, one entry per client ordered by client id: the consented scopes (else
    /// those of its grants), and since when (the earliest consent or grant).
    async fn connected_clients(
        &self,
        account_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Vec<ConnectedClient>>;
}

/// A client the account gave access to (`ConsentStore::connected_clients`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedClient {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub since_ms: i64,
}

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

/// The durable outbox (`crate::outbox`): messages waiting to be sent, and their delivery status.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a message on its own; what writes its cause in the same transaction queues it
    /// through that store method instead.
    async fn enqueue(&self, message: &Outgoing) -> anyhow::Result<()>;
    async fn message(&self, id: &str) -> anyhow::Result<Option<Queued>>;
    /// The last `limit` messages, newest first.
    async fn recent_messages(&self, limit: i64) -> anyhow::Result<Vec<Queued>>;
    /// The messages about an account, newest first.
    async fn account_messages(&self, account_id: &str) -> anyhow::Result<Vec<Queued>>;

    /// Takes the delivery lock if nobody holds it; `None`: another replica is delivering. On
    /// PostgreSQL a transaction-level advisory lock, held by a transaction of its own until
    /// released, or until its connection drops (a replica that crashed holds nothing); on
    /// SQLite (one process) a lock of this store's.
    async fn try_lock_delivery(&self) -> anyhow::Result<Option<Box<dyn DeliveryLock>>>;
    /// Pending messages due at `now_ms`, those due longest first, at most `limit`.
    async fn due_messages(
        &self,
        now_ms: i64,
        channels: &[crate::outbox::Channel],
        limit: i64,
    ) -> anyhow::Result<Vec<Queued>>;
    /// Records an attempt on a message that was pending with `attempts_before` attempts; the
    /// attempt count goes up by one. `false` if the message was no longer in that state (so a
    /// statement run twice after a connection failure records the attempt once).
    async fn record_attempt(
        &self,
        id: &str,
        attempts_before: i64,
        attempt: &Attempt,
    ) -> anyhow::Result<bool>;
    /// Messages waiting to be sent (the pending gauge).
    async fn pending_messages(&self) -> anyhow::Result<i64>;
    /// Deletes, `batch` rows at a time, the messages sent or failed before `before_ms` (bounded
    /// growth: their sealed bodies are not kept past the retention); returns how many.
    async fn purge_settled_messages(&self, before_ms: i64, batch: i64) -> anyhow::Result<u64>;
}

/// The outbox's delivery lock, while a pass holds it (`OutboxStore::try_lock_delivery`).
#[async_trait]
pub trait DeliveryLock: Send {
    /// Lets another pass (of any replica) take the lock. Dropping the lock releases it too,
    /// a moment later.
    async fn release(self: Box<Self>) -> anyhow::Result<()>;
}

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

/// What one purge pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub grants: u64,
    pub refresh_tokens: u64,
    pub keys: u64,
    /// Audit events past `backoffice.audit_retention_days` (`maintenance::purge_once`).
    pub audit_events: u64,
    /// Another replica held the purge lock: this pass did nothing.
    pub skipped: bool,
}

/// What tying an upstream identity to an account did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TieOutcome {
    /// Tied now (or it already was, to this very account: tying twice changes nothing).
    Tied,
    /// The upstream identity is tied to another account (`account_id`); nothing changed.
    IdentityTiedElsewhere { account_id: String },
    /// The account already holds another identity of this upstream; nothing changed.
    AccountTiedToAnother,
}

/// Upstream identities (FranceConnect) tied to accounts: `(issuer, subject)` → account.
#[async_trait]
pub trait FederationStore: Send + Sync {
    /// The account the upstream identity `(issuer, subject)` is tied to.
    async fn account_of_upstream(
        &self,
        issuer: &str,
        subject: &str,
    ) -> anyhow::Result<Option<String>>;
    /// Ties `(issuer, subject)` to `account_id`: one identity opens one account, an account
    /// holds one identity per upstream. A conflict changes nothing and says which one.
    async fn tie_upstream(
        &self,
        issuer: &str,
        subject: &str,
        account_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<TieOutcome>;
    /// The subject of `issuer` tied to `account_id`, if any (Mon compte shows the tie).
    async fn upstream_of_account(
        &self,
        account_id: &str,
        issuer: &str,
    ) -> anyhow::Result<Option<String>>;
    /// Undoes the account's tie to `issuer`; true if there was one.
    async fn untie_upstream(&self, account_id: &str, issuer: &str) -> anyhow::Result<bool>;
}

/// Everything that must survive a restart.
#[async_trait]
pub trait DurableStore:
    ClientStore
    + AccountStore
    + GrantStore
    + KeyStore
    + ConsentStore
    + DirectoryStore
    + LinkingStore
    + OutboxStore
    + StaffStore
    + AuditStore
    + BackofficeQueries
    + JournalStore
    + AssistanceStore
    + FederationStore
{
    /// Deletes, in batches of `batch` rows, grants expired or revoked before `now_ms`, refresh
    /// tokens used before `used_before_ms`, and retired keys. Takes a lock so that two replicas
    /// never purge at once (the second one skips).
    async fn purge(&self, now_ms: i64, used_before_ms: i64, batch: i64) -> anyhow::Result<Purged>;
    /// Reachability, for `/readyz`.
    async fn ping(&self) -> anyhow::Result<()>;
    /// Applies the migrations of the store's dialect.
    async fn migrate(&self) -> anyhow::Result<()>;
}
