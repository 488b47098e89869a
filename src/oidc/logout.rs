//! RP-Initiated Logout 1.0: the end-session endpoint. A valid `id_token_hint` logs out at once
//! and may redirect to a registered `post_logout_redirect_uri` (exact match); without one, or
//! with an invalid one, the person confirms on a page and nothing redirects.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::accounts::sessions::Sessions;
use crate::app::App;
use crate::oidc::access_token;
use crate::oidc::backchannel;
use crate::oidc::form::{self, FormPairs};
use crate::oidc::session::{self, Session};
use crate::oidc::upstream_logout;
use crate::secrets::{constant_time_eq, random_b64};
use crate::store::ephemeral::{put_json, take_json};
use crate::tokens::jwt;

#[derive(Debug)]
pub enum LogoutOutcome {
    /// Logged out; back to the RP.
    Redirect(Url),
    /// Ask the person; `csrf` protects the confirmation form.
    Confirm {
        csrf: String,
    },
    LoggedOut,
    /// A malformed request (a parameter repeated or not UTF-8): nothing done.
    BadRequest(&'static str),
}

/// The confirmation form's token, bound to the browser's session.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    sid: Option<String>,
}

fn pending_key(csrf: &str) -> String {
    format!("logout:{}", crate::secrets::digest(csrf.as_bytes()))
}

pub async fn end_session(
    app: &Arc<App>,
    form: FormPairs,
    session: Option<Session>,
) -> anyhow::Result<LogoutOutcome> {
    // Review #13.13: a parameter repeated is ambiguous (which hint, which target?), one that is
    // not UTF-8 could not be echoed untouched (`state`).
    if !form::repeated(&form.pairs).is_empty() {
        return Ok(LogoutOutcome::BadRequest(
            "La demande de déconnexion contient plusieurs fois le même paramètre.",
        ));
    }
    if !form.malformed.is_empty() {
        return Ok(LogoutOutcome::BadRequest(
            "La demande de déconnexion contient un paramètre illisible.",
        ));
    }
    let params: HashMap<String, String> = form.pairs.into_iter().collect();
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let hint = match get("id_token_hint") {
        Some(hint) => verified_hint(app, hint, get("client_id")).await?,
        None => None,
    };
    let Some(hint) = hint else {
        return confirm(app, session).await;
    };
    // RP-Initiated Logout 1.0 §2: the hint must belong to the session of this browser, not
    // only to its person (review #13.6: an ID token of an ended session would otherwise end the
    // current one without asking). Otherwise the person decides.
    if session.as_ref().is_some_and(|s| !hint.belongs_to(s)) {
        return confirm(app, session).await;
    }
    if let Some(session) = &session {
        log_out(app, session).await?;
    }
    let target = match get("post_logout_redirect_uri") {
        Some(uri) => registered_target(app, &hint.client_id, uri).await?,
        None => None,
    };
    let target = target.map(|mut target| {
        if let Some(state) = get("state") {
            target.query_pairs_mut().append_pair("state", state);
        }
        target
    });
    // A session opened through FranceConnect: its session ends too, then the browser goes on.
    if let Some(session) = &session {
        if let Some(upstream) = upstream_logout::departure(app, session, target.clone()).await? {
            return Ok(LogoutOutcome::Redirect(upstream));
        }
    }
    Ok(match target {
        Some(target) => LogoutOutcome::Redirect(target),
        None => LogoutOutcome::LoggedOut,
    })
}

/// The person confirmed on the page.
pub async fn confirm_logout(
    app: &Arc<App>,
    csrf: &str,
    session: Option<Session>,
) -> anyhow::Result<LogoutOutcome> {
    let Some(pending) = take_json::<PendingLogout>(&*app.ephemeral, &pending_key(csrf)).await?
    else {
        return Ok(LogoutOutcome::LoggedOut);
    };
    if let Some(session) = session {
        let same = pending
            .sid
            .as_deref()
            .is_some_and(|sid| constant_time_eq(sid, &session.sid));
        if same {
            log_out(app, &session).await?;
            if let Some(upstream) = upstream_logout::departure(app, &session, None).await? {
                return Ok(LogoutOutcome::Redirect(upstream));
            }
        }
    }
    Ok(LogoutOutcome::LoggedOut)
}

