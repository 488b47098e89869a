//! The back-office as a newcomer tries it on the demo (issue #16): the demo page gives the demo
//! staff, their password and the code their authenticator would show; the head signs in at
//! `/gestion`, « Afficher » shows the password typed, the second factor is asked for and taken.
//! The same with the keyboard alone, in a window as narrow as a 200 % zoom makes it, with nothing
//! to scroll sideways. axe-core finds no WCAG 2.1 A/AA violation on any of these pages.

use fantoccini::key::Key;
use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::Backend;
use super::gestion::{sign_in, wait_for_text, wait_for_title};
use super::{axe, demo_op, focused_id, press, wait_for};

crate::on_both_backends!(
    a_newcomer_signs_in_as_the_demo_head_with_the_code_of_the_demo_page,
    the_back_office_is_used_with_the_keyboard_alone_and_read_at_200_percent,
    a_staff_member_replaces_the_password_from_the_header_with_the_keyboard,
);

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

/// The page is as wide as the window: nothing to scroll sideways (a table wider than the page
/// scrolls in its own box).
async fn fits_the_window(browser: &Chromium, page: &str) {
    let widths = browser
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= inner,
        "{page}: {scroll} px wide in a {inner} px window"
    );
}

async fn the_back_office_is_used_with_the_keyboard_alone_and_read_at_200_percent(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    // 200 % zoom of a 1280-pixel screen: a 640-pixel-wide window.
    browser.set_window_size(640, 900).await.unwrap();
    browser.goto(&op.url("/gestion")).await.unwrap();
    wait_for(&browser, "#login").await;
    fits_the_window(&browser, "the sign-in").await;

    // Tab: the skip link first, then the service's name, then the login field.
    let tab = Key::Tab.to_string();
    let enter = Key::Enter.to_string();
    press(&browser, &tab).await;
    let skip = browser.active_element().await.unwrap();
    assert_eq!(
        skip.attr("href").await.unwrap().as_deref(),
        Some("#contenu")
    );
    let mut tabs = 0;
    while focused_id(&browser).await.as_deref() != Some("login") {
        tabs += 1;
        assert!(tabs < 4, "the login field is reached in a few Tabs");
        press(&browser, &tab).await;
    }
    press(&browser, &format!("m.bernard{tab}")).await;
    assert_eq!(focused_id(&browser).await.as_deref(), Some("password"));
    press(
        &browser,
        &format!("{}{enter}", educonnect::demo::DEMO_STAFF_PASSWORD),
    )
    .await;
    wait_for_title(&browser, "Bonjour").await;
    fits_the_window(&browser, "the home").await;

    // The step-up, typed and sent with Enter.
    browser
        .goto(&op.url("/gestion/second-facteur?suite=/gestion/etablissements/0699990J/comptes"))
        .await
        .unwrap();
    wait_for(&browser, "#code").await.click().await.unwrap();
    let code = educonnect::demo::demo_totp_code(op.app.now_ms());
    press(&browser, &format!("{code}{enter}")).await;
    wait_for_title(&browser, "Comptes").await;
    fits_the_window(&browser, "the account list").await;
    axe::assert_no_violations(&browser, "the account list at 200 %").await;
    browser
        .goto(&op.url("/gestion/etablissements/0699990J"))
        .await
        .unwrap();
    wait_for(&browser, "#activation-classes").await;
    fits_the_window(&browser, "the dashboard").await;
    browser.close().await;
}

async fn a_staff_member_replaces_the_password_from_the_header_with_the_keyboard(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    let password = educonnect::demo::DEMO_STAFF_PASSWORD;
    sign_in(&browser, &op, "s.petit", password, "/gestion/accueil").await;
    wait_for_title(&browser, "Bonjour").await;
    wait_for(&browser, "a[href='/gestion/mot-de-passe']")
        .await
        .click()
        .await
        .unwrap();
    wait_for_title(&browser, "Mon mot de passe").await;
    axe::assert_no_violations(&browser, "Mon mot de passe").await;

    // Keyboard only, from the current password's field: Tab over « Afficher » to the new one.
    let tab = Key::Tab.to_string();
    let enter = Key::Enter.to_string();
    wait_for(&browser, "#current").await.click().await.unwrap();
    press(&browser, &format!("{password}{tab}{tab}")).await;
    assert_eq!(focused_id(&browser).await.as_deref(), Some("password"));
    press(
        &browser,
        &format!("Tournesol-Bleu-42{tab}{tab}Tournesol-Bleu-43{enter}"),
    )
    .await;
    wait_for_text(&browser, "#erreur-mot-de-passe", "Les deux saisies").await;
    axe::assert_no_violations(&browser, "Mon mot de passe, refused").await;

    wait_for(&browser, "#current").await.click().await.unwrap();
    press(
        &browser,
        &format!("{password}{tab}{tab}Tournesol-Bleu-42{tab}{tab}Tournesol-Bleu-42{enter}"),
    )
    .await;
    wait_for_text(&browser, "#fait", "Votre mot de passe est changé").await;
    axe::assert_no_violations(&browser, "Mon mot de passe, done").await;
    // The new password signs in; the old one no longer does.
    sign_in(&browser, &op, "s.petit", password, "/gestion/accueil").await;
    wait_for(&browser, "#erreur-connexion").await;
    sign_in(
        &browser,
        &op,
        "s.petit",
        "Tournesol-Bleu-42",
        "/gestion/accueil",
    )
    .await;
    wait_for_title(&browser, "Bonjour").await;
    browser.close().await;
}
