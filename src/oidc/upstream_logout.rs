//! The end of an SSO session opened through FranceConnect ends FranceConnect's session too
//! (issue #18): the session keeps the upstream ID token (`Session::upstream_id_token`, given
//! by the FranceConnect login); an RP-initiated logout of that session sends the browser to the
//! upstream end-session endpoint (`federation::end_session_url`: `id_token_hint`, a random
//! `state`, our registered `post_logout_redirect_uri`) with where to go afterwards parked under
//! `fc-logout:<digest of state>`; the upstream sends the browser back
//! (`franceconnect.post_logout_redirect`), and `returned` resumes: the relying party's
//! `post_logout_redirect_uri` as before, or the logged-out page. Back-channel logout is
//! unchanged (`logout::log_out` runs first).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::app::App;
use crate::oidc::session::Session;
use crate::secrets::{digest, random_b64};
use crate::store::ephemeral::{put_json, take_json};

fn parked_key(state: &str) -> String {
    format!("fc-logout:{}", digest(state.as_bytes()))
}

/// Where the browser goes once the upstream session has ended.
#[derive(Serialize, Deserialize)]
struct Parked {
    then: Option<Url>,
}

/// For a session being logged out by its browser: where to send the browser so that the
/// upstream session ends too, `then` afterwards. `None` when the session was not opened through
/// FranceConnect (or FranceConnect is off): go to `then` directly. An upstream that cannot be
/// reached does not hold the logout up: ours is done, the browser goes on.
pub async fn departure(
    app: &App,
    session: &Session,
    then: Option<Url>,
) -> anyhow::Result<Option<Url>> {
    let Some(upstream) = app.franceconnect.as_deref() else {
        return Ok(None);
    };
    let Some(id_token) = &session.upstream_id_token else {
        return Ok(None);
    };
    let state = random_b64(32);
    let ttl = Duration::from_secs(app.config.tokens.login_transaction_seconds);
    put_json(&*app.ephemeral, &parked_key(&state), &Parked { then }, ttl).await?;
    match crate::federation::end_session_url(upstream, id_token.expose(), &state).await {
        Ok(url) => Ok(Some(url)),
        Err(error) => {
            tracing::warn!(%error, "the FranceConnect session could not be ended");
            app.ephemeral.delete(&parked_key(&state)).await?;
            Ok(None)
        }
    }
}

/// The upstream sent the browser back with `state`: where it goes now (`None`: the logged-out
/// page). A `state` not ours (or used) leads to the logged-out page too.
pub async fn returned(app: &App, state: &str) -> anyhow::Result<Option<Url>> {
    let parked: Option<Parked> = take_json(&*app.ephemeral, &parked_key(state)).await?;
    Ok(parked.and_then(|p| p.then))
}
