//! The back-office walked through as issue #16 checks it, in Chromium on both backends: an
//! operator creates a head; the head enrols the second factor and delegates to two
//! secretaries; the first (password only) finds the pupils of 6B not yet activated, prints
//! their letters with new passwords, and is asked for the second factor before a guardian's
//! account — the second, without the guardian right, is refused even with it; a deputy
//! notifies one guardian by e-mail (through a real SMTP server); a request filed reaches the
//! agents of the establishment's académie and no other; the head's journal shows each step.
//! axe-core finds no WCAG 2.1 A/AA violation on any page of it.

use educonnect::accounts::{AccountState, Profile};
use educonnect::staff::delegations::staff_role;
use educonnect::staff::RoleKind;

use super::chromium::Chromium;
use super::common::smtp::SmtpServer;
use super::common::staff::{self, TestStaff};
use super::common::{pdf, siecle_generated, Backend, TestOp};
use super::gestion::{
    choose, downloaded, downloads_to, enrolment_code, present_code, press, sign_in, sign_out,
    type_into, wait_for_text, wait_for_title,
};
use super::{axe, wait_for};

crate::on_both_backends!(the_back_office_walked_through_from_the_operator_to_the_journal);

const CLASS: &str = "6B";

/// A staff member's code now.
fn code(op: &TestOp, who: &TestStaff) -> String {
    who.code(op)
}

/// Creates a new staff member on the page at hand (the operators' or the head's), returns the
/// initial password shown once.
async fn register(browser: &Chromium, prefix: &str, login: &str, names: (&str, &str)) {
    type_into(browser, &format!("#{prefix}-login"), login).await;
    type_into(browser, &format!("#{prefix}-prenom"), names.0).await;
    type_into(browser, &format!("#{prefix}-nom"), names.1).await;
    type_into(
        browser,
        &format!("#{prefix}-email"),
        &format!("{login}@etab.example"),
    )
    .await;
}

async fn initial_password(browser: &Chromium) -> String {
    wait_for(browser, "#mot-de-passe-initial")
        .await
        .text()
        .await
        .unwrap()
}

