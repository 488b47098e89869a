//! FranceConnect in Chromium, through the fake FranceConnect (issue #18), on both backends:
//! a first login tied by password (Claire Martin), the second one straight through to the demo
//! ENT with the FranceConnect `amr`, and the demo ENT's logout ending both sessions; a first
//! login tied by SMS and birth dates (Julien Martin, no account yet), then the tie undone in
//! Mon compte; names that disagree refused, a cancellation at FranceConnect and FranceConnect
//! down, each leaving the password login. The button is used with the keyboard once, and every
//! page state (ours and the fake's) passes axe-core.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::json;

use super::chromium::Chromium;
use super::common::franceconnect::op_with_fake;
use super::common::sms::SmsOperator;
use super::common::{Backend, TestOp};
use super::{
    axe, click, demo_result, focused_id, open_login_page, press, submit_login, wait_for, WAIT,
};
use educonnect::config::Config;
use educonnect::federation::fake::{Endpoint, FakeFranceConnect, IDENTITIES};
use educonnect::maintenance::deliver_once;

crate::on_both_backends!(
    franceconnect_first_login_tied_by_password_then_straight_through_and_logout_ends_both,
    franceconnect_first_login_tied_by_sms_and_birth_dates_then_undone_in_mon_compte,
    franceconnect_disagreeing_names_cancel_and_outage_leave_the_password_login,
);

const CLAIRE: (&str, &str) = ("c.martin02", "Parent-Demo-2026");
/// Julien Martin's mobile in Siècle: as typed, as the SMS is addressed.
const JULIEN_MOBILE: (&str, &str) = ("06 39 98 01 03", "+33639980103");
const NEW_PASSWORD: &str = "Tournesol-Bleu-42";

/// The demo provider (demo RP and accounts, as `educonnect serve` seeds them) with the fake
/// FranceConnect configured.
async fn demo_op_with_fake(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> (TestOp, FakeFranceConnect) {
    let (op, fake) = op_with_fake(backend, |config| {
        config.demo = Some(true);
        configure(config);
    })
    .await;
    educonnect::demo::seed(&op.app).await.expect("demo seed");
    (op, fake)
}

async fn type_into(browser: &Chromium, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Waits until the element `css` says `text` (the page after a submission, not the one before).
async fn says(browser: &Chromium, css: &str, text: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if let Ok(shown) = element.text().await {
                if shown.contains(text) {
                    return shown;
                }
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

/// The fake FranceConnect's page, shown (`choice` is one of its links: an identity's key,
/// `annuler`, `erreur`).
async fn at_the_fake(browser: &Chromium, fake: &FakeFranceConnect, choice: &str) {
    let link = format!("a[href$='/{choice}']");
    wait_for(browser, &link).await;
    let url = browser.current_url().await.unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/authorize?", fake.issuer)),
        "{url}"
    );
}

/// « S'identifier avec FranceConnect » on the login page shown, then `choice` on the fake's
/// page.
async fn through_franceconnect(browser: &Chromium, fake: &FakeFranceConnect, choice: &str) {
    click(browser, "#bouton-franceconnect").await;
    at_the_fake(browser, fake, choice).await;
    click(browser, &format!("a[href$='/{choice}']")).await;
}

/// The tie page, for the FranceConnect identity named `name`.
async fn at_the_tie_page(browser: &Chromium, op: &TestOp, name: &str) {
    let shown = wait_for(browser, "#identite-franceconnect")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown, name);
    let url = browser.current_url().await.unwrap();
    assert!(
        url.as_str()
            .starts_with(&op.url("/franceconnect/rattachement")),
        "{url}"
    );
}

async fn tie_by_password(browser: &Chromium, (login, password): (&str, &str)) {
    type_into(browser, "#login", login).await;
    type_into(browser, "#password", password).await;
    click(browser, "button[value=password]").await;
}

/// The account the fake's identity `key` is tied to.
async fn tied_account(op: &TestOp, fake: &FakeFranceConnect, key: &str) -> Option<String> {
    let identity = IDENTITIES.iter().find(|i| i.key == key).unwrap();
    op.app
        .durable
        .account_of_upstream(&fake.issuer, &fake.subject_of(identity))
        .await
        .unwrap()
}

async fn account_id(op: &TestOp, login: &str) -> String {
    op.app
        .durable
        .account_by_login(login)
        .await
        .unwrap()
        .expect("a demo account")
        .id
}

/// What the ID token says of a login through FranceConnect.
fn assert_franceconnect_login(claims: &serde_json::Value, account: &str) {
    assert_eq!(claims["sub"], account, "{claims}");
    assert_eq!(claims["amr"], json!(["fc"]), "{claims}");
    assert_eq!(claims["acr"], "eidas1", "{claims}");
    assert_eq!(claims["aud"], "demo-ent", "{claims}");
}

/// Presses Shift+Tab (back to the previous focusable element).
async fn shift_tab(browser: &Chromium) {
    let shift = char::from(Key::Shift);
    let tab = char::from(Key::Tab);
    let actions = KeyActions::new("clavier".into())
        .then(KeyAction::Down { value: shift })
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab })
        .then(KeyAction::Up { value: shift });
    browser.perform_actions(actions).await.unwrap();
}

