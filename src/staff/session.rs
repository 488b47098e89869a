//! The back-office session, apart from the SSO session: its own cookie (path `/gestion`,
//! SameSite=Strict), its own keys in the ephemeral store, a short idle timeout and an absolute
//! lifetime (`backoffice.idle_seconds`, `backoffice.lifetime_seconds`). The cookie holds
//! `sid.secret`; only the secret's digest is stored. The session id is renewed at sign-in and
//! when the second factor is presented, so a fixated cookie is worthless.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::secrets::{constant_time_eq, random_b64, Secret};
use crate::store::ephemeral::{get_json, put_json};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    pub sid: String,
    secret_digest: String,
    pub staff_id: String,
    /// When the password was checked: the absolute lifetime counts from it.
    pub started_at_ms: i64,
    pub last_seen_ms: i64,
    /// When the second factor was presented in this sign-in; `None`: password only.
    pub second_factor_at: Option<i64>,
    /// A TOTP secret being enrolled (sealed with the key-encryption key), until its first code
    /// confirms it.
    pub enrolling: Option<String>,
}

impl StaffSession {
    /// The CSRF token of the back-office forms: derived from the cookie's secret, which only
    /// the owner's browser holds.
    pub fn csrf_token(&self) -> String {
        crate::secrets::digest(format!("gestion-csrf:{}", self.secret_digest).as_bytes())
    }

    pub fn second_factor(&self) -> bool {
        self.second_factor_at.is_some()
    }
}

fn key(sid: &str) -> String {
    format!("staff-session:{{{sid}}}")
}

/// The ids of a staff member's sessions started within the lifetime (some may have ended).
fn staff_sessions_key(staff_id: &str) -> String {
    format!("staff-sessions:{{{staff_id}}}")
}

/// How long the stored session lives from `now_ms`: the idle timeout, never past the absolute
/// lifetime.
fn ttl(app: &App, session: &StaffSession, now_ms: i64) -> Option<Duration> {
    let config = &app.config.backoffice;
    let end = session.started_at_ms + config.lifetime_seconds as i64 * 1000;
    let left = end - now_ms;
    (left > 0).then(|| Duration::from_millis((left as u64).min(config.idle_seconds * 1000)))
}

async fn store(app: &App, session: &StaffSession) -> anyhow::Result<()> {
    match ttl(app, session, app.now_ms()) {
        Some(ttl) => put_json(&*app.ephemeral, &key(&session.sid), session, ttl).await,
        None => end(app, &session.sid).await,
    }
}

/// A new session for `staff_id` whose password was just checked. Returns it and the cookie
/// value.
pub async fn create(app: &App, staff_id: &str) -> anyhow::Result<(StaffSession, Secret)> {
    let now = app.now_ms();
    renewed(
        app,
        StaffSession {
            sid: String::new(),
            secret_digest: String::new(),
            staff_id: staff_id.to_owned(),
            started_at_ms: now,
            last_seen_ms: now,
            second_factor_at: None,
            enrolling: None,
        },
    )
    .await
}

/// The same session under a new id and secret (the old one ends): after the second factor.
pub async fn renew(app: &App, session: StaffSession) -> anyhow::Result<(StaffSession, Secret)> {
    end(app, &session.sid).await?;
    renewed(app, session).await
}

async fn renewed(app: &App, mut session: StaffSession) -> anyhow::Result<(StaffSession, Secret)> {
    let sid = random_b64(24);
    let secret = Secret::generate();
    session.sid = sid.clone();
    session.secret_digest = secret.digest();
    session.last_seen_ms = app.now_ms();
    store(app, &session).await?;
    app.ephemeral
        .set_add(
            &staff_sessions_key(&session.staff_id),
            &sid,
            Duration::from_secs(app.config.backoffice.lifetime_seconds),
        )
        .await?;
    Ok((
        session,
        Secret::from_presented(&format!("{sid}.{}", secret.expose())),
    ))
}

/// Saves what changed in a live session (an enrolment under way).
pub async fn save(app: &App, session: &StaffSession) -> anyhow::Result<()> {
    store(app, session).await
}

/// The live session a cookie designates, its idle timeout restarted; `None` when there is none,
/// it timed out, or it outlived its lifetime.
pub async fn from_cookie(app: &App, cookie: &str) -> anyhow::Result<Option<StaffSession>> {
    let Some((sid, secret)) = cookie.split_once('.') else {
        return Ok(None);
    };
    let Some(mut session) = get_json::<StaffSession>(&*app.ephemeral, &key(sid)).await? else {
        return Ok(None);
    };
    if !constant_time_eq(
        &session.secret_digest,
        &Secret::from_presented(secret).digest(),
    ) {
        return Ok(None);
    }
    let now = app.now_ms();
    let idle = app.config.backoffice.idle_seconds as i64 * 1000;
    if now - session.last_seen_ms >= idle || ttl(app, &session, now).is_none() {
        end(app, sid).await?;
        return Ok(None);
    }
    session.last_seen_ms = now;
    store(app, &session).await?;
    Ok(Some(session))
}

pub async fn end(app: &App, sid: &str) -> anyhow::Result<()> {
    app.ephemeral.delete(&key(sid)).await
}

/// Ends every session of the staff member but `keep` (the one that changed the password).
pub async fn end_others(app: &App, staff_id: &str, keep: &str) -> anyhow::Result<()> {
    for sid in app
        .ephemeral
        .set_members(&staff_sessions_key(staff_id))
        .await?
    {
        if sid != keep {
            end(app, &sid).await?;
        }
    }
    Ok(())
}