async fn the_back_office_walked_through_from_the_operator_to_the_journal(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let op = TestOp::start_with(backend, |config| {
        config.smtp.url = url;
        config.smtp.from_address = "ne-pas-repondre@educonnect.example".into();
        config.smtp.timeout_seconds = 5;
    })
    .await;
    // Seed 19: a collège of the Sarthe (académie de Nantes) with six pupils in 6B.
    let dir = siecle_generated(1, 60, 19);
    let uai = op.import_siecle(dir.path()).await[0]
        .uai
        .as_str()
        .to_owned();
    let academy = educonnect::siecle::Uai::parse(&uai)
        .unwrap()
        .academy()
        .unwrap_or_else(|| panic!("the generated UAI {uai} is of an académie"));
    let operator = staff::add_enrolled(
        &op,
        "o.national",
        staff_role(RoleKind::Operator, None, None).unwrap(),
    )
    .await;
    let agent = staff::add_enrolled(&op, "a.academie", staff::assistance(academy)).await;
    let other = if academy == "Lyon" { "Paris" } else { "Lyon" };
    let elsewhere = staff::add_enrolled(&op, "a.ailleurs", staff::assistance(other)).await;
    let deputy = staff::add_enrolled(&op, "d.adjoint", staff::at(RoleKind::Deputy, &uai)).await;
    let pupils = op
        .app
        .durable
        .notification_targets(&uai, Profile::Pupil)
        .await
        .unwrap();
    let of_class: Vec<_> = pupils
        .iter()
        .filter(|t| t.class.as_deref() == Some(CLASS))
        .collect();
    assert!(of_class.len() >= 3, "the generated export has a 6B");
    // One of them already active: not to be notified again.
    op.activate(&of_class[0].account.id, "Tournesol-Bleu-42")
        .await;
    let waiting: Vec<_> = of_class[1..].iter().map(|t| t.account.clone()).collect();
    let base = format!("/gestion/etablissements/{uai}");
    let browser = Chromium::start().await;
    let downloads = tempfile::tempdir().unwrap();
    downloads_to(&browser, downloads.path()).await;

    // 1. The operator creates the head.
    sign_in(
        &browser,
        &op,
        "o.national",
        &operator.password,
        "/gestion/personnels",
    )
    .await;
    wait_for_title(&browser, "Saisissez votre code OTP").await;
    present_code(&browser, &code(&op, &operator)).await;
    wait_for_title(&browser, "Personnels").await;
    axe::assert_no_violations(&browser, "walkthrough: the operators' staff page").await;
    register(
        &browser,
        "inscrire",
        "c.principale",
        ("Céline", "Principale"),
    )
    .await;
    choose(&browser, "#inscrire-role", "head").await;
    type_into(&browser, "#inscrire-uai", &uai).await;
    press(
        &browser,
        "form[aria-labelledby=inscrire] button[type=submit]",
    )
    .await;
    let head_password = initial_password(&browser).await;
    axe::assert_no_violations(&browser, "walkthrough: the head's initial password").await;

    // 2. The head's first sign-in enrols the second factor, then she delegates.
    sign_in(
        &browser,
        &op,
        "c.principale",
        &head_password,
        "/gestion/accueil",
    )
    .await;
    wait_for_title(&browser, "Enrôlez votre clé OTP").await;
    axe::assert_no_violations(&browser, "walkthrough: the enrolment").await;
    let (head_secret, first) = enrolment_code(&browser, &op).await;
    present_code(&browser, &first).await;
    wait_for_title(&browser, "Bonjour").await;
    browser
        .goto(&op.url(&format!("{base}/delegations")))
        .await
        .unwrap();
    wait_for_title(&browser, "Délégations").await;
    axe::assert_no_violations(&browser, "walkthrough: the delegations").await;
    let mut secretaries = Vec::new();
    for (login, guardians) in [("s.lefort", true), ("s.martin", false)] {
        browser
            .goto(&op.url(&format!("{base}/delegations")))
            .await
            .unwrap();
        register(&browser, "nouveau", login, ("Sarah", "Secrétaire")).await;
        press(&browser, "label[for=nouveau-eleves]").await;
        if guardians {
            press(&browser, "label[for=nouveau-representants]").await;
        }
        press(
            &browser,
            "form[aria-labelledby=designer-nouveau] button[type=submit]",
        )
        .await;
        secretaries.push((login, initial_password(&browser).await));
    }
    sign_out(&browser).await;

    // 3. The first secretary enrols at her first sign-in, then signs in with her password only.
    let (login, password) = &secretaries[0];
    sign_in(&browser, &op, login, password, "/gestion/accueil").await;
    wait_for_title(&browser, "Enrôlez votre clé OTP").await;
    let (secretary_secret, first) = enrolment_code(&browser, &op).await;
    present_code(&browser, &first).await;
    wait_for_title(&browser, "Bonjour").await;
    sign_in(&browser, &op, login, password, "/gestion/accueil").await;
    wait_for_text(&browser, ".fr-header__user", "mot de passe seul").await;

    // The pupils of 6B not yet activated, ticked, their letters printed with new passwords.
    browser
        .goto(&op.url(&format!("{base}/comptes")))
        .await
        .unwrap();
    wait_for(&browser, "#filtres").await;
    choose(&browser, "#classe", CLASS).await;
    choose(&browser, "#etat", "non-actives").await;
    choose(&browser, "#profil", "eleves").await;
    press(&browser, "#filtrer").await;
    wait_for_text(
        &browser,
        "#nombre-comptes",
        &format!("{} compte(s)", waiting.len()),
    )
    .await;
    axe::assert_no_violations(&browser, "walkthrough: the pupils of 6B not activated").await;
    for pupil in &waiting {
        press(&browser, &format!("[id='choix-{}']", pupil.login)).await;
    }
    press(&browser, "#reinitialiser").await;
    press(&browser, "#notifier-bouton").await;
    let letters = std::fs::read(downloaded(downloads.path(), &[]).await).unwrap();
    let text = pdf::text(&letters);
    for pupil in &waiting {
        assert!(text.contains(&pupil.login), "{text}");
        let stored = op.app.durable.account(&pupil.id).await.unwrap().unwrap();
        assert_eq!(stored.state, AccountState::Notified);
    }
    assert!(
        !text.contains(&of_class[0].account.login),
        "the active pupil is left out"
    );

    // A guardian's account asks for the second factor first; with it, it opens.
    let guardian = op
        .app
        .durable
        .notification_targets(&uai, Profile::Guardian)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.account.email.is_some())
        .expect("a guardian with an address")
        .account;
    let guardian_page = format!("{base}/comptes/{}", guardian.id);
    browser.goto(&op.url(&guardian_page)).await.unwrap();
    wait_for_title(&browser, "Saisissez votre code OTP").await;
    axe::assert_no_violations(&browser, "walkthrough: the step-up for a guardian").await;
    let now = (op.app.now_ms() / 1000) as u64;
    let later = educonnect::staff::totp::code_at(&secretary_secret, now + 30).unwrap();
    op.clock.advance(std::time::Duration::from_secs(30));
    present_code(&browser, &later).await;
    wait_for(&browser, "#identifiant").await;
    assert_eq!(browser.current_url().await.unwrap().path(), guardian_page);

    // The second secretary, without the guardian right, is refused even with the factor.
    let (login, password) = &secretaries[1];
    sign_in(&browser, &op, login, password, "/gestion/accueil").await;
    let (_, first) = enrolment_code(&browser, &op).await;
    present_code(&browser, &first).await;
    wait_for_title(&browser, "Bonjour").await;
    browser.goto(&op.url(&guardian_page)).await.unwrap();
    wait_for_text(&browser, "main", "ne fait pas partie des droits").await;
    axe::assert_no_violations(&browser, "walkthrough: a guardian refused").await;

    // 4. The deputy notifies the guardian by e-mail.
    sign_in(&browser, &op, "d.adjoint", &deputy.password, &guardian_page).await;
    present_code(&browser, &code(&op, &deputy)).await;
    wait_for(&browser, "#notifier").await;
    press(&browser, "label[for=support-courriel]").await;
    press(&browser, "#notifier button[type=submit]").await;
    wait_for(&browser, "#fait").await;
    axe::assert_no_violations(&browser, "walkthrough: the guardian notified").await;
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    let mail = smtp.wait_for(1).await;
    assert_eq!(mail[0].rcpt_tos, vec![guardian.email.clone().unwrap()]);
    assert!(mail[0].text.as_deref().unwrap().contains(&guardian.login));

    // 5. The head files a request: the académie's agent has it, the other académie's not.
    sign_in(
        &browser,
        &op,
        "c.principale",
        &head_password,
        &format!("{base}/assistance"),
    )
    .await;
    wait_for(&browser, "#category").await;
    choose(&browser, "#category", "cannot_activate").await;
    type_into(&browser, "#accounts", &waiting[0].login).await;
    type_into(
        &browser,
        "#description",
        "L'élève ne parvient pas à activer son compte.",
    )
    .await;
    press(&browser, "main form button[type=submit]").await;
    wait_for_text(&browser, "main", "DA-").await;
    let filed = op
        .app
        .durable
        .assistance_requests(&educonnect::store::AssistanceQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(filed.len(), 1);
    let request = &filed[0];
    assert_eq!(request.academy, academy);
    sign_in(
        &browser,
        &op,
        "a.academie",
        &agent.password,
        "/gestion/assistance",
    )
    .await;
    wait_for_text(&browser, "#demandes", &request.id).await;
    axe::assert_no_violations(&browser, "walkthrough: the académie's queue").await;
    sign_in(
        &browser,
        &op,
        "a.ailleurs",
        &elsewhere.password,
        "/gestion/assistance",
    )
    .await;
    wait_for(&browser, "main h1").await;
    assert!(!browser.source().await.unwrap().contains(&request.id));
    browser
        .goto(&op.url(&format!("/gestion/assistance/{}", request.id)))
        .await
        .unwrap();
    wait_for_text(&browser, "main", "ne fait pas partie des droits").await;

    // 6. The head's journal shows each step.
    sign_in(
        &browser,
        &op,
        "c.principale",
        &head_password,
        &format!("{base}/journal"),
    )
    .await;
    let now = (op.app.now_ms() / 1000) as u64;
    let head_code = educonnect::staff::totp::code_at(&head_secret, now + 30).unwrap();
    op.clock.advance(std::time::Duration::from_secs(30));
    present_code(&browser, &head_code).await;
    let journal = wait_for(&browser, "#evenements")
        .await
        .text()
        .await
        .unwrap();
    axe::assert_no_violations(&browser, "walkthrough: the journal").await;
    for step in [
        "Rôle attribué",
        "Délégation accordée",
        "Notification (mot de passe provisoire)",
        "Opération refusée",
        "Demande d'assistance déposée",
    ] {
        assert!(
            journal.contains(step),
            "« {step} » missing from the journal:\n{journal}"
        );
    }
    browser.close().await;
}
