//! Ending an account's SSO sessions, as seen from `accounts`: an account that can no longer log
//! in (merged into another today; disabled by the back-office next) must not stay signed in
//! anywhere. The OIDC logout does the work (grants, access tokens, back-channel notices); this
//! trait lets the account flows ask for it without depending on `oidc` or `App`.

use async_trait::async_trait;

#[async_trait]
pub trait Sessions: Send + Sync {
    /// Ends every SSO session of the account, as a logout would.
    async fn end_all(&self, account_id: &str) -> anyhow::Result<()>;
    /// Revokes every refresh grant of the account, `offline_access` ones included, and the
    /// access tokens issued under them (a password reset).
    async fn revoke_grants(&self, account_id: &str) -> anyhow::Result<()>;
}
