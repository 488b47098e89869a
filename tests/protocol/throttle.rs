//! Login throttling (review #13.1, #13.12, ADR 0008): attempts are counted before the password
//! is checked, so parallel guesses never get more checks than the limit; a browser that logged
//! in to an account keeps its own counter, so a stranger's failures do not lock it out.

use std::sync::Arc;

use crate::common::browser::{hidden, param, Browser, Step};
use crate::common::Backend;
use crate::fixture::{Fixture, LOGIN, PASSWORD};
use crate::on_both_backends;

on_both_backends!(
    parallel_guesses_at_one_account_check_at_most_the_limit,
    parallel_guesses_from_one_address_check_at_most_the_limit,
    a_browser_that_logged_in_is_not_locked_out_by_a_stranger,
);

/// `n` login forms of `browser`, each a transaction of its own: (tx, csrf). `prompt=login`, so
/// a browser with a session is asked too.
async fn login_forms(f: &Fixture, browser: &Browser, n: usize) -> Vec<(String, String)> {
    let mut forms = Vec::new();
    for _ in 0..n {
        let pending = f.request(&[], &[("prompt", "login")]);
        let step = browser.get(f.issuer(), pending.url.as_str()).await;
        let Step::Page { body, .. } = step else {
            panic!("expected the login page")
        };
        forms.push((hidden(&body, "tx").unwrap(), hidden(&body, "csrf").unwrap()));
    }
    forms
}

/// Submits every form at once with its credentials; returns the statuses, in order.
async fn submit_all(
    f: &Fixture,
    browser: &Browser,
    forms: Vec<(String, String)>,
    credentials: impl Fn(usize) -> (String, String),
) -> Vec<u16> {
    let url = f.op.url("/login");
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (tx, csrf)) in forms.into_iter().enumerate() {
        let (login, password) = credentials(i);
        let (http, url) = (browser.http.clone(), url.clone());
        tasks.spawn(async move {
            let response = http
                .post(url)
                .form(&[
                    ("tx", tx.as_str()),
                    ("csrf", csrf.as_str()),
                    ("login", login.as_str()),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (i, response.status().as_u16())
        });
    }
    let mut statuses = tasks.join_all().await;
    statuses.sort_unstable();
    statuses.into_iter().map(|(_, status)| status).collect()
}

async fn parallel_guesses_at_one_account_check_at_most_the_limit(backend: Backend) {
    let f = Fixture::new(backend).await;
    let limit = f.op.app.config.throttle.failures_per_account;
    let browser = Browser::new();
    let forms = login_forms(&f, &browser, 100).await;
    let before = f.op.app.passwords.verifications();
    // 99 wrong passwords, the right one last, all at once.
    let statuses = submit_all(&f, &browser, forms, |i| {
        let password = if i == 99 { PASSWORD } else { "wrong-guess" };
        (LOGIN.to_owned(), password.to_owned())
    })
    .await;
    let checked = f.op.app.passwords.verifications() - before;
    assert!(
        checked <= limit,
        "{checked} passwords checked, the limit is {limit}"
    );
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        refused as u64 >= 100 - limit,
        "{refused} refused: {statuses:?}"
    );
}

async fn parallel_guesses_from_one_address_check_at_most_the_limit(backend: Backend) {
    let f = Fixture::with(backend, |c| c.throttle.failures_per_address = 10).await;
    let browser = Browser::new();
    let forms = login_forms(&f, &browser, 100).await;
    let before = f.op.app.passwords.verifications();
    // One guess at each of 100 logins (the per-account counters never fill).
    let statuses = submit_all(&f, &browser, forms, |i| {
        (format!("x.guess{i:02}"), "wrong-guess".to_owned())
    })
    .await;
    let checked = f.op.app.passwords.verifications() - before;
    assert!(
        checked <= 10,
        "{checked} passwords checked, the limit is 10"
    );
    assert!(
        statuses.iter().filter(|s| **s == 429).count() >= 90,
        "{statuses:?}"
    );
}

async fn a_browser_that_logged_in_is_not_locked_out_by_a_stranger(backend: Backend) {
    let f = Fixture::new(backend).await;
    let limit = f.op.app.config.throttle.failures_per_account as usize;
    // The family's browser logs in once: it is trusted for this account from now on.
    let family = Browser::new();
    let back = family
        .authorize(
            f.issuer(),
            f.request(&[], &[]).url.as_str(),
            LOGIN,
            PASSWORD,
        )
        .await;
    assert!(param(&back, "code").is_some());
    // A stranger guesses until the account is locked for unknown browsers.
    let stranger = Arc::new(Browser::new());
    let forms = login_forms(&f, &stranger, limit + 1).await;
    let statuses = submit_all(&f, &stranger, forms, |_| {
        (LOGIN.to_owned(), "wrong-guess".to_owned())
    })
    .await;
    assert!(statuses.contains(&429), "{statuses:?}");
    // Even the right password is refused from a new browser...
    let newcomer = Browser::new();
    let forms = login_forms(&f, &newcomer, 1).await;
    let statuses = submit_all(&f, &newcomer, forms, |_| {
        (LOGIN.to_owned(), PASSWORD.to_owned())
    })
    .await;
    assert_eq!(statuses, [429]);
    // ...but the family's browser still logs in (prompt=login: a new authentication).
    let pending = f.request(&[], &[("prompt", "login")]);
    let back = family
        .authorize(f.issuer(), pending.url.as_str(), LOGIN, PASSWORD)
        .await;
    assert!(param(&back, "code").is_some());
    // Its own failures are counted on its own counter, which still holds the limit.
    let forms = login_forms(&f, &family, limit + 1).await;
    let statuses = submit_all(&f, &family, forms, |_| {
        (LOGIN.to_owned(), "wrong-guess".to_owned())
    })
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), limit);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1);
}
