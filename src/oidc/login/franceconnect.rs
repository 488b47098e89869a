//! The FranceConnect method: the login transaction's browser is sent to the upstream provider
//! (`federation::start`), comes back to the callback (`federation::callback`: state, code, ID
//! token, signed userinfo), and the upstream identity, if it is tied to an account
//! (`FederationStore`), completes the login (`super::complete`) with the upstream's `acr`, the
//! `amr` `fc`, and the upstream login's time as `auth_time`. An identity tied to no account is
//! handed back (`Returned::Untied`) for the tie pages. Pupils cannot use FranceConnect.

use std::time::Duration;

use super::{complete, Authenticated, Completed};
use crate::accounts::{Account, Profile};
use crate::app::App;
use crate::audit::{self, Action, Event};
use crate::federation::{self, CallbackParams, FederationError, UpstreamIdentity};
use crate::oidc::authorize::{transaction, Browser, Transaction};
use crate::oidc::session::Session;

/// The `amr` of a login through FranceConnect (docs/claims.md). Not in the RFC 8176 registry,
/// which has no value for a federated login; RFC 8176 §2 lets a provider use its own.
pub const FRANCECONNECT_AMR: &str = "fc";

/// Where `start` sends the browser.
#[derive(Debug)]
pub enum Started {
    /// To the upstream's authorization endpoint.
    Upstream(url::Url),
    /// The transaction expired, was used, or is another browser's.
    Expired,
    /// FranceConnect is not enabled.
    Disabled,
    /// The upstream does not answer: the password login of `tx_id` instead.
    Unavailable { tx_id: String },
}

/// Starts the upstream login for the login transaction `tx_id`, whose login page's CSRF token
/// is `csrf` (the button is a form of that page).
pub async fn start(
    app: &App,
    tx_id: &str,
    csrf: &str,
    browser: &Browser,
) -> anyhow::Result<Started> {
    let Some(upstream) = app.franceconnect.as_deref() else {
        return Ok(Started::Disabled);
    };
    let Some(tx) = transaction::load(app, tx_id).await? else {
        return Ok(Started::Expired);
    };
    // Review #13.2: only the browser that started the transaction may answer it, from its page.
    if !tx.answered_by(browser, csrf) || tx.account_id.is_some() {
        return Ok(Started::Expired);
    }
    let ttl = Duration::from_secs(app.config.tokens.login_transaction_seconds);
    match federation::start(upstream, &*app.ephemeral, &tx.id, &browser.binding, ttl).await {
        Ok(url) => Ok(Started::Upstream(url)),
        Err(FederationError::Unavailable(reason)) => {
            tracing::warn!(%reason, "FranceConnect unavailable at the start of a login");
            Ok(Started::Unavailable { tx_id: tx.id })
        }
        Err(FederationError::Internal(e)) => Err(e),
        Err(other) => Err(anyhow::anyhow!(other)),
    }
}

/// Why an upstream login failed, as the person is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The person cancelled at FranceConnect.
    Cancelled,
    /// FranceConnect down, slow, or answering errors.
    Unavailable,
    /// FranceConnect answered something we refuse (an error, a token that does not verify).
    Refused,
    /// The tied account may not log in (disabled, or a pupil's).
    AccountRefused,
}

impl Failure {
    pub fn message(self) -> &'static str {
        match self {
            Failure::Cancelled => "Vous avez annulé la connexion avec FranceConnect.",
            Failure::Unavailable => {
                "FranceConnect est momentanément indisponible. Connectez-vous avec votre \
                 identifiant et votre mot de passe EduConnect."
            }
            Failure::Refused => {
                "La connexion avec FranceConnect n'a pas abouti. Connectez-vous avec votre \
                 identifiant et votre mot de passe EduConnect."
            }
            Failure::AccountRefused => {
                "Ce compte ne peut pas se connecter avec FranceConnect. Connectez-vous avec \
                 votre identifiant et votre mot de passe EduConnect."
            }
        }
    }
}

/// How the callback ended.
#[allow(clippy::large_enum_variant)] // short-lived
pub enum Returned {
    Completed(Completed),
    /// A verified upstream identity tied to no account: the tie comes next.
    Untied {
        tx_id: String,
        identity: UpstreamIdentity,
    },
    /// Failed; `tx_id` the login transaction to offer the password login of, when still ours.
    Failed {
        tx_id: Option<String>,
        failure: Failure,
    },
    /// No login of ours: unknown or replayed state, another browser, an expired transaction.
    Expired,
}

