//! The SSO session cookie: HttpOnly, SameSite=Lax, Secure when the issuer is https.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::app::App;
use crate::oidc::session::{self, Session};
use crate::secrets::Secret;

/// The live session of this browser, if any.
pub async fn current(app: &App, jar: &CookieJar) -> anyhow::Result<Option<Session>> {
    match jar.get(&app.config.session.cookie_name) {
        Some(cookie) => session::from_cookie(app, cookie.value()).await,
        None => Ok(None),
    }
}

pub fn set(app: &App, jar: CookieJar, value: &Secret) -> CookieJar {
    let cookie = Cookie::build((
        app.config.session.cookie_name.clone(),
        value.expose().to_owned(),
    ))
    .http_only(true)
    .secure(app.config.issuer.starts_with("https://"))
    .same_site(SameSite::Lax)
    .path("/")
    .max_age(cookie::time::Duration::seconds(
        app.config.session.lifetime_seconds as i64,
    ));
    jar.add(cookie)
}

pub fn clear(app: &App, jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(app.config.session.cookie_name.clone()).path("/"))
}
