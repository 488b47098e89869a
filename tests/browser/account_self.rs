//! Mon compte in Chromium: a guardian signs in at `/compte`, changes the mobile (by SMS code,
//! a wrong code first) and the e-mail (by a code through a real SMTP server), both kept apart
//! from Siècle's, revokes the demo ENT among the connected services, sees a later Siècle import
//! update the establishment's contacts and keep the account's own, and reaches the mobile field
//! with the keyboard; every page state passes axe-core.

use fantoccini::key::Key;
use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::sms::{six_digits, SmsOperator};
use super::common::smtp::SmtpServer;
use super::common::Backend;
use super::{
    axe, click, demo_op_with, demo_result, focused_id, open_login_page, press, submit_login,
    wait_for,
};
use educonnect::maintenance::deliver_once;

const GUARDIAN: (&str, &str) = ("c.martin02", "Parent-Demo-2026");
/// As typed, as stored (the national form, like Siècle's), as the SMS is addressed (E.164).
const NEW_MOBILE: (&str, &str, &str) = ("07 98 76 54 32", "0798765432", "+33798765432");
const NEW_EMAIL: &str = "camille.martin@educonnect.test";
/// The demo guardian's contacts in the collège's Siècle export, and those of its next export
/// (the demo's exports hold no other copy of either).
const SIECLE_CONTACTS: [(&str, &str); 2] = [
    ("06 39 98 01 02", "06 11 22 33 44"),
    (
        "claire.martin@demo.educonnect.invalid",
        "claire.m@secretariat.educonnect.invalid",
    ),
];

crate::on_both_backends!(
    a_guardian_signs_in_to_mon_compte_changes_contacts_by_code_and_revokes_a_service
);

