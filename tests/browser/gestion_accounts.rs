//! The establishment's accounts in Chromium (issue #16): a secretary with a pupils-only
//! delegation signs in with her password, finds the pupils of a class not yet activated from
//! the dashboard, ticks them, prints their letters with new passwords (the PDF the browser
//! downloads, read back with `pdftotext`), and is refused a guardian's account; a head
//! without the second factor is sent to it for the candidates, and with it sees the guardian's page and its contact form in
//! error. Every page passes axe-core's WCAG 2.1 A/AA rules.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::staff;
use super::common::{pdf, siecle_generated, Backend, TestOp};
use super::gestion::{downloaded, downloads_to, sign_in_as};
use super::{axe, click, wait_for, WAIT};
use educonnect::accounts::{AccountState, Profile};
use educonnect::staff::RoleKind;

crate::on_both_backends!(
    a_pupils_delegate_prints_the_letters_of_a_class_and_is_refused_guardians,
    a_head_with_the_second_factor_corrects_a_guardian_and_every_page_passes_axe,
);

async fn a_pupils_delegate_prints_the_letters_of_a_class_and_is_refused_guardians(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    let dir = siecle_generated(1, 60, 11);
    let exports = op.import_siecle(dir.path()).await;
    let uai = exports[0].uai.as_str().to_owned();
    let secretary =
        staff::add_enrolled(&op, "s.secretaire", staff::delegate(&uai, true, false)).await;
    let pupils = op
        .app
        .durable
        .notification_targets(&uai, Profile::Pupil)
        .await
        .unwrap();
    // The first class on the dashboard, with one pupil already active.
    let mut classes: Vec<String> = pupils.iter().filter_map(|t| t.class.clone()).collect();
    classes.sort();
    classes.dedup();
    let class = classes
        .iter()
        .find(|c| {
            pupils
                .iter()
                .filter(|t| t.class.as_ref() == Some(c))
                .count()
                >= 3
        })
        .unwrap()
        .clone();
    let in_class: Vec<_> = pupils
        .iter()
        .filter(|t| t.class.as_deref() == Some(class.as_str()))
        .collect();
    op.activate(&in_class[0].account.id, "Tournesol-Bleu-42")
        .await;
    let waiting = &in_class[1..];

    let browser = Chromium::start().await;
    let downloads = tempfile::tempdir().unwrap();
    downloads_to(&browser, downloads.path()).await;
    browser.goto(&op.url("/gestion")).await.unwrap();
    wait_for(&browser, "#login").await;
    axe::assert_no_violations(&browser, "the back-office sign-in").await;
    sign_in_as(&browser, &op, &secretary).await;
    browser
        .goto(&op.url(&format!("/gestion/etablissements/{uai}")))
        .await
        .unwrap();
    wait_for(&browser, "#activation-classes").await;
    axe::assert_no_violations(&browser, "the dashboard, password only").await;

    // The class's pupils not activated, from the dashboard's table.
    // Class codes are letters and digits: the link's query holds them as they are.
    assert!(class.chars().all(|c| c.is_ascii_alphanumeric()), "{class}");
    let link = format!("#activation-classes a[href*='classe={class}&']");
    click(&browser, &link).await;
    wait_for(&browser, "#comptes").await;
    let shown = wait_for(&browser, "#nombre-comptes")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        shown.starts_with(&format!("{} compte(s)", waiting.len())),
        "{shown}"
    );
    axe::assert_no_violations(&browser, "the account list, filtered").await;
    for target in waiting {
        click(&browser, &format!("[id='choix-{}']", target.account.login)).await;
    }
    click(&browser, "#reinitialiser").await;
    click(&browser, "#notifier-bouton").await;
    let pdf = std::fs::read(downloaded(downloads.path(), &[]).await).unwrap();
    let text = pdf::text(&pdf);
    for target in waiting {
        assert!(text.contains(&target.account.login), "{text}");
        let stored = op
            .app
            .durable
            .account(&target.account.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, AccountState::Notified);
    }

    // A pupil's page and the troubleshooting search.
    let pupil = &waiting[0].account;
    browser
        .goto(&op.url(&format!(
            "/gestion/etablissements/{uai}/comptes/{}",
            pupil.id
        )))
        .await
        .unwrap();
    wait_for(&browser, "#identifiant").await;
    axe::assert_no_violations(&browser, "a pupil's account page").await;
    browser
        .goto(&op.url(&format!("/gestion/etablissements/{uai}/depannage")))
        .await
        .unwrap();
    wait_for(&browser, "#q")
        .await
        .send_keys(&pupil.login)
        .await
        .unwrap();
    click(&browser, "#rechercher").await;
    wait_for(&browser, &format!("[id='eleve-{}']", pupil.login)).await;
    axe::assert_no_violations(&browser, "the pupil troubleshooting").await;

    // A guardian's page: refused outright — no second factor would open it, the delegation is
    // the pupils' only (a head without the factor gets the step-up: the other test).
    let guardian = op
        .app
        .durable
        .notification_targets(&uai, Profile::Guardian)
        .await
        .unwrap()
        .remove(0)
        .account;
    browser
        .goto(&op.url(&format!(
            "/gestion/etablissements/{uai}/comptes/{}",
            guardian.id
        )))
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while !browser
        .source()
        .await
        .unwrap()
        .contains("ne fait pas partie des droits")
    {
        assert!(Instant::now() < deadline, "no refusal page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    axe::assert_no_violations(&browser, "the refusal of a guardian's page").await;
    assert_eq!(
        op.app.durable.account(&guardian.id).await.unwrap().unwrap(),
        guardian
    );
    browser.close().await;
}

async fn a_head_with_the_second_factor_corrects_a_guardian_and_every_page_passes_axe(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    op.import_siecle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle"))
        .await;
    let uai = "0699990J";
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, uai)).await;
    let claire = op
        .app
        .durable
        .notification_targets(uai, Profile::Guardian)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.account.given_name == "Claire")
        .unwrap()
        .account;
    let browser = Chromium::start().await;
    sign_in_as(&browser, &op, &head).await;
    browser
        .goto(&op.url(&format!("/gestion/etablissements/{uai}")))
        .await
        .unwrap();
    click(&browser, "#rapprochements a.fr-btn").await;
    wait_for(&browser, "#code")
        .await
        .send_keys(&head.code(&op))
        .await
        .unwrap();
    click(&browser, "form button[type=submit]").await;
    wait_for(&browser, "#rapprochements table, #rapprochements p").await;
    assert!(wait_for(&browser, "#rapprochements")
        .await
        .text()
        .await
        .unwrap()
        .contains("Aucun rapprochement"));
    axe::assert_no_violations(&browser, "the dashboard with the second factor").await;
    browser
        .goto(&op.url(&format!(
            "/gestion/etablissements/{uai}/comptes/{}",
            claire.id
        )))
        .await
        .unwrap();
    wait_for(&browser, "#corriger-coordonnees").await;
    axe::assert_no_violations(&browser, "a guardian's account page").await;
    let email = wait_for(&browser, "#courriel").await;
    email.clear().await.unwrap();
    email.send_keys("claire.martin@").await.unwrap();
    click(&browser, "#corriger-coordonnees button").await;
    wait_for(&browser, "#erreur-courriel").await;
    axe::assert_no_violations(&browser, "the contact form in error").await;
    let email = wait_for(&browser, "#courriel").await;
    assert_eq!(
        email.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    email.clear().await.unwrap();
    email.send_keys("claire.martin@exemple.fr").await.unwrap();
    click(&browser, "#corriger-coordonnees button").await;
    wait_for(&browser, "#fait").await;
    assert_eq!(
        wait_for(&browser, "#courriel-siecle")
            .await
            .text()
            .await
            .unwrap(),
        "claire.martin@exemple.fr"
    );
    axe::assert_no_violations(&browser, "the account page after a correction").await;
    for (path, ready, name) in [
        ("/comptes", "#comptes", "the account list"),
        ("/identifiants", "#telecharger-csv", "the identifiers page"),
    ] {
        browser
            .goto(&op.url(&format!("/gestion/etablissements/{uai}{path}")))
            .await
            .unwrap();
        wait_for(&browser, ready).await;
        axe::assert_no_violations(&browser, name).await;
    }
    // An attachment code for a pupil, from the troubleshooting.
    browser
        .goto(&op.url(&format!(
            "/gestion/etablissements/{uai}/depannage?q=clement"
        )))
        .await
        .unwrap();
    click(
        &browser,
        "#eleves form[action$='/code-rattachement'] button",
    )
    .await;
    let code = wait_for(&browser, "#code").await.text().await.unwrap();
    assert_eq!(code.len(), 14, "{code}");
    axe::assert_no_violations(&browser, "the attachment code").await;
    assert!(browser
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Valable une fois"));
    browser.close().await;
}
