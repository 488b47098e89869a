//! The two cookies that tell browsers apart, besides the SSO session's:
//!
//! - `educonnect_browser`: a random value whose digest binds login and consent transactions to
//!   the browser that started them (review #13.2). Set by `/authorize` when absent; a cookie of
//!   the browsing session (no `Max-Age`).
//! - `educonnect_device`: the browser's trusted-browser tokens, one per account that logged in
//!   here recently, `.`-separated (ADR 0008).
//!
//! Both HttpOnly, SameSite=Lax, `Secure` when the issuer is https.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::accounts::devices::MAX_PER_BROWSER;
use crate::app::App;
use crate::secrets::{digest, random_b64};

const BINDING: &str = "educonnect_browser";
const DEVICES: &str = "educonnect_device";

fn cookie(app: &App, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(app.config.issuer.starts_with("https://"))
        .same_site(SameSite::Lax)
        .path("/")
        .build()
}

/// The digest of this browser's binding cookie; the empty string (which no transaction holds)
/// when it has none.
pub fn binding(jar: &CookieJar) -> String {
    jar.get(BINDING)
        .map(|c| digest(c.value().as_bytes()))
        .unwrap_or_default()
}

/// The binding of this browser, given one first if it has none.
pub fn ensure_binding(app: &App, jar: CookieJar) -> (CookieJar, String) {
    if jar.get(BINDING).is_some() {
        let binding = binding(&jar);
        return (jar, binding);
    }
    let value = random_b64(24);
    let binding = digest(value.as_bytes());
    (jar.add(cookie(app, BINDING, value)), binding)
}

/// The trusted-browser tokens this browser presents.
pub fn devices(jar: &CookieJar) -> Vec<String> {
    jar.get(DEVICES)
        .map(|c| {
            c.value()
                .split('.')
                .filter(|t| !t.is_empty())
                .take(MAX_PER_BROWSER)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub fn set_devices(app: &App, jar: CookieJar, tokens: &[String]) -> CookieJar {
    let mut cookie = cookie(app, DEVICES, tokens.join("."));
    cookie.set_max_age(cookie::time::Duration::days(
        app.config.throttle.trusted_device_days as i64,
    ));
    jar.add(cookie)
}
