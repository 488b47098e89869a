//! Activation at first login in Chromium (issue #15): a pupil with and without an e-mail
//! address and a guardian (code, children, "not my child"), from the demo ENT's button back to
//! the demo ENT with its code; every page of it passes axe-core's WCAG 2.1 A/AA rules.

use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::{Backend, TestOp};
use super::{axe, demo_op, demo_result, open_login_page, submit_login, wait_for, PUPIL};
use educonnect::accounts::lifecycle::issue_temporary_password;
use educonnect::accounts::{Account, AccountState};
use educonnect::outbox::Purpose;

const GUARDIAN: &str = "c.martin02";
const NEW_PASSWORD: &str = "Tournesol-Bleu-42";

crate::on_both_backends!(
    a_pupil_activates_with_an_address_in_chromium_and_every_step_passes_axe,
    a_pupil_activates_without_an_address_in_chromium,
    a_guardian_activates_confirms_the_address_and_disowns_a_child_in_chromium,
);

/// The demo account `login`, given a letter's temporary password; returns it as printed.
async fn notified(op: &TestOp, login: &str) -> (Account, String) {
    let app = &op.app;
    let account = app.durable.account_by_login(login).await.unwrap().unwrap();
    let now = app.now_ms();
    let until = now + 92 * 86_400_000;
    let password = issue_temporary_password(
        &*app.durable,
        &app.passwords,
        app,
        &account,
        until,
        now,
        |_| Ok(None),
    )
    .await
    .unwrap();
    (account, password.shown().expose().to_owned())
}

/// The page's step title, once it says `expected`.
async fn wait_for_step(browser: &Chromium, expected: &str) {
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let title = match browser.find(Locator::Css(".fr-stepper__title")).await {
            Ok(title) => title.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if title.contains(expected) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not at « {expected} » but « {title} »: {}",
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The alert of the page, once it says `expected`.
async fn wait_for_alert(browser: &Chromium, css: &str, expected: &str) {
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let text = match browser.find(Locator::Css(css)).await {
            Ok(alert) => alert.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(expected) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no « {expected} » in {css}: « {text} »"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn type_into(browser: &Chromium, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn press_button(browser: &Chromium, css: &str) {
    wait_for(browser, css).await.click().await.unwrap();
}

async fn choose_password(browser: &Chromium, password: &str) {
    type_into(browser, "#password", password).await;
    type_into(browser, "#confirm", password).await;
    press_button(browser, "form button[type=submit]").await;
}

/// The six digits of the newest code sent about the account, read from the outbox.
async fn code_sent(op: &TestOp, account_id: &str) -> String {
    let app = &op.app;
    for queued in app.durable.account_messages(account_id).await.unwrap() {
        if queued.message.purpose == Purpose::EmailCode {
            let email = queued.message.open_email(app.keys.kek()).unwrap();
            return email
                .text
                .lines()
                .map(str::trim)
                .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
                .expect("the e-mail holds the code")
                .to_owned();
        }
    }
    panic!("no code was sent")
}

async fn a_pupil_activates_with_an_address_in_chromium_and_every_step_passes_axe(backend: Backend) {
    let op = demo_op(backend).await;
    let (pupil, temporary) = notified(&op, PUPIL.0).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, PUPIL.0, &temporary).await;
    wait_for_step(&browser, "Étape 1 sur 2 : mon mot de passe").await;
    axe::assert_no_violations(&browser, "activation: the password step").await;
    choose_password(&browser, "tournesols").await;
    wait_for_alert(
        &browser,
        "#erreur-activation",
        "au moins 3 types de caractères",
    )
    .await;
    let password = wait_for(&browser, "#password").await;
    assert_eq!(
        password.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    axe::assert_no_violations(&browser, "activation: a password refused").await;
    choose_password(&browser, NEW_PASSWORD).await;
    wait_for_step(&browser, "Étape 2 sur 2 : mon adresse électronique").await;
    axe::assert_no_violations(&browser, "activation: a pupil's address step").await;
    type_into(&browser, "#email", "lea.martin@exemple.fr").await;
    press_button(&browser, "button[value=send_code]").await;
    wait_for_alert(
        &browser,
        "#info-activation",
        "envoyé à lea.martin@exemple.fr",
    )
    .await;
    axe::assert_no_violations(&browser, "activation: the code step").await;
    type_into(&browser, "#code", "999999").await;
    let code = code_sent(&op, &pupil.id).await;
    if code != "999999" {
        press_button(&browser, "button[value=code]").await;
        wait_for_alert(&browser, "#erreur-activation", "Code incorrect").await;
        axe::assert_no_violations(&browser, "activation: a wrong code").await;
    }
    type_into(&browser, "#code", &code).await;
    press_button(&browser, "button[value=code]").await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], pupil.id.as_str());
    let activated = op.app.durable.account(&pupil.id).await.unwrap().unwrap();
    assert_eq!(activated.state, AccountState::Active);
    assert_eq!(
        activated.verified_email.as_deref(),
        Some("lea.martin@exemple.fr")
    );
    browser.close().await;
}

async fn a_pupil_activates_without_an_address_in_chromium(backend: Backend) {
    let op = demo_op(backend).await;
    let (pupil, temporary) = notified(&op, PUPIL.0).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, PUPIL.0, &temporary).await;
    wait_for_step(&browser, "Étape 1 sur 2").await;
    choose_password(&browser, NEW_PASSWORD).await;
    wait_for_step(&browser, "Étape 2 sur 2").await;
    press_button(&browser, "button[value=skip_email]").await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], pupil.id.as_str());
    let activated = op.app.durable.account(&pupil.id).await.unwrap().unwrap();
    assert_eq!(activated.state, AccountState::Active);
    assert_eq!(activated.verified_email, None);
    browser.close().await;
}

