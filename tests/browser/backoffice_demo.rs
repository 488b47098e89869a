//! The back-office as a newcomer tries it on the demo (issue #16): the demo page gives the demo
//! staff, their password and the code their authenticator would show; the head signs in at
//! `/gestion`, « Afficher » shows the password typed, the second factor is asked for and taken.
//! axe-core finds no WCAG 2.1 A/AA violation on any of these pages.

use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::Backend;
use super::{axe, demo_op, wait_for};

crate::on_both_backends!(a_newcomer_signs_in_as_the_demo_head_with_the_code_of_the_demo_page,);

async fn a_newcomer_signs_in_as_the_demo_head_with_the_code_of_the_demo_page(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    browser.goto(&op.url("/demo")).await.unwrap();
    wait_for(&browser, "#gestion-link")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&browser, "#demo-totp").await;
    axe::assert_no_violations(&browser, "demo back-office page").await;
    let source = browser.source().await.unwrap();
    assert!(source.contains("m.bernard") && source.contains(educonnect::demo::DEMO_STAFF_PASSWORD));

    browser.goto(&op.url("/gestion")).await.unwrap();
    wait_for(&browser, "#login")
        .await
        .send_keys("m.bernard")
        .await
        .unwrap();
    let password = wait_for(&browser, "#password").await;
    password
        .send_keys(educonnect::demo::DEMO_STAFF_PASSWORD)
        .await
        .unwrap();
    axe::assert_no_violations(&browser, "back-office sign-in").await;
    // « Afficher » shows the password, then masks it again (our own script, under the CSP).
    wait_for(&browser, "label[for=password-show]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        password.attr("type").await.unwrap().as_deref(),
        Some("text")
    );
    wait_for(&browser, "label[for=password-show]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        password.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    wait_for(
        &browser,
        "form[action='/gestion/connexion'] button[type=submit]",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for(&browser, ".fr-table").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/gestion/accueil"
    );
    assert!(browser
        .source()
        .await
        .unwrap()
        .contains("mot de passe seul"));
    axe::assert_no_violations(&browser, "back-office home").await;

    browser
        .goto(&op.url("/gestion/second-facteur?suite=/gestion/accueil"))
        .await
        .unwrap();
    let code = wait_for(&browser, "#code").await;
    axe::assert_no_violations(&browser, "back-office second factor").await;
    code.send_keys(&educonnect::demo::demo_totp_code(op.app.now_ms()))
        .await
        .unwrap();
    wait_for(
        &browser,
        "form[action='/gestion/second-facteur'] button[type=submit]",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for(&browser, ".fr-badge--success").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/gestion/accueil"
    );
    // Signing out ends it.
    wait_for(&browser, "form[action='/gestion/deconnexion'] button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&browser, "#login").await;
    browser.goto(&op.url("/gestion/accueil")).await.unwrap();
    wait_for(&browser, "#login").await;
    assert!(browser
        .find(Locator::Css(".fr-header__user"))
        .await
        .is_err());
    browser.close().await;
}
