//! Assistance requests in Chromium (issue #16): a head of a Lyon collège files a request (a
//! refusal first), the Lyon assistance agent finds it in the queue, comments and closes it; an
//! operator's form for a guardian. Every page passes axe-core's WCAG 2.1 A/AA rules.

use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::staff;
use super::common::Backend;
use super::gestion::{choose, sign_in_as, type_into, wait_for_text};
use super::{axe, click, demo_op, wait_for};
use educonnect::accounts::Profile;
use educonnect::staff::directory::RoleRequest;
use educonnect::staff::{RoleKind, RoleScope};

const COLLEGE: &str = "0699990J";

crate::on_both_backends!(
    a_head_files_a_request_the_lyon_agent_comments_and_closes_it_and_every_page_passes_axe,
);

async fn a_head_files_a_request_the_lyon_agent_comments_and_closes_it_and_every_page_passes_axe(
    backend: Backend,
) {
    let op = demo_op(backend).await;
    let head = staff::add_enrolled(&op, "h.college", staff::at(RoleKind::Head, COLLEGE)).await;
    let lyon = staff::add_enrolled(&op, "r.lyon", staff::assistance("Lyon")).await;
    let operator = staff::add_enrolled(
        &op,
        "o.operateur",
        RoleRequest {
            kind: RoleKind::Operator,
            scope: RoleScope::National,
            pupils: false,
            guardians: false,
            ends_at: None,
        },
    )
    .await;
    let pupil = op
        .app
        .durable
        .notification_targets(COLLEGE, Profile::Pupil)
        .await
        .unwrap()[0]
        .account
        .login
        .clone();
    let browser = Chromium::start().await;

    // The head: the establishment's requests (none yet) and the form.
    sign_in_as(&browser, &op, &head).await;
    browser
        .goto(&op.url(&format!("/gestion/etablissements/{COLLEGE}/assistance")))
        .await
        .unwrap();
    wait_for(&browser, "#aucune-demande").await;
    axe::assert_no_violations(&browser, "the establishment's assistance requests, none").await;
    type_into(
        &browser,
        "#description",
        "Le compte de l'élève reste introuvable.",
    )
    .await;
    click(&browser, "main form button[type=submit]").await;
    wait_for_text(
        &browser,
        "#erreur-demande",
        "Choisissez la nature de la demande",
    )
    .await;
    let category = wait_for(&browser, "#category").await;
    assert_eq!(
        category.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(browser.title().await.unwrap().starts_with("Erreur : "));
    axe::assert_no_violations(&browser, "the filing form with an error").await;
    // The description typed is kept.
    assert_eq!(
        wait_for(&browser, "#description")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Le compte de l'élève reste introuvable.")
    );
    choose(&browser, "#category", "cannot_activate").await;
    type_into(&browser, "#accounts", &pupil).await;
    click(&browser, "main form button[type=submit]").await;
    wait_for_text(&browser, "#fait", "est déposée").await;
    let url = browser.current_url().await.unwrap();
    let id = url
        .path()
        .trim_start_matches("/gestion/assistance/")
        .to_owned();
    assert!(id.starts_with("DA-"), "{url}");
    wait_for_text(&browser, "#comptes-concernes", &pupil).await;
    axe::assert_no_violations(&browser, "a request, as its establishment sees it").await;
    browser
        .goto(&op.url(&format!("/gestion/etablissements/{COLLEGE}/assistance")))
        .await
        .unwrap();
    wait_for_text(&browser, "#demandes", &id).await;
    axe::assert_no_violations(&browser, "the establishment's assistance requests").await;

    // The Lyon agent: the queue, the request, a comment, then closing it.
    sign_in_as(&browser, &op, &lyon).await;
    click(&browser, "a[href='/gestion/assistance']").await;
    wait_for_text(&browser, "#demandes", &id).await;
    axe::assert_no_violations(&browser, "the assistance queue").await;
    click(&browser, &format!("a[href='/gestion/assistance/{id}']")).await;
    wait_for(&browser, "#form-cloturer").await;
    axe::assert_no_violations(&browser, "a request, as the assistance sees it").await;
    click(&browser, "#form-commentaire button").await;
    wait_for_text(&browser, "#erreur-demande", "Écrivez un commentaire").await;
    axe::assert_no_violations(&browser, "a request with a comment refused").await;
    type_into(&browser, "#comment", "Nous réinitialisons le mot de passe.").await;
    click(&browser, "#form-commentaire button").await;
    wait_for_text(&browser, "#fait", "Votre commentaire est enregistré").await;
    wait_for_text(&browser, "#suivi", "Nous réinitialisons le mot de passe.").await;
    axe::assert_no_violations(&browser, "a request with a comment").await;
    click(&browser, "#form-cloturer button").await;
    wait_for_text(&browser, "#fait", "Clôturée").await;
    // The badge shows its text in capitals (CSS), as WebDriver reads it.
    wait_for_text(&browser, "#statut-demande", "CLÔTURÉE").await;
    wait_for(&browser, "#form-rouvrir").await;
    axe::assert_no_violations(&browser, "a closed request").await;
    let stored = op.app.durable.assistance(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, educonnect::assistance::Status::Closed);
    assert_eq!(
        op.app.durable.assistance_events(&id).await.unwrap().len(),
        2
    );

    // The head reads the answer.
    sign_in_as(&browser, &op, &head).await;
    browser
        .goto(&op.url(&format!("/gestion/assistance/{id}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#suivi", "Nous réinitialisons le mot de passe.").await;
    assert!(browser
        .find_all(Locator::Css("#form-statut"))
        .await
        .unwrap()
        .is_empty());

    // An operator's form, for a guardian who called.
    sign_in_as(&browser, &op, &operator).await;
    browser
        .goto(&op.url("/gestion/assistance/nouvelle"))
        .await
        .unwrap();
    wait_for(&browser, "#on_behalf_name").await;
    axe::assert_no_violations(&browser, "the operators' filing form").await;
    type_into(&browser, "#uai", COLLEGE).await;
    choose(&browser, "#category", "account_missing").await;
    type_into(&browser, "#description", "Compte absent après l'import.").await;
    click(&browser, "main form button[type=submit]").await;
    wait_for_text(&browser, "#erreur-demande", "représentant légal").await;
    axe::assert_no_violations(&browser, "the operators' filing form with an error").await;
    type_into(&browser, "#on_behalf_name", "Claire Martin").await;
    type_into(&browser, "#on_behalf_contact", "06 12 34 56 78").await;
    click(&browser, "main form button[type=submit]").await;
    wait_for_text(&browser, "#pour-le-compte-de", "Claire Martin").await;
    axe::assert_no_violations(&browser, "a request filed for a guardian").await;
    browser.close().await;
}