/// The button reached with Tab alone, visibly focused; the next Tab reaches « Qu'est-ce que
/// FranceConnect ? », which opens a new window and says so; Enter on the button goes to
/// FranceConnect.
async fn the_button_is_used_with_the_keyboard(browser: &Chromium) {
    let tab = Key::Tab.to_string();
    let mut reached = false;
    for _ in 0..40 {
        press(browser, &tab).await;
        if focused_id(browser).await.as_deref() == Some("bouton-franceconnect") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reaches the FranceConnect button");
    let outline = browser
        .execute(
            "return getComputedStyle(document.activeElement).outlineStyle",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(outline, "none", "the focused button shows its focus");
    let button = browser.active_element().await.unwrap();
    assert_eq!(
        button
            .text()
            .await
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["S’identifier", "avec", "FranceConnect"]
    );
    press(browser, &tab).await;
    let link = browser.active_element().await.unwrap();
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some("https://franceconnect.gouv.fr/")
    );
    assert_eq!(
        link.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    let rel = link.attr("rel").await.unwrap().unwrap_or_default();
    assert!(rel.split(' ').any(|r| r == "noopener"), "{rel}");
    // The new window is announced: in the link's text for screen readers, and in its title.
    let announced = browser
        .execute("return document.activeElement.textContent", vec![])
        .await
        .unwrap();
    let announced = announced.as_str().unwrap_or_default();
    assert!(
        announced.starts_with("Qu’est-ce que FranceConnect ?"),
        "{announced}"
    );
    assert!(announced.contains("nouvelle fenêtre"), "{announced}");
    let title = link.attr("title").await.unwrap().unwrap_or_default();
    assert!(title.contains("nouvelle fenêtre"), "{title}");
    shift_tab(browser).await;
    assert_eq!(
        focused_id(browser).await.as_deref(),
        Some("bouton-franceconnect")
    );
    press(browser, &Key::Enter.to_string()).await;
}

async fn franceconnect_first_login_tied_by_password_then_straight_through_and_logout_ends_both(
    backend: Backend,
) {
    let (op, fake) = demo_op_with_fake(backend, |_| {}).await;
    let claire = account_id(&op, CLAIRE.0).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    wait_for(&browser, "#bouton-franceconnect").await;
    axe::assert_no_violations(&browser, "the login page with the FranceConnect button").await;

    // The button with the keyboard: Enter sends the browser to FranceConnect.
    the_button_is_used_with_the_keyboard(&browser).await;
    at_the_fake(&browser, &fake, "claire-martin").await;
    axe::assert_no_violations(&browser, "the fake FranceConnect's page").await;
    click(&browser, "a[href$='/claire-martin']").await;

    // First login: the tie page; a wrong password first, then the right one.
    at_the_tie_page(&browser, &op, "Claire Martin").await;
    axe::assert_no_violations(&browser, "the tie page").await;
    tie_by_password(&browser, (CLAIRE.0, "Pas-le-bon-2026")).await;
    says(
        &browser,
        "#erreur-rattachement",
        "Identifiant ou mot de passe incorrect.",
    )
    .await;
    axe::assert_no_violations(&browser, "the tie page with a wrong password").await;
    assert_eq!(tied_account(&op, &fake, "claire-martin").await, None);
    tie_by_password(&browser, CLAIRE).await;
    let (claims, userinfo) = demo_result(&browser).await;
    assert_franceconnect_login(&claims, &claire);
    assert_eq!(userinfo["sub"], claire.as_str());
    assert_eq!(
        tied_account(&op, &fake, "claire-martin").await,
        Some(claire.clone())
    );
    browser.close().await;

    // Second login, in a fresh browser: straight through to the demo ENT.
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    through_franceconnect(&browser, &fake, "claire-martin").await;
    let (claims, _) = demo_result(&browser).await;
    assert_franceconnect_login(&claims, &claire);
    let session = &op.app.config.session.cookie_name;
    assert!(browser.get_named_cookie(session).await.is_ok());

    // The demo ENT's logout goes through FranceConnect's end-session endpoint and back.
    assert!(fake.ended_sessions().is_empty());
    click(&browser, "#logout").await;
    wait_for(&browser, "#connect").await;
    let back = browser.current_url().await.unwrap();
    assert_eq!(back.path(), "/demo", "{back}");
    assert!(back.query_pairs().any(|(k, _)| k == "state"), "{back}");
    let ended = fake.ended_sessions();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].subject, fake.subject_of(&IDENTITIES[0]));
    assert!(!ended[0].state.is_empty(), "{ended:?}");
    // Our session is over too: the cookie is gone and the demo ENT's next request asks for a
    // login.
    assert!(browser.get_named_cookie(session).await.is_err());
    click(&browser, "#connect").await;
    wait_for(&browser, "#password").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");
    // And FranceConnect asks again who logs in.
    through_franceconnect(&browser, &fake, "claire-martin").await;
    let (claims, _) = demo_result(&browser).await;
    assert_franceconnect_login(&claims, &claire);
    browser.close().await;
}

