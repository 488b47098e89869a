//! A forgotten password in Chromium (issue #17, part 2), from the demo ENT's login page: a
//! pupil recovers by e-mail through a real SMTP server and logs in with the new password; a
//! pupil without a confirmed address is told to ask the establishment; a guardian recovers by
//! SMS through the fake operator. Every page state passes axe-core's WCAG 2.1 A/AA rules.

use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::sms::SmsOperator;
use super::common::smtp::SmtpServer;
use super::common::{Backend, TestOp};
use super::{axe, demo_op_with, demo_result, open_login_page, submit_login, wait_for, PUPIL};

const GUARDIAN: &str = "c.martin02";
const NEW_PASSWORD: &str = "Tournesol-Bleu-42";
const PUPIL_RULE: &str = "Un élève ne peut recevoir qu'un courriel, à l'adresse qu'il a confirmée";

crate::on_both_backends!(
    a_pupil_recovers_by_email_through_smtp_and_logs_in_in_chromium,
    a_pupil_without_an_address_is_told_to_ask_the_establishment_in_chromium,
    a_guardian_recovers_by_sms_in_chromium,
);

fn fast(config: &mut educonnect::config::Config) {
    config.selfservice.response_floor_ms = 50;
}

async fn type_into(browser: &Chromium, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn press(browser: &Chromium, css: &str) {
    wait_for(browser, css).await.click().await.unwrap();
}

/// The text of the page's `h1` once it says `expected`.
async fn wait_for_heading(browser: &Chromium, expected: &str) {
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let text = match browser.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(expected) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no « {expected} » heading: {}",
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The text of `css` once it can be read: an element found on the page being left goes stale
/// when the next one arrives (`#regles-recuperation` is on the form and on its answer), and is
/// looked for again.
async fn text_of(browser: &Chromium, css: &str) -> String {
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        match wait_for(browser, css).await.text().await {
            Ok(text) => return text,
            Err(error) => assert!(std::time::Instant::now() < deadline, "{css}: {error}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// From the login page, « Mot de passe oublié ? », the identifier and the channel.
async fn ask(browser: &Chromium, login: &str, channel: &str) {
    press(browser, "a[href^='/mot-de-passe-oublie']").await;
    wait_for_heading(browser, "J'ai oublié mon mot de passe").await;
    axe::assert_no_violations(browser, "recovery: the form").await;
    type_into(browser, "#login", login).await;
    press(browser, &format!("#canal-{channel}")).await;
    press(browser, "form button[type=submit]").await;
}

async fn choose(browser: &Chromium, password: &str) {
    type_into(browser, "#password", password).await;
    type_into(browser, "#confirm", password).await;
    press(browser, "form button[type=submit]").await;
}

async fn a_pupil_recovers_by_email_through_smtp_and_logs_in_in_chromium(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let op = demo_op_with(backend, |c| {
        fast(c);
        c.smtp.url = smtp.url();
        c.smtp.from_address = "ne-pas-repondre@educonnect.example".into();
        c.smtp.timeout_seconds = 5;
    })
    .await;
    let pupil = confirmed_email(&op, PUPIL.0, "lea.martin@example.org").await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    ask(&browser, PUPIL.0, "courriel").await;
    let answer = text_of(&browser, ".fr-alert--success").await;
    assert!(
        answer.contains("un courriel vient d'y être envoyé"),
        "{answer}"
    );
    axe::assert_no_violations(&browser, "recovery: the e-mail answer").await;

    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].rcpt_tos, ["lea.martin@example.org"]);
    let link = link_in(mails[0].text.as_deref().unwrap());
    browser.goto(&link).await.unwrap();
    wait_for_heading(&browser, "Je choisis un nouveau mot de passe").await;
    axe::assert_no_violations(&browser, "recovery: the link's page").await;
    choose(&browser, "tournesolbleu").await;
    let refused = text_of(&browser, "#erreur-recuperation").await;
    assert!(
        refused.contains("au moins 3 types de caractères"),
        "{refused}"
    );
    axe::assert_no_violations(&browser, "recovery: a password refused").await;
    choose(&browser, NEW_PASSWORD).await;
    wait_for_heading(&browser, "Votre mot de passe a été modifié").await;
    axe::assert_no_violations(&browser, "recovery: done").await;
    // Back to the demo ENT's login, which is still under way, with the new password.
    press(&browser, "a.fr-btn[href^='/login']").await;
    submit_login(&browser, PUPIL.0, NEW_PASSWORD).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], pupil.as_str());
    browser.close().await;
}

/// The recovery link in an e-mail's text.
fn link_in(text: &str) -> String {
    let start = text.find("http").expect("a link");
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |e| start + e);
    text[start..end].to_owned()
}

async fn confirmed_email(op: &TestOp, login: &str, address: &str) -> String {
    let app = &op.app;
    let account = app.durable.account_by_login(login).await.unwrap().unwrap();
    app.durable
        .set_verified_email(&account.id, address, app.now_ms())
        .await
        .unwrap();
    account.id
}

async fn a_pupil_without_an_address_is_told_to_ask_the_establishment_in_chromium(backend: Backend) {
    let op = demo_op_with(backend, fast).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    ask(&browser, PUPIL.0, "courriel").await;
    // The answer page (the form holds the same rules).
    wait_for(&browser, ".fr-alert--success").await;
    let rules = text_of(&browser, "#regles-recuperation").await;
    assert!(rules.contains(PUPIL_RULE), "{rules}");
    assert!(rules.contains("demande à son établissement de réinitialiser son mot de passe"));
    assert!(rules.contains("Un parent ne peut pas réinitialiser le mot de passe de son enfant"));
    axe::assert_no_violations(&browser, "recovery: the answer to a pupil without address").await;
    assert!(op.app.durable.recent_messages(10).await.unwrap().is_empty());
    browser.close().await;
}

async fn a_guardian_recovers_by_sms_in_chromium(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = demo_op_with(backend, |c| {
        fast(c);
        operator.configure(c);
    })
    .await;
    let app = &op.app;
    let guardian = app
        .durable
        .account_by_login(GUARDIAN)
        .await
        .unwrap()
        .unwrap();
    app.durable
        .set_verified_phone(&guardian.id, "0639980120", app.now_ms())
        .await
        .unwrap();
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    ask(&browser, GUARDIAN, "sms").await;
    wait_for(&browser, "#code").await;
    axe::assert_no_violations(&browser, "recovery: the code page").await;
    educonnect::maintenance::deliver_once(app).await.unwrap();
    operator.wait_for(1).await;
    let code = operator.last_code_sent_to("+33639980120").expect("a code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    type_into(&browser, "#code", wrong).await;
    press(&browser, "form button[type=submit]").await;
    let refused = text_of(&browser, "#erreur-recuperation").await;
    assert!(refused.contains("Code incorrect"), "{refused}");
    axe::assert_no_violations(&browser, "recovery: a wrong code").await;
    type_into(&browser, "#code", &code).await;
    press(&browser, "form button[type=submit]").await;
    wait_for_heading(&browser, "Je choisis un nouveau mot de passe").await;
    axe::assert_no_violations(&browser, "recovery: the new password after a code").await;
    choose(&browser, NEW_PASSWORD).await;
    wait_for_heading(&browser, "Votre mot de passe a été modifié").await;
    press(&browser, "a.fr-btn[href^='/login']").await;
    submit_login(&browser, GUARDIAN, NEW_PASSWORD).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], guardian.id.as_str());
    browser.close().await;
}
