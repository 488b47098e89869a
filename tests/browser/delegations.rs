//! Delegations in Chromium (issue #16): a head signs in, is asked for the OTP code when
//! opening Délégations, delegates pupil rights to a new secretary; the secretary signs in for
//! the first time and enrols her second factor from the QR page; the head's journal shows both
//! steps. Every page of it, and the operators' staff page, passes axe-core's WCAG 2.1 A/AA
//! rules.

use std::time::Duration;

use educonnect::staff::delegations::staff_role;
use educonnect::staff::{totp, RoleKind};

use super::chromium::Chromium;
use super::common::staff;
use super::common::{Backend, TestOp};
use super::gestion::{
    present_code, press, sign_in, sign_in_as, sign_out, type_into, wait_for_title,
};
use super::{axe, wait_for};

const COLLEGE: &str = "0699990J";

crate::on_both_backends!(
    a_head_delegates_to_a_new_secretary_who_enrols_her_second_factor_and_the_journal_shows_it,
    the_staff_page_and_a_refused_form_pass_axe,
);

async fn a_head_delegates_to_a_new_secretary_who_enrols_her_second_factor_and_the_journal_shows_it(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let browser = Chromium::start().await;
    let delegations = format!("/gestion/etablissements/{COLLEGE}/delegations");

    // Password first; Délégations asks for the OTP code, then opens.
    sign_in_as(&browser, &op, &head).await;
    axe::assert_no_violations(&browser, "back-office: the home page").await;
    browser.goto(&op.url(&delegations)).await.unwrap();
    wait_for_title(&browser, "Saisissez votre code OTP").await;
    axe::assert_no_violations(&browser, "back-office: the step-up").await;
    present_code(&browser, &head.code(&op)).await;
    wait_for_title(&browser, "Délégations").await;
    assert_eq!(browser.current_url().await.unwrap().path(), delegations);
    axe::assert_no_violations(&browser, "back-office: the delegations page").await;

    // A form left incomplete says why, on its field.
    type_into(&browser, "#nouveau-login", "c.durand").await;
    press(
        &browser,
        "form[aria-labelledby=designer-nouveau] button[type=submit]",
    )
    .await;
    wait_for(&browser, "#nouveau-droits-erreur").await;
    let prenom = wait_for(&browser, "#nouveau-prenom").await;
    assert_eq!(
        prenom.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(browser.title().await.unwrap().starts_with("Erreur : "));
    axe::assert_no_violations(&browser, "back-office: a designation refused").await;

    // Pupil rights to a new secretary.
    type_into(&browser, "#nouveau-prenom", "Claire").await;
    type_into(&browser, "#nouveau-nom", "Durand").await;
    type_into(&browser, "#nouveau-email", "c.durand@etab.example").await;
    press(&browser, "label[for=nouveau-eleves]").await;
    press(
        &browser,
        "form[aria-labelledby=designer-nouveau] button[type=submit]",
    )
    .await;
    wait_for_title(&browser, "Personnel inscrit").await;
    let password = wait_for(&browser, "#mot-de-passe-initial")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(password.len(), 16);
    axe::assert_no_violations(&browser, "back-office: the initial password").await;
    press(&browser, "main a.fr-btn").await;
    wait_for_title(&browser, "Délégations").await;
    let table = wait_for(&browser, "#personnels")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("Claire Durand") && table.contains("comptes élèves"),
        "{table}"
    );
    sign_out(&browser).await;

    // The secretary's first sign-in: enrolment from the QR page.
    sign_in(&browser, &op, "c.durand", &password, "/gestion/accueil").await;
    wait_for_title(&browser, "Enrôlez votre clé OTP").await;
    axe::assert_no_violations(&browser, "back-office: the enrolment").await;
    let base32 = wait_for(&browser, "#cle-otp").await.text().await.unwrap();
    let secret = totp::from_base32(&base32).expect("the secret in base32");
    let code = totp::code_at(&secret, (op.app.now_ms() / 1000) as u64).unwrap();
    present_code(&browser, &code).await;
    wait_for_title(&browser, "Bonjour Claire").await;
    let roles = wait_for(&browser, "main table").await.text().await.unwrap();
    assert!(
        roles.contains("Délégataire") && roles.contains("comptes élèves"),
        "{roles}"
    );
    // Délégations is not hers.
    browser.goto(&op.url(&delegations)).await.unwrap();
    let main = wait_for(&browser, "main").await.text().await.unwrap();
    assert!(main.contains("ne fait pas partie des droits"), "{main}");
    axe::assert_no_violations(&browser, "back-office: a refusal").await;
    browser.goto(&op.url("/gestion/accueil")).await.unwrap();
    sign_out(&browser).await;

    // The head's journal shows both steps.
    op.clock.advance(Duration::from_secs(totp::STEP));
    let journal = format!("/gestion/etablissements/{COLLEGE}/journal");
    sign_in(&browser, &op, &head.staff.login, &head.password, &journal).await;
    wait_for_title(&browser, "Saisissez votre code OTP").await;
    present_code(&browser, &head.code(&op)).await;
    wait_for_title(&browser, "Journal de l'établissement").await;
    let events = wait_for(&browser, "#evenements")
        .await
        .text()
        .await
        .unwrap();
    for shown in [
        "Délégation accordée",
        "Second facteur enrôlé",
        "Claire Durand (c.durand)",
        "Camille Test m.bernard (m.bernard)",
    ] {
        assert!(events.contains(shown), "{shown} missing: {events}");
    }
    axe::assert_no_violations(&browser, "back-office: the journal").await;
    browser.close().await;
}

async fn the_staff_page_and_a_refused_form_pass_axe(backend: Backend) {
    let op = TestOp::start(backend).await;
    let operator = staff::add_enrolled(
        &op,
        "o.national",
        staff_role(RoleKind::Operator, None, None).unwrap(),
    )
    .await;
    staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let browser = Chromium::start().await;
    sign_in(
        &browser,
        &op,
        "o.national",
        &operator.password,
        "/gestion/personnels",
    )
    .await;
    wait_for_title(&browser, "Saisissez votre code OTP").await;
    present_code(&browser, &operator.code(&op)).await;
    wait_for_title(&browser, "Personnels de la gestion").await;
    axe::assert_no_violations(&browser, "back-office: the staff page").await;
    // A head without an UAI: refused on the field.
    type_into(&browser, "#inscrire-login", "h.nouvelle").await;
    type_into(&browser, "#inscrire-prenom", "Hélène").await;
    type_into(&browser, "#inscrire-nom", "Principal").await;
    type_into(&browser, "#inscrire-email", "h@etab.example").await;
    wait_for(&browser, "#inscrire-role option[value=head]")
        .await
        .click()
        .await
        .unwrap();
    press(
        &browser,
        "form[aria-labelledby=inscrire] button[type=submit]",
    )
    .await;
    wait_for(&browser, "#inscrire-uai-erreur").await;
    axe::assert_no_violations(&browser, "back-office: a staff form refused").await;
    browser.goto(&op.url("/gestion/journal")).await.unwrap();
    wait_for_title(&browser, "Journal national").await;
    axe::assert_no_violations(&browser, "back-office: the national journal").await;
    browser.close().await;
}
