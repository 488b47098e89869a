//! The upstream logout (OpenID Connect RP-Initiated Logout 1.0, FranceConnect's
//! `/api/v2/session/end`): where to send the browser so that the upstream session ends too, with
//! the upstream ID token as `id_token_hint`, a `state`, and our registered
//! `post_logout_redirect_uri` (`franceconnect.post_logout_redirect`).

use std::str::FromStr;

use openidconnect::core::CoreIdToken;
use openidconnect::{CsrfToken, LogoutRequest, PostLogoutRedirectUrl};
use url::Url;

use super::error::{FederationError, Refusal};
use super::upstream::Upstream;

/// The upstream end-session URL for the session whose upstream ID token is `id_token`.
pub async fn end_session_url(
    upstream: &Upstream,
    id_token: &str,
    state: &str,
) -> Result<Url, FederationError> {
    let metadata = upstream.metadata().await?;
    let endpoint = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .ok_or_else(|| FederationError::Unavailable("no end_session_endpoint".into()))?;
    let hint = CoreIdToken::from_str(id_token)
        .map_err(|_| FederationError::IdToken(Refusal::Malformed))?;
    let back = PostLogoutRedirectUrl::new(upstream.post_logout_redirect_uri.clone())
        .map_err(|e| FederationError::Internal(e.into()))?;
    Ok(LogoutRequest::from(endpoint)
        .set_id_token_hint(&hint)
        .set_post_logout_redirect_uri(back)
        .set_state(CsrfToken::new(state.to_owned()))
        .http_get_url())
}