async fn franceconnect_first_login_tied_by_sms_and_birth_dates_then_undone_in_mon_compte(
    backend: Backend,
) {
    let operator = SmsOperator::start().await;
    let (op, fake) = demo_op_with_fake(backend, |c| {
        operator.configure(c);
        c.selfservice.response_floor_ms = 50;
    })
    .await;
    let julien = op
        .app
        .durable
        .guardians_by_siecle_mobile("0639980103")
        .await
        .unwrap()
        .remove(0);
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    through_franceconnect(&browser, &fake, "julien-martin").await;
    at_the_tie_page(&browser, &op, "Julien Paul Martin").await;
    axe::assert_no_violations(&browser, "the tie page of a guardian without an account").await;

    // The self-registration's steps: the mobile, the SMS code, the birth dates, a password.
    type_into(&browser, "#mobile", JULIEN_MOBILE.0).await;
    click(&browser, "button[value=register]").await;
    wait_for(&browser, "#code").await;
    axe::assert_no_violations(&browser, "registration through FranceConnect: the code").await;
    deliver_once(&op.app).await.unwrap();
    let code = operator.last_code_sent_to(JULIEN_MOBILE.1).expect("an SMS");
    type_into(&browser, "#code", &code).await;
    click(&browser, "button[value=code]").await;
    wait_for(&browser, "#naissance-1").await;
    axe::assert_no_violations(&browser, "registration through FranceConnect: the dates").await;
    let dates = op.birth_dates(&julien.id).await;
    for (i, date) in dates.iter().enumerate() {
        let script = format!(
            "document.getElementById('naissance-{}').value = '{date}'",
            i + 1
        );
        browser.execute(&script, vec![]).await.unwrap();
    }
    click(&browser, "form button[type=submit]").await;
    wait_for(&browser, "#confirm").await;
    axe::assert_no_violations(&browser, "registration through FranceConnect: the password").await;
    type_into(&browser, "#password", NEW_PASSWORD).await;
    type_into(&browser, "#confirm", NEW_PASSWORD).await;
    click(&browser, "form button[type=submit]").await;
    wait_for(&browser, "#continuer-franceconnect").await;
    says(
        &browser,
        "[role=status]",
        "Votre compte est activé et rattaché à votre identité FranceConnect",
    )
    .await;
    let login = wait_for(&browser, "#identifiant")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(login, julien.login);
    axe::assert_no_violations(&browser, "registration through FranceConnect: done").await;
    assert_eq!(
        tied_account(&op, &fake, "julien-martin").await,
        Some(julien.id.clone())
    );

    // « Continuer vers le service »: the login goes on to the demo ENT.
    click(&browser, "#continuer-franceconnect button").await;
    let (claims, _) = demo_result(&browser).await;
    assert_franceconnect_login(&claims, &julien.id);

    // Mon compte shows the tie, and undoes it.
    browser.goto(&op.url("/compte")).await.unwrap();
    wait_for(&browser, "#defaire-franceconnect").await;
    says(
        &browser,
        "#franceconnect-etat",
        "Votre compte est rattaché à votre identité FranceConnect",
    )
    .await;
    axe::assert_no_violations(&browser, "Mon compte with the FranceConnect tie").await;
    click(&browser, "#defaire-franceconnect button[type=submit]").await;
    says(
        &browser,
        "#message[role=status]",
        "Votre compte n'est plus rattaché à votre identité FranceConnect",
    )
    .await;
    says(
        &browser,
        "#franceconnect-etat",
        "n'est rattaché à aucune identité FranceConnect",
    )
    .await;
    assert!(browser
        .find(Locator::Css("#defaire-franceconnect"))
        .await
        .is_err());
    axe::assert_no_violations(&browser, "Mon compte with the tie undone").await;
    assert_eq!(tied_account(&op, &fake, "julien-martin").await, None);

    // The next FranceConnect login (a new session) asks for the account again.
    browser.delete_all_cookies().await.unwrap();
    open_login_page(&browser, &op).await;
    through_franceconnect(&browser, &fake, "julien-martin").await;
    at_the_tie_page(&browser, &op, "Julien Paul Martin").await;
    // His new password ties it again.
    tie_by_password(&browser, (&julien.login, NEW_PASSWORD)).await;
    let (claims, _) = demo_result(&browser).await;
    assert_franceconnect_login(&claims, &julien.id);
    browser.close().await;
}