async fn a_guardian_activates_confirms_the_address_and_disowns_a_child_in_chromium(
    backend: Backend,
) {
    let op = demo_op(backend).await;
    let (guardian, temporary) = notified(&op, GUARDIAN).await;
    let siecle = guardian
        .email
        .clone()
        .expect("the demo guardian has an address");
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, GUARDIAN, &temporary).await;
    wait_for_step(&browser, "Étape 1 sur 3").await;
    choose_password(&browser, NEW_PASSWORD).await;
    wait_for_step(&browser, "Étape 2 sur 3 : mon adresse électronique").await;
    // The establishment's address is offered, and there is no skipping.
    let email = wait_for(&browser, "#email").await;
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some(siecle.as_str())
    );
    assert!(browser
        .find(Locator::Css("button[value=skip_email]"))
        .await
        .is_err());
    axe::assert_no_violations(&browser, "activation: a guardian's address step").await;
    press_button(&browser, "button[value=send_code]").await;
    wait_for_alert(&browser, "#info-activation", &siecle).await;
    let code = code_sent(&op, &guardian.id).await;
    type_into(&browser, "#code", &code).await;
    press_button(&browser, "button[value=code]").await;
    wait_for_step(&browser, "Étape 3 sur 3 : mes enfants").await;
    axe::assert_no_violations(&browser, "activation: the children step").await;
    let names: Vec<String> = {
        let mut names = Vec::new();
        for name in browser
            .find_all(Locator::Css(".fr-children__name"))
            .await
            .unwrap()
        {
            names.push(name.text().await.unwrap());
        }
        names
    };
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("Clément")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("Léa")), "{names:?}");
    // Clément is said not to be hers: the box is reached by its label.
    let index = names.iter().position(|n| n.starts_with("Clément")).unwrap() + 1;
    press_button(&browser, &format!("label[for=pas-mon-enfant-{index}]")).await;
    press_button(&browser, "form button[type=submit]").await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], guardian.id.as_str());
    let app = &op.app;
    let activated = app.durable.account(&guardian.id).await.unwrap().unwrap();
    assert_eq!(activated.state, AccountState::Active);
    assert_eq!(activated.verified_email.as_deref(), Some(siecle.as_str()));
    let children = app
        .durable
        .affiliations(&guardian.id)
        .await
        .unwrap()
        .children;
    assert!(children.iter().all(|c| c.given_name != "Clément"));
    assert!(children.iter().any(|c| c.given_name == "Léa"));
    let notices = app.durable.notices("0699990J").await.unwrap().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.kind == "disputed_link" && n.message.contains("Clément")),
        "the collège is told"
    );
    browser.close().await;
}
