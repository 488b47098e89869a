//! Storage seams. Durable: PostgreSQL or SQLite behind one `sqlx::AnyPool` implementation.
//! Ephemeral: Redis or an in-process map. Each trait states its contract; the contract test suite
//! (`tests/store_contract.rs`) runs against both implementations of both families.

mod backoffice;
mod directory;
pub mod ephemeral;
mod federation;
pub mod sql;
mod unavailable;

use async_trait::async_trait;

use crate::accounts::{Account, AccountState};
use crate::clients::Client;
use crate::oidc::grants::{Grant, RefreshToken};
use crate::outbox::{Attempt, Outgoing, Queued};
use crate::tokens::keys::StoredKey;

pub use backoffice::{
    AssistanceQuery, AssistanceStore, AuditQuery, AuditStore, BackofficeQueries, InsertStaffError,
    JournalCursor, JournalQuery, JournalStore, StaffStore,
};
pub use directory::{DirectoryStore, ImportTx, LinkingStore};
pub use ephemeral::{EphemeralStore, Taken};
pub use federation::{FederationStore, TieOutcome};
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