async fn franceconnect_disagreeing_names_cancel_and_outage_leave_the_password_login(
    backend: Backend,
) {
    let (op, fake) = demo_op_with_fake(backend, |_| {}).await;
    let claire = account_id(&op, CLAIRE.0).await;
    let unavailable = "FranceConnect est momentanément indisponible. Connectez-vous avec votre \
                       identifiant et votre mot de passe EduConnect.";
    let browser = Chromium::start().await;

    // FranceConnect down at the start (its discovery answers 500): the login page again, with
    // a clear message offering the password login, which works.
    fake.fail_next(Endpoint::Discovery, 1);
    open_login_page(&browser, &op).await;
    click(&browser, "#bouton-franceconnect").await;
    says(&browser, "#erreur-connexion", unavailable).await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/franceconnect/connexion"
    );
    axe::assert_no_violations(&browser, "the login page, FranceConnect down").await;
    submit_login(&browser, CLAIRE.0, CLAIRE.1).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], claire.as_str());
    assert_ne!(claims["amr"], json!(["fc"]), "{claims}");
    // A failed discovery is retried after 10 s (by the provider's clock).
    op.clock.advance(std::time::Duration::from_secs(11));

    // FranceConnect failing in the middle of a login (its token endpoint answers 500).
    browser.delete_all_cookies().await.unwrap();
    open_login_page(&browser, &op).await;
    click(&browser, "#bouton-franceconnect").await;
    at_the_fake(&browser, &fake, "claire-martin").await;
    fake.fail_next(Endpoint::Token, 1);
    click(&browser, "a[href$='/claire-martin']").await;
    says(&browser, "#erreur-connexion", unavailable).await;
    axe::assert_no_violations(&browser, "the login page, FranceConnect failing").await;

    // The person cancels at FranceConnect (from that page: the relying party's request
    // survived): the login page again, saying so; the password login leads to the demo ENT.
    through_franceconnect(&browser, &fake, "annuler").await;
    says(
        &browser,
        "#erreur-connexion",
        "Vous avez annulé la connexion avec FranceConnect.",
    )
    .await;
    wait_for(&browser, "#bouton-franceconnect").await;
    axe::assert_no_violations(&browser, "the login page after a cancellation").await;
    submit_login(&browser, CLAIRE.0, CLAIRE.1).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], claire.as_str());
    assert_eq!(claims["aud"], "demo-ent");

    // Names that disagree: Sandrine Durand's FranceConnect identity with Claire Martin's right
    // password is refused, and nothing is tied.
    browser.delete_all_cookies().await.unwrap();
    let before = op.app.durable.account(&claire).await.unwrap().unwrap();
    open_login_page(&browser, &op).await;
    through_franceconnect(&browser, &fake, "sandrine-durand").await;
    at_the_tie_page(&browser, &op, "Sandrine Durand").await;
    tie_by_password(&browser, CLAIRE).await;
    let shown = says(&browser, "#erreur-rattachement", "ne correspondent pas").await;
    assert!(shown.contains("rien n'a été modifié"), "{shown}");
    axe::assert_no_violations(&browser, "the tie page, names that disagree").await;
    assert_eq!(tied_account(&op, &fake, "sandrine-durand").await, None);
    assert_eq!(
        op.app
            .durable
            .upstream_of_account(&claire, &fake.issuer)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        op.app.durable.account(&claire).await.unwrap().unwrap(),
        before
    );
    assert!(browser
        .get_named_cookie(&op.app.config.session.cookie_name)
        .await
        .is_err());
    browser.close().await;
}
