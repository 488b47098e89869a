//! The upstream federation's storage seam: FranceConnect identities tied to accounts
//! (`FederationStore`, table `federated_identities`). Implemented by `sql::federation`;
//! contract in `tests/store_contract.rs`.

use async_trait::async_trait;

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
