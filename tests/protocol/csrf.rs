//! Login CSRF (review #13.2): a login or consent transaction belongs to the browser that started
//! it, and the forms of our pages are accepted only from our pages.

use crate::common::browser::{hidden, Browser, Step};
use crate::common::Backend;
use crate::fixture::{Fixture, LOGIN, PASSWORD};
use crate::on_both_backends;

on_both_backends!(
    another_browser_cannot_submit_a_login_transaction,
    forms_posted_from_another_site_are_refused,
);

async fn another_browser_cannot_submit_a_login_transaction(backend: Backend) {
    let f = Fixture::new(backend).await;
    // The attacker starts an authorization in their own browser and reads the form's values.
    let attacker = Browser::new();
    let step = attacker
        .get(f.issuer(), f.request(&[], &[]).url.as_str())
        .await;
    let Step::Page { body, url, .. } = step else {
        panic!("expected the login page")
    };
    let (tx, csrf) = (hidden(&body, "tx").unwrap(), hidden(&body, "csrf").unwrap());
    // The victim's browser submits them with the attacker's credentials: refused, no session.
    let victim = Browser::new();
    let form = [
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("login", LOGIN),
        ("password", PASSWORD),
    ];
    let response = post_login(&f, &victim, &form).await;
    assert_eq!(response.status(), 400);
    assert!(response
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("educonnect_session=")));
    assert!(response.text().await.unwrap().contains("a expiré"));
    // Nor is the victim's browser shown the attacker's login page (its CSRF token).
    let Step::Page { status, body, .. } = victim.get(f.issuer(), url.as_str()).await else {
        panic!("expected a page")
    };
    assert_eq!(status, 400);
    assert!(!body.contains(&csrf));
    // The browser that started it still can.
    assert_eq!(post_login(&f, &attacker, &form).await.status(), 303);
}

async fn post_login(f: &Fixture, browser: &Browser, form: &[(&str, &str)]) -> reqwest::Response {
    browser
        .http
        .post(f.op.url("/login"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn forms_posted_from_another_site_are_refused(backend: Backend) {
    let f = Fixture::new(backend).await;
    let browser = Browser::new();
    let step = browser
        .get(f.issuer(), f.request(&[], &[]).url.as_str())
        .await;
    let Step::Page { body, .. } = step else {
        panic!("expected the login page")
    };
    let form = [
        ("tx", hidden(&body, "tx").unwrap()),
        ("csrf", hidden(&body, "csrf").unwrap()),
        ("login", LOGIN.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let post = |path: &str, headers: &[(&'static str, &'static str)]| {
        let mut request = browser.http.post(f.op.url(path)).form(&form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
    ] {
        for path in [
            "/login",
            "/consent",
            "/logout/confirm",
            "/compte/rattacher",
            "/compte/rapprochement",
        ] {
            let response = post(path, headers).await.unwrap();
            assert_eq!(response.status(), 403, "{path} {headers:?}");
            assert!(response.text().await.unwrap().contains("ne vient pas"));
        }
    }
    // From our own page: accepted (and the transaction was not spent by the refusals).
    let origin = f.op.issuer.clone();
    let response = browser
        .http
        .post(f.op.url("/login"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", origin)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}