/// The callback `params`, from `browser`; `previous` its SSO session, replaced at login.
pub async fn finish(
    app: &App,
    params: CallbackParams,
    browser: &Browser,
    previous: Option<Session>,
) -> anyhow::Result<Returned> {
    let Some(upstream) = app.franceconnect.as_deref() else {
        return Ok(Returned::Expired);
    };
    let now = app.now_ms() / 1000;
    let returned = match federation::callback(
        upstream,
        &*app.ephemeral,
        params,
        &browser.binding,
        now,
    )
    .await
    {
        Ok(returned) => returned,
        Err(failed) => return failure(failed),
    };
    let Some(tx) = transaction::load(app, &returned.tx_id).await? else {
        return Ok(Returned::Expired);
    };
    if !tx.belongs_to(browser) || tx.account_id.is_some() {
        return Ok(Returned::Expired);
    }
    let identity = returned.identity;
    let tied = app
        .durable
        .account_of_upstream(&identity.issuer, &identity.subject)
        .await?;
    let account = match tied {
        Some(id) => app.durable.account(&id).await?,
        None => None,
    };
    let Some(account) = account else {
        return Ok(Returned::Untied {
            tx_id: tx.id,
            identity,
        });
    };
    record(app, &account, &browser.address, usable(&account)).await;
    if !usable(&account) {
        return Ok(Returned::Failed {
            tx_id: Some(tx.id),
            failure: Failure::AccountRefused,
        });
    }
    Ok(
        match completed(app, tx, identity, account, previous, browser).await? {
            Some(completed) => Returned::Completed(completed),
            None => Returned::Expired,
        },
    )
}

/// Completes the login of `tx` for `account`, which the upstream `identity` is tied to: the
/// upstream's `acr`, the `amr` `fc`, the upstream login's time as `auth_time` (never in the
/// future of our clock); the session keeps the upstream ID token for the upstream logout
/// (`upstream_logout`). `None` when the transaction was taken meanwhile.
pub async fn completed(
    app: &App,
    tx: Transaction,
    identity: UpstreamIdentity,
    account: Account,
    previous: Option<Session>,
    browser: &Browser,
) -> anyhow::Result<Option<Completed>> {
    let now = app.now_ms() / 1000;
    let who = Authenticated {
        acr: identity.acr,
        amr: vec![FRANCECONNECT_AMR.to_owned()],
        auth_time: identity.auth_time.map_or(now, |t| t.min(now)),
        account,
        upstream_id_token: Some(identity.id_token),
    };
    complete(app, tx, who, previous, browser).await
}

/// Only a guardian or a person in charge, whose account may log in (design: « a guardian may
/// log in through FranceConnect »; pupils cannot).
fn usable(account: &Account) -> bool {
    account.state.can_log_in() && account.profile != Profile::Pupil
}

fn failure(failed: federation::Failed) -> anyhow::Result<Returned> {
    let failure = match failed.error {
        FederationError::UnknownState => return Ok(Returned::Expired),
        FederationError::Internal(e) => return Err(e),
        FederationError::Cancelled => Failure::Cancelled,
        FederationError::Unavailable(reason) => {
            tracing::warn!(%reason, "FranceConnect unavailable at a callback");
            Failure::Unavailable
        }
        error @ (FederationError::Upstream { .. }
        | FederationError::IdToken(_)
        | FederationError::UserInfo(_)) => {
            tracing::warn!(%error, "FranceConnect login refused");
            Failure::Refused
        }
    };
    metrics::counter!("educonnect_logins_total", "result" => "failed").increment(1);
    Ok(Returned::Failed {
        tx_id: failed.tx_id,
        failure,
    })
}

/// The sign-in in the audit trail, on the tied account.
async fn record(app: &App, account: &Account, address: &str, allowed: bool) {
    let outcome = if allowed {
        audit::Outcome::Ok
    } else {
        audit::Outcome::Failed
    };
    let event = Event::new(
        &format!("account:{}", account.id),
        Action::AccountSignIn,
        outcome,
        app.now_ms(),
    )
    .from_address(Some(address))
    .on_account(&account.id)
    .detail("franceconnect");
    audit::record(&*app.durable, event).await
}
