//! Mon compte's connected services (issue #17): the relying parties the account consented to
//! or holds live grants for, and revoking one: its consent is forgotten (the consent page comes
//! back next time), its grants for the account are revoked (refresh tokens stop working) and
//! the access tokens issued under them with them.

use async_trait::async_trait;

use crate::audit::{self, Action, Event, Outcome};
use crate::clock::Clock;
use crate::store::{AuditStore, ClientStore, ConsentStore, GrantStore};

/// How a revoked grant's access tokens stop working (the OIDC side: `oidc::access_token`),
/// without this module depending on `App`.
#[async_trait]
pub trait AccessTokens: Send + Sync {
    async fn revoke_grant(&self, grant_id: &str) -> anyhow::Result<()>;
}

/// What the connected services need, lent from the replica's state.
pub struct Services<'a> {
    pub clients: &'a dyn ClientStore,
    pub consents: &'a dyn ConsentStore,
    pub grants: &'a dyn GrantStore,
    pub tokens: &'a dyn AccessTokens,
    pub audit: &'a dyn AuditStore,
    pub clock: &'a dyn Clock,
}

/// A relying party the account gave access to, as the page shows it.
#[derive(Clone, Debug)]
pub struct ConnectedService {
    pub client_id: String,
    pub name: String,
    /// What it receives, in French (`oidc::scope::label`).
    pub gives: Vec<&'static str>,
    pub since_ms: i64,
}

/// The account's connected services, by client id; a client since removed is not listed
/// (nothing can reach it any more).
pub async fn list(s: &Services<'_>, account_id: &str) -> anyhow::Result<Vec<ConnectedService>> {
    let now = s.clock.now_ms();
    let mut services = Vec::new();
    for connected in s.consents.connected_clients(account_id, now).await? {
        let Some(client) = s.clients.client(&connected.client_id).await? else {
            continue;
        };
        services.push(ConnectedService {
            client_id: connected.client_id,
            name: client.name,
            gives: connected
                .scopes
                .iter()
                .filter_map(|scope| crate::oidc::scope::label(scope))
                .collect(),
            since_ms: connected.since_ms,
        });
    }
    Ok(services)
}

/// Revokes `client_id`'s access to the account; false if it had none (nothing done).
pub async fn revoke(
    s: &Services<'_>,
    account_id: &str,
    client_id: &str,
    address: &str,
) -> anyhow::Result<bool> {
    let now = s.clock.now_ms();
    let had_consent = s.consents.delete_consent(account_id, client_id).await?;
    let grants = s
        .grants
        .revoke_client_grants(account_id, client_id, now)
        .await?;
    for grant_id in &grants {
        s.tokens.revoke_grant(grant_id).await?;
    }
    if !had_consent && grants.is_empty() {
        return Ok(false);
    }
    let actor = format!("account:{account_id}");
    let event = Event::new(&actor, Action::AccountConsentRevoked, Outcome::Ok, now)
        .on_account(account_id)
        .from_address(Some(address))
        .detail(client_id.to_owned());
    audit::record(s.audit, event).await;
    Ok(true)
}