async fn type_into(browser: &Chromium, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Waits until the page's message `css` says `text` (the page after a submission, not the one
/// before).
async fn message_says(browser: &Chromium, css: &str, text: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(message) = browser.find(Locator::Css(css)).await {
            if message.text().await.is_ok_and(|t| t.contains(text)) {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {css} saying {text:?} at {}:\n{}",
            browser.current_url().await.unwrap(),
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

const ERROR: &str = "#message[role=alert]";
const SUCCESS: &str = "#message[role=status]";

async fn a_guardian_signs_in_to_mon_compte_changes_contacts_by_code_and_revokes_a_service(
    backend: Backend,
) {
    let operator = SmsOperator::start().await;
    let smtp = SmtpServer::start().await;
    let op = demo_op_with(backend, |c| {
        operator.configure(c);
        c.smtp.url = smtp.url();
        c.smtp.from_address = "ne-pas-repondre@educonnect.test".into();
        c.selfservice.response_floor_ms = 50;
    })
    .await;
    let before = op
        .app
        .durable
        .account_by_login(GUARDIAN.0)
        .await
        .unwrap()
        .expect("demo guardian seeded");

    // A login at the demo ENT, so that a connected service exists.
    let ent = Chromium::start().await;
    open_login_page(&ent, &op).await;
    submit_login(&ent, GUARDIAN.0, GUARDIAN.1).await;
    let (claims, _) = demo_result(&ent).await;
    assert_eq!(claims["sub"], before.id.as_str());
    ent.close().await;

    // Mon compte in a fresh browser: no session, so its own sign-in.
    let browser = Chromium::start().await;
    browser.goto(&op.url("/compte")).await.unwrap();
    wait_for(&browser, "#password").await;
    let source = browser.source().await.unwrap();
    assert!(source.contains("Mon compte"), "{source}");
    submit_login(&browser, GUARDIAN.0, GUARDIAN.1).await;
    let shown = wait_for(&browser, "#identifiant")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown, GUARDIAN.0);
    assert!(browser
        .find(Locator::Css("#service-demo-ent"))
        .await
        .is_ok());
    axe::assert_no_violations(&browser, "mon compte").await;

    // The mobile: a code by SMS to the new number, a wrong one first.
    type_into(&browser, "#nouveau-mobile", NEW_MOBILE.0).await;
    click(&browser, "#changer-mobile button[value=envoyer]").await;
    wait_for(&browser, "#code-mobile").await;
    axe::assert_no_violations(&browser, "mon compte: the mobile's code").await;
    deliver_once(&op.app).await.unwrap();
    let code = operator.last_code_sent_to(NEW_MOBILE.2).expect("an SMS");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    type_into(&browser, "#code-mobile", wrong).await;
    click(&browser, "#confirmer-mobile button[value=confirmer]").await;
    wait_for(&browser, ERROR).await;
    axe::assert_no_violations(&browser, "mon compte: a wrong mobile code").await;
    type_into(&browser, "#code-mobile", &code).await;
    click(&browser, "#confirmer-mobile button[value=confirmer]").await;
    message_says(
        &browser,
        SUCCESS,
        "Votre nouveau numéro de téléphone portable est enregistré. Il n'est pas transmis \
         à la base Siècle de l'établissement",
    )
    .await;
    wait_for(&browser, "#changer-mobile").await;
    axe::assert_no_violations(&browser, "mon compte: the mobile changed").await;
    let after = op.app.durable.account(&before.id).await.unwrap().unwrap();
    assert_eq!(after.verified_phone.as_deref(), Some(NEW_MOBILE.1));
    assert_eq!(after.phone, before.phone, "Siècle's number untouched");

    // The e-mail: a code through the SMTP server.
    type_into(&browser, "#nouveau-courriel", NEW_EMAIL).await;
    click(&browser, "#changer-courriel button[value=envoyer]").await;
    wait_for(&browser, "#code-courriel").await;
    axe::assert_no_violations(&browser, "mon compte: the e-mail's code").await;
    deliver_once(&op.app).await.unwrap();
    let mails = smtp.wait_for(1).await;
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.to.contains(NEW_EMAIL))
        .expect("a mail to the new address");
    assert!(!mail.subject.is_empty());
    let code = six_digits(mail.text.as_deref().expect("a text part")).expect("a code");
    type_into(&browser, "#code-courriel", &code).await;
    click(&browser, "#confirmer-courriel button[value=confirmer]").await;
    message_says(
        &browser,
        SUCCESS,
        "Votre nouvelle adresse électronique est enregistrée. Elle n'est pas transmise à la \
         base Siècle de l'établissement",
    )
    .await;
    wait_for(&browser, "#changer-courriel").await;
    axe::assert_no_violations(&browser, "mon compte: the e-mail changed").await;
    let after = op.app.durable.account(&before.id).await.unwrap().unwrap();
    assert_eq!(after.verified_email.as_deref(), Some(NEW_EMAIL));
    assert_eq!(after.email, before.email, "Siècle's address untouched");
    assert_eq!(after.verified_phone.as_deref(), Some(NEW_MOBILE.1));

    // The demo ENT revoked: gone from the connected services.
    click(&browser, "#service-demo-ent button[type=submit]").await;
    message_says(&browser, SUCCESS, "est révoqué").await;
    assert!(browser
        .find(Locator::Css("#service-demo-ent"))
        .await
        .is_err());
    axe::assert_no_violations(&browser, "mon compte: a service revoked").await;

    // The establishment's next export gives other contacts: Siècle's are updated, the
    // account's own stay.
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle");
    let next = super::common::siecle_changed(
        &[demo.join("0699990J"), demo.join("0699991K")],
        &SIECLE_CONTACTS,
    );
    op.import_siecle(next.path()).await;
    browser.goto(&op.url("/compte")).await.unwrap();
    let shown = |css: &'static str| {
        let browser = &browser;
        async move { wait_for(browser, css).await.text().await.unwrap() }
    };
    assert_eq!(shown("#courriel-siecle").await, SIECLE_CONTACTS[1].1);
    assert_eq!(shown("#mobile-siecle").await, SIECLE_CONTACTS[0].1);
    assert_eq!(shown("#courriel-confirme").await, NEW_EMAIL);
    assert_eq!(shown("#mobile-confirme").await, NEW_MOBILE.0);
    axe::assert_no_violations(&browser, "mon compte: after a re-import").await;

    // Keyboard: Tab reaches the mobile field, which has a visible label.
    browser.goto(&op.url("/compte")).await.unwrap();
    wait_for(&browser, "#nouveau-mobile").await;
    let tab = Key::Tab.to_string();
    let mut reached = false;
    for _ in 0..60 {
        press(&browser, &tab).await;
        if focused_id(&browser).await.as_deref() == Some("nouveau-mobile") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reaches the mobile field");
    let label = wait_for(&browser, "label[for=nouveau-mobile]").await;
    assert!(label.is_displayed().await.unwrap());
    assert_eq!(
        label.text().await.unwrap(),
        "Nouveau numéro de téléphone portable"
    );
    browser.close().await;
}
