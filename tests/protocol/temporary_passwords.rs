//! Temporary passwords (issue #15; the letters, e-mails and activation have tests of their own): a
//! notification gives the account a new temporary password and makes it `notified`; the password
//! works as printed until its letter's validity ends, then the login page says to ask for a new
//! letter; a new one invalidates the previous; resetting an active account's password ends its
//! sessions and revokes its grants.

use std::time::Duration;

use crate::common::browser::Step;
use crate::common::{Backend, TestOp};
use crate::fixture::{access, refresh, Fixture, LOGIN, PASSWORD};
use crate::on_both_backends;
use educonnect::accounts::credentials::{self, Checked};
use educonnect::accounts::lifecycle::issue_temporary_password;
use educonnect::accounts::temporary::TemporaryPassword;
use educonnect::accounts::{Account, AccountState};
use educonnect::secrets::Secret;

on_both_backends!(
    a_temporary_password_works_as_printed_until_its_letter_expires,
    a_new_temporary_password_invalidates_the_previous_one,
    resetting_an_active_accounts_password_ends_its_sessions_and_grants,
);

/// Three months, as the letters say by default.
const VALIDITY: Duration = Duration::from_secs(92 * 24 * 3600);

async fn issue(f: &Fixture, account: &Account) -> TemporaryPassword {
    let app = &f.op.app;
    let until = app.now_ms() + VALIDITY.as_millis() as i64;
    issue_temporary_password(
        &*app.durable,
        &app.passwords,
        app,
        account,
        until,
        app.now_ms(),
        |_| Ok(None),
    )
    .await
    .unwrap()
}

async fn account(f: &Fixture) -> Account {
    f.op.app.durable.account(&f.sub).await.unwrap().unwrap()
}

/// What a login check says of `typed` for `login`, as one word.
pub(crate) async fn checked(op: &TestOp, login: &str, typed: &str) -> &'static str {
    let checked = credentials::check(
        &op.app.credentials(),
        login,
        &Secret::from_presented(typed),
        "192.0.2.1",
        None,
    )
    .await
    .unwrap();
    match checked {
        Checked::Valid(_) => "valid",
        Checked::Temporary(_) => "temporary",
        Checked::TemporaryExpired { .. } => "expired",
        Checked::Wrong { .. } => "wrong",
        Checked::Throttled => "throttled",
    }
}

async fn a_temporary_password_works_as_printed_until_its_letter_expires(backend: Backend) {
    let f = Fixture::new(backend).await;
    let password = issue(&f, &account(&f).await).await;
    let stored = account(&f).await;
    assert_eq!(stored.state, AccountState::Notified);
    assert!(stored.password_expires_at.is_some());
    let shown = password.shown().expose().to_owned();
    assert_eq!(checked(&f.op, LOGIN, &shown).await, "temporary");
    // Typed without the dashes, in capitals: the same password.
    let sloppy = shown.replace('-', " ").to_uppercase();
    assert_eq!(checked(&f.op, LOGIN, &sloppy).await, "temporary");
    // The account's previous password no longer works.
    assert_eq!(checked(&f.op, LOGIN, PASSWORD).await, "wrong");
    // Past the letter's validity: refused, and the login page says what to do.
    f.op.clock.advance(VALIDITY + Duration::from_secs(1));
    assert_eq!(checked(&f.op, LOGIN, &shown).await, "expired");
    let step = f
        .browser
        .get(f.issuer(), f.request(&["openid"], &[]).url.as_str())
        .await;
    let step = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, &shown)
        .await;
    let Step::Page { status, body, .. } = step else {
        panic!("expected the login page again")
    };
    assert_eq!(status, 401);
    assert!(
        body.contains("Votre mot de passe provisoire a expiré")
            && body.contains("Demandez un nouveau courrier"),
        "{body}"
    );
}

async fn a_new_temporary_password_invalidates_the_previous_one(backend: Backend) {
    let f = Fixture::new(backend).await;
    let first = issue(&f, &account(&f).await).await;
    let second = issue(&f, &account(&f).await).await;
    assert_eq!(
        checked(&f.op, LOGIN, first.shown().expose()).await,
        "wrong",
        "the first letter's password"
    );
    assert_eq!(
        checked(&f.op, LOGIN, second.shown().expose()).await,
        "temporary"
    );
}

async fn resetting_an_active_accounts_password_ends_its_sessions_and_grants(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (tokens, _) = f.login(&["openid"]).await;
    assert_eq!(f.introspect(&access(&tokens)).await["active"], true);
    let before = account(&f).await;
    assert_eq!(before.state, AccountState::Active);
    issue(&f, &before).await;
    // The access and refresh tokens are dead, the refresh token refused.
    assert_eq!(f.introspect(&access(&tokens)).await["active"], false);
    assert_eq!(f.introspect(&refresh(&tokens)).await["active"], false);
    let (status, body) = f
        .token_raw(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens)),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The browser's SSO session ended: a silent authorization needs a login.
    let pending = f.request(&["openid"], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!("expected a redirect to the RP")
    };
    assert_eq!(
        crate::common::browser::param(&back, "error").as_deref(),
        Some("login_required")
    );
}