async fn confirm(app: &App, session: Option<Session>) -> anyhow::Result<LogoutOutcome> {
    let Some(session) = session else {
        return Ok(LogoutOutcome::LoggedOut);
    };
    let csrf = random_b64(24);
    let ttl = Duration::from_secs(app.config.tokens.login_transaction_seconds);
    put_json(
        &*app.ephemeral,
        &pending_key(&csrf),
        &PendingLogout {
            sid: Some(session.sid),
        },
        ttl,
    )
    .await?;
    Ok(LogoutOutcome::Confirm { csrf })
}

struct Hint {
    sub: String,
    sid: Option<String>,
    client_id: String,
}

impl Hint {
    fn belongs_to(&self, session: &Session) -> bool {
        self.sub == session.account_id
            && self
                .sid
                .as_deref()
                .is_some_and(|sid| constant_time_eq(sid, &session.sid))
    }
}

/// An ID token we issued (expired is fine), for `client_id` if one is given.
async fn verified_hint(
    app: &App,
    hint: &str,
    client_id: Option<&str>,
) -> anyhow::Result<Option<Hint>> {
    let Ok(claims) = jwt::verify(&app.keys, app.issuer(), hint, None).await? else {
        return Ok(None);
    };
    let (Some(sub), Some(aud)) = (claims["sub"].as_str(), claims["aud"].as_str()) else {
        return Ok(None);
    };
    if client_id.is_some_and(|id| id != aud) {
        return Ok(None);
    }
    Ok(Some(Hint {
        sub: sub.to_owned(),
        sid: claims["sid"].as_str().map(str::to_owned),
        client_id: aud.to_owned(),
    }))
}

async fn registered_target(app: &App, client_id: &str, uri: &str) -> anyhow::Result<Option<Url>> {
    let Some(client) = app.client(client_id).await? else {
        return Ok(None);
    };
    if !client.has_post_logout_redirect_uri(uri) {
        return Ok(None);
    }
    Ok(Url::parse(uri).ok())
}

/// Ends every SSO session of an account that can no longer log in (an account merged into
/// another), as a logout would: grants, access tokens, back-channel notices.
pub async fn end_sessions_of(app: &Arc<App>, account_id: &str) -> anyhow::Result<()> {
    for sid in session::of_account(app, account_id).await? {
        if let Some(session) = session::by_sid(app, &sid).await? {
            log_out(app, &session).await?;
        }
    }
    Ok(())
}

/// How `accounts` ends an account's sessions (a merge) without depending on `oidc`.
#[async_trait::async_trait]
impl Sessions for Arc<App> {
    async fn end_all(&self, account_id: &str) -> anyhow::Result<()> {
        end_sessions_of(self, account_id).await
    }

    async fn revoke_grants(&self, account_id: &str) -> anyhow::Result<()> {
        let now = self.now_ms();
        for grant_id in self.durable.revoke_account_grants(account_id, now).await? {
            crate::oidc::access_token::revoke_grant(self, &grant_id).await?;
        }
        Ok(())
    }
}

/// Ends the SSO session: the session itself, the grants bound to it (not the offline ones), and
/// a back-channel logout to every RP of the session that registered for it.
pub async fn log_out(app: &Arc<App>, session: &Session) -> anyhow::Result<()> {
    let clients = session::clients(app, &session.sid).await?;
    let token_grants = session::token_grants(app, &session.sid).await?;
    session::destroy(app, &session.sid).await?;
    let durable = app
        .durable
        .revoke_session_grants(&session.sid, app.now_ms())
        .await?;
    // Access tokens of clients without refresh tokens have no durable grant: their grant ids
    // were kept with the session.
    for grant_id in durable.iter().chain(&token_grants) {
        access_token::revoke_grant(app, grant_id).await?;
    }
    backchannel::notify(app, &clients, &session.account_id, &session.sid).await?;
    Ok(())
}
