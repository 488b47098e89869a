//! Browser tests: the demo relying party and the login page in a real headless Chromium, on both
//! backends. They prove what only a browser shows: the pages as rendered, the cookie as the
//! browser stores it, single sign-on across navigations, keyboard use, and axe-core's WCAG 2.1
//! A/AA rules on every page a person can see. Every wait is bounded.

#[path = "browser/account_self.rs"]
mod account_self;
#[path = "browser/activation.rs"]
mod activation;
#[path = "browser/assistance.rs"]
mod assistance;
#[path = "common/axe.rs"]
mod axe;
#[path = "browser/backoffice_demo.rs"]
mod backoffice_demo;
#[path = "common/chromium.rs"]
mod chromium;
mod common;
#[path = "browser/delegations.rs"]
mod delegations;
#[path = "browser/franceconnect.rs"]
mod franceconnect;
#[path = "browser/gestion.rs"]
mod gestion;
#[path = "browser/gestion_accounts.rs"]
mod gestion_accounts;
#[path = "browser/recovery.rs"]
mod recovery;
#[path = "browser/registration.rs"]
mod registration;
#[path = "browser/walkthrough.rs"]
mod walkthrough;

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::Value;

use chromium::Chromium;
use common::{siecle_generated, Backend, TestOp};
use educonnect::accounts::linking;
use educonnect::accounts::{Account, AccountState};
use educonnect::config::Config;
use educonnect::siecle::Export;

on_both_backends!(
    demo_relying_party_signs_a_pupil_in_and_logout_ends_the_session,
    wrong_password_and_unknown_login_get_the_same_alert_and_keep_the_login,
    session_cookie_is_http_only_and_lax_and_gives_single_sign_on,
    login_page_is_labelled_in_french_and_usable_with_the_keyboard_alone,
    a_guardian_confirms_a_second_account_and_attaches_children_on_the_account_page,
    every_page_of_the_login_flow_and_of_the_demo_ent_passes_axe_wcag_21_aa,
    throttled_login_page_passes_axe_wcag_21_aa,
    an_expired_temporary_password_gets_a_french_alert_that_passes_axe,
    account_page_passes_axe_wcag_21_aa_signed_out_as_pupil_and_as_guardian,
    the_demo_outbox_shows_a_queued_message_and_passes_axe,
);

const PUPIL: (&str, &str) = ("l.martin01", "Eleve-Demo-2026");
/// `login::WRONG_CREDENTIALS`, as a person reads it.
const WRONG_CREDENTIALS: &str = "Identifiant ou mot de passe incorrect.";
const WAIT: Duration = Duration::from_secs(30);

/// A provider with the demo relying party and accounts, as `educonnect serve` seeds them.
async fn demo_op(backend: Backend) -> TestOp {
    demo_op_with(backend, |_| {}).await
}

/// The same, configured further.
async fn demo_op_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestOp {
    let op = TestOp::start_with(backend, |config| {
        config.demo = Some(true);
        configure(config);
    })
    .await;
    educonnect::demo::seed(&op.app).await.expect("demo seed");
    op
}

async fn wait_for(browser: &Chromium, css: &str) -> Element {
    match browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => panic!(
            "no {css} at {} ({e}):\n{}",
            browser.current_url().await.unwrap(),
            browser.source().await.unwrap_or_default()
        ),
    }
}

async fn click(browser: &Chromium, css: &str) {
    wait_for(browser, css).await.click().await.unwrap();
}

/// The demo RP's "Se connecter avec EduConnect", up to the provider's login page.
async fn open_login_page(browser: &Chromium, op: &TestOp) {
    browser.goto(&op.url("/demo")).await.unwrap();
    wait_for(browser, "#connect").await.click().await.unwrap();
    wait_for(browser, "#password").await;
}

/// Fills and submits the login form with the mouse.
async fn submit_login(browser: &Chromium, login: &str, password: &str) {
    let field = wait_for(browser, "#login").await;
    field.clear().await.unwrap();
    field.send_keys(login).await.unwrap();
    wait_for(browser, "#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    wait_for(browser, "form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}

/// Waits for the demo RP's result page (approving consent if asked) and returns the ID token
/// claims and the userinfo response it shows. Only elements of those two pages are waited for,
/// so the page a form was submitted from never passes for the next one.
async fn demo_result(browser: &Chromium) -> (Value, Value) {
    loop {
        let shown = wait_for(browser, "#id-token-claims, button[value=approve]").await;
        if shown.attr("value").await.unwrap().as_deref() == Some("approve") {
            shown.click().await.unwrap();
            continue;
        }
        let json = |text: String| serde_json::from_str::<Value>(&text).expect("JSON shown");
        let claims = json(shown.text().await.unwrap());
        let userinfo = json(wait_for(browser, "#userinfo").await.text().await.unwrap());
        return (claims, userinfo);
    }
}

async fn pupil_id(op: &TestOp) -> String {
    op.app
        .durable
        .account_by_login(PUPIL.0)
        .await
        .unwrap()
        .expect("demo pupil seeded")
        .id
}

/// Presses keys on whatever has the focus, as a keyboard does (no element is targeted).
async fn press(browser: &Chromium, keys: &str) {
    let mut actions = KeyActions::new("clavier".into());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    browser.perform_actions(actions).await.unwrap();
}

async fn focused_id(browser: &Chromium) -> Option<String> {
    browser
        .active_element()
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap()
}

async fn demo_relying_party_signs_a_pupil_in_and_logout_ends_the_session(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, PUPIL.0, PUPIL.1).await;

    let (claims, userinfo) = demo_result(&browser).await;
    let sub = pupil_id(&op).await;
    assert!(browser
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&op.url("/demo/callback?")));
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["iss"], op.issuer.as_str());
    assert_eq!(claims["aud"], "demo-ent");
    assert_eq!(claims["name"], "Léa Martin");
    assert_eq!(claims["educonnect_profile"], "pupil");
    assert_eq!(userinfo["sub"], sub.as_str());
    assert_eq!(userinfo["name"], "Léa Martin");
    assert_eq!(userinfo["email"], "l.martin01@demo.educonnect.invalid");

    // RP-initiated logout with the ID token as hint: back to the RP, session over.
    wait_for(&browser, "#logout").await.click().await.unwrap();
    wait_for(&browser, "#connect").await;
    let back = browser.current_url().await.unwrap();
    assert_eq!(back.path(), "/demo");
    assert!(back.query_pairs().any(|(k, _)| k == "state"), "{back}");
    let cookie = &op.app.config.session.cookie_name;
    assert!(
        browser.get_named_cookie(cookie).await.is_err(),
        "the session cookie is removed"
    );
    wait_for(&browser, "#connect").await.click().await.unwrap();
    wait_for(&browser, "#password").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");
    browser.close().await;
}

async fn wrong_password_and_unknown_login_get_the_same_alert_and_keep_the_login(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    let mut shown = Vec::new();
    for (login, password) in [(PUPIL.0, "Mauvais-Mot-2026"), ("x.inconnu99", PUPIL.1)] {
        open_login_page(&browser, &op).await;
        submit_login(&browser, login, password).await;
        let alert = wait_for(&browser, "#erreur-connexion").await;
        assert_eq!(alert.attr("role").await.unwrap().as_deref(), Some("alert"));
        let field = wait_for(&browser, "#login").await;
        assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(login));
        assert_eq!(
            field.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true")
        );
        let password_field = wait_for(&browser, "#password").await;
        assert_eq!(
            password_field.prop("value").await.unwrap().as_deref(),
            Some(""),
            "a refused password is never sent back"
        );
        // The error is tied to both fields and named in the title, read first by screen readers.
        for f in [&field, &password_field] {
            let described = f
                .attr("aria-describedby")
                .await
                .unwrap()
                .unwrap_or_default();
            assert!(
                described.split(' ').any(|id| id == "erreur-connexion"),
                "{described}"
            );
        }
        assert_eq!(
            password_field
                .attr("aria-invalid")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        assert!(browser.title().await.unwrap().starts_with("Erreur : "));
        shown.push((
            alert.text().await.unwrap(),
            browser.title().await.unwrap(),
            browser.find_all(Locator::Css("input")).await.unwrap().len(),
        ));
    }
    // Nothing on the page tells an existing login from an unknown one.
    assert_eq!(shown[0].0, WRONG_CREDENTIALS);
    assert_eq!(shown[0], shown[1]);

    // The page with the error is a working login page.
    submit_login(&browser, PUPIL.0, PUPIL.1).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], pupil_id(&op).await.as_str());
    browser.close().await;
}

async fn session_cookie_is_http_only_and_lax_and_gives_single_sign_on(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, PUPIL.0, PUPIL.1).await;
    let (first, _) = demo_result(&browser).await;

    let name = &op.app.config.session.cookie_name;
    let cookie = browser
        .get_named_cookie(name)
        .await
        .expect("the provider set its session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    let scripts_see = browser
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert!(
        !scripts_see
            .as_str()
            .unwrap_or_default()
            .contains(name.as_str()),
        "scripts cannot read the session cookie: {scripts_see}"
    );

    // A second authorization request from this browser: no login form, same session.
    browser.goto(&op.url("/demo/login")).await.unwrap();
    let shown = wait_for(&browser, "#id-token-claims, #password, [role=alert]").await;
    assert_eq!(
        shown.attr("id").await.unwrap().as_deref(),
        Some("id-token-claims"),
        "single sign-on skips the login form"
    );
    let (second, _) = demo_result(&browser).await;
    assert_ne!(second["nonce"], first["nonce"], "a new ID token");
    assert_eq!(second["sid"], first["sid"]);
    assert_eq!(second["auth_time"], first["auth_time"]);
    assert_eq!(second["sub"], first["sub"]);
    browser.close().await;
}

/// What every page of the login flow must have (RGAA basics).
async fn assert_accessibility_basics(browser: &Chromium) {
    let lang = browser
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang, "fr");
    assert!(browser.title().await.unwrap().contains("Connexion"));
    assert_eq!(browser.find_all(Locator::Css("h1")).await.unwrap().len(), 1);
    let labels = browser
        .execute(
            "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                .map(e => [e.name, Array.from(e.labels).map(l => l.textContent.trim()).join(' ')])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        labels,
        serde_json::json!([["login", "Identifiant"], ["password", "Mot de passe"]]),
        "every field has its label"
    );
    let dangling = browser
        .execute(
            "return Array.from(document.querySelectorAll('[aria-describedby]'))
                .flatMap(e => e.getAttribute('aria-describedby').split(/\\s+/))
                .filter(id => !document.getElementById(id))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        dangling,
        serde_json::json!([]),
        "aria-describedby to nowhere"
    );
}

async fn login_page_is_labelled_in_french_and_usable_with_the_keyboard_alone(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    assert_accessibility_basics(&browser).await;
    assert_eq!(
        browser
            .find_all(Locator::Css("[role=alert]"))
            .await
            .unwrap()
            .len(),
        0,
        "no error before any attempt"
    );

    // Keyboard only: the first Tab reaches the login field, the next one the password.
    let tab = Key::Tab.to_string();
    let enter = Key::Enter.to_string();
    press(&browser, &tab).await;
    assert_eq!(focused_id(&browser).await.as_deref(), Some("login"));
    press(&browser, &format!("{}{tab}", PUPIL.0)).await;
    assert_eq!(focused_id(&browser).await.as_deref(), Some("password"));
    press(&browser, &format!("Mauvais-Mot-2026{enter}")).await;

    let alert = wait_for(&browser, "#erreur-connexion").await;
    let role = alert.attr("role").await.unwrap();
    let live = alert.attr("aria-live").await.unwrap();
    assert!(
        role.as_deref() == Some("alert") || live.is_some(),
        "the error is announced (role={role:?}, aria-live={live:?})"
    );
    assert_eq!(alert.text().await.unwrap(), WRONG_CREDENTIALS);
    assert_accessibility_basics(&browser).await;

    // Again from the top of the error page: the typed login is kept, only the password is due.
    press(&browser, &tab).await;
    let focused = browser.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("login"));
    assert_eq!(
        focused.prop("value").await.unwrap().as_deref(),
        Some(PUPIL.0)
    );
    press(&browser, &format!("{tab}{}{enter}", PUPIL.1)).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], pupil_id(&op).await.as_str());
    browser.close().await;
}

const FAMILY_PASSWORD: &str = "Famille-Mot-2026";

/// The names of the children listed on the account page.
async fn listed_children(browser: &Chromium) -> Vec<String> {
    let mut names = Vec::new();
    for item in browser.find_all(Locator::Css("#enfants li")).await.unwrap() {
        names.push(item.text().await.unwrap());
    }
    names
}

/// Fills the fields of the form `form` (CSS) and presses its button `button` (CSS within it);
/// returns the message shown on the page that answers.
async fn submit(browser: &Chromium, form: &str, fields: &[(&str, &str)], button: &str) -> Element {
    let page = wait_for(browser, "html").await;
    for (css, value) in fields {
        let field = wait_for(browser, &format!("{form} {css}")).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    wait_for(browser, &format!("{form} {button}"))
        .await
        .click()
        .await
        .unwrap();
    // The answer is a new page: wait until the one the form was on is gone.
    let deadline = std::time::Instant::now() + WAIT;
    while page.tag_name().await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "no answer to {form}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for(browser, "#message").await
}

/// Imports generated exports; returns them, and a guardian the import could not tell apart from
/// a second account (a misspelled given name) with that account, both with `FAMILY_PASSWORD`.
async fn guardian_with_second_account(op: &TestOp) -> (Vec<Export>, Account, Account) {
    let generated = siecle_generated(4, 150, 11);
    let exports = op.import_siecle(generated.path()).await;
    let candidate = op
        .candidates(&exports)
        .await
        .into_iter()
        .next()
        .expect("the fixtures hold misspelled guardians");
    let guardian = op.activate(&candidate.account.id, FAMILY_PASSWORD).await;
    let second = op.activate(&candidate.other.id, FAMILY_PASSWORD).await;
    (exports, guardian, second)
}

async fn a_guardian_confirms_a_second_account_and_attaches_children_on_the_account_page(
    backend: Backend,
) {
    let op = demo_op(backend).await;
    let (exports, guardian, second) = guardian_with_second_account(&op).await;
    let store = &op.app.durable;
    let own = store.affiliations(&guardian.id).await.unwrap().children;
    let theirs = store.affiliations(&second.id).await.unwrap().children;
    // A pupil of another family, with a password; another one, with a code.
    let family: Vec<&str> = own
        .iter()
        .chain(&theirs)
        .map(|c| c.account_id.as_str())
        .collect();
    let mut others = Vec::new();
    for pupil in &exports[0].pupils {
        let id = store
            .pupil_account(pupil.ine.as_str())
            .await
            .unwrap()
            .unwrap();
        if !family.contains(&id.as_str()) {
            others.push(id);
        }
    }
    let child = op.activate(&others[0], FAMILY_PASSWORD).await;
    let coded = store.account(&others[1]).await.unwrap().unwrap();
    let (code, stored) = linking::new_code(&coded.id, op.app.now_ms());
    store.insert_attachment_code(&stored).await.unwrap();
    // Another adult, with a password.
    let mut adult_id = None;
    for person in &exports[0].persons {
        let id = store
            .person_account(exports[0].uai.as_str(), &person.personne_id)
            .await
            .unwrap()
            .unwrap();
        if id != guardian.id && id != second.id {
            adult_id = Some(id);
            break;
        }
    }
    let adult = op.activate(&adult_id.unwrap(), FAMILY_PASSWORD).await;

    let browser = Chromium::start().await;
    // Not signed in yet: Mon compte's own sign-in.
    browser.goto(&op.url("/compte")).await.unwrap();
    let shown = wait_for(&browser, "main").await.text().await.unwrap();
    assert!(shown.contains("pour accéder à Mon compte"), "{shown}");

    open_login_page(&browser, &op).await;
    submit_login(&browser, &guardian.login, FAMILY_PASSWORD).await;
    demo_result(&browser).await;
    browser.goto(&op.url("/compte")).await.unwrap();
    let login = wait_for(&browser, "#identifiant")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(login, guardian.login);
    assert_eq!(listed_children(&browser).await.len(), own.len());

    // The second account: a wrong password changes nothing, the right one merges it.
    let section = format!("[id='rapprochement-{}']", second.login);
    let password = format!("[id='mdp-{}']", second.login);
    let message = submit(
        &browser,
        &section,
        &[(&password, "Pas-le-bon-2026")],
        "button[value=confirm]",
    )
    .await;
    assert_eq!(
        message.attr("role").await.unwrap().as_deref(),
        Some("alert")
    );
    assert_eq!(
        message.text().await.unwrap(),
        "Identifiant ou mot de passe incorrect."
    );
    assert_eq!(listed_children(&browser).await.len(), own.len());
    let message = submit(
        &browser,
        &section,
        &[(&password, FAMILY_PASSWORD)],
        "button[value=confirm]",
    )
    .await;
    assert_eq!(
        message.attr("role").await.unwrap().as_deref(),
        Some("status"),
        "{}",
        message.text().await.unwrap()
    );
    let mut expected: Vec<(String, String)> = own
        .iter()
        .chain(&theirs)
        .map(|c| (c.account_id.clone(), c.enrolment.uai.clone()))
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(listed_children(&browser).await.len(), expected.len());
    assert!(
        browser.find(Locator::Css(&section)).await.is_err(),
        "the candidate is closed"
    );
    assert_eq!(
        store.account(&second.id).await.unwrap().unwrap().state,
        AccountState::Disabled
    );

    // A child by login and password: a wrong password first, then the right one.
    let form = "#avec-identifiants";
    let message = submit(
        &browser,
        form,
        &[
            ("#child_login", &child.login),
            ("#child_password", "Pas-le-bon-2026"),
        ],
        "button",
    )
    .await;
    assert_eq!(
        message.text().await.unwrap(),
        "Identifiant ou mot de passe incorrect."
    );
    let message = submit(
        &browser,
        form,
        &[
            ("#child_login", &child.login),
            ("#child_password", FAMILY_PASSWORD),
        ],
        "button",
    )
    .await;
    assert_eq!(
        message.attr("role").await.unwrap().as_deref(),
        Some("status")
    );
    let listed = listed_children(&browser).await;
    assert!(
        listed
            .iter()
            .any(|c| c.starts_with(&format!("{} {}", child.given_name, child.family_name))),
        "{listed:?}"
    );
    let message = submit(
        &browser,
        form,
        &[
            ("#child_login", &child.login),
            ("#child_password", FAMILY_PASSWORD),
        ],
        "button",
    )
    .await;
    assert_eq!(
        message.text().await.unwrap(),
        "Cet enfant est déjà rattaché à votre compte."
    );

    // An adult cannot be attached, even with their password.
    let message = submit(
        &browser,
        form,
        &[
            ("#child_login", &adult.login),
            ("#child_password", FAMILY_PASSWORD),
        ],
        "button",
    )
    .await;
    assert_eq!(
        message.text().await.unwrap(),
        "Seul un compte d'élève peut être rattaché à un compte de responsable."
    );

    // A child by code, typed in lower case: once only.
    let message = submit(
        &browser,
        "#avec-code",
        &[("#code", &code.to_lowercase())],
        "button",
    )
    .await;
    assert_eq!(
        message.attr("role").await.unwrap().as_deref(),
        Some("status"),
        "{}",
        message.text().await.unwrap()
    );
    let listed = listed_children(&browser).await;
    assert!(
        listed
            .iter()
            .any(|c| c.starts_with(&format!("{} {}", coded.given_name, coded.family_name))),
        "{listed:?}"
    );
    let message = submit(&browser, "#avec-code", &[("#code", &code)], "button").await;
    assert!(message
        .text()
        .await
        .unwrap()
        .starts_with("Ce code n'est pas valable"));
    browser.close().await;
}

/// The demo ENT's authorization request, built by hand to ask for what the demo does not.
fn authorize_url(op: &TestOp, client_id: &str, prompt: &str) -> String {
    let mut url = url::Url::parse(&op.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", &op.url("/demo/callback"))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile")
        .append_pair("prompt", prompt)
        .append_pair("state", "etat-axe")
        .append_pair("nonce", "nonce-axe")
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256");
    url.into()
}

async fn every_page_of_the_login_flow_and_of_the_demo_ent_passes_axe_wcag_21_aa(backend: Backend) {
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    browser.goto(&op.url("/demo")).await.unwrap();
    wait_for(&browser, "#connect").await;
    axe::assert_no_violations(&browser, "the demo ENT, signed out").await;

    open_login_page(&browser, &op).await;
    axe::assert_no_violations(&browser, "the login page").await;
    submit_login(&browser, PUPIL.0, "Mauvais-Mot-2026").await;
    wait_for(&browser, "#erreur-connexion").await;
    axe::assert_no_violations(&browser, "the login page with its error").await;

    submit_login(&browser, PUPIL.0, PUPIL.1).await;
    demo_result(&browser).await;
    axe::assert_no_violations(&browser, "the demo ENT, signed in").await;

    browser
        .goto(&authorize_url(&op, "demo-ent", "consent"))
        .await
        .unwrap();
    wait_for(&browser, "button[value=deny]").await;
    axe::assert_no_violations(&browser, "the consent page").await;
    // Refused: the demo ENT shows the error the provider answered.
    click(&browser, "button[value=deny]").await;
    wait_for(&browser, "#connect").await;
    wait_for(&browser, "[role=alert]").await;
    axe::assert_no_violations(&browser, "the demo ENT with an error").await;

    browser
        .goto(&authorize_url(&op, "client-inconnu", "login"))
        .await
        .unwrap();
    wait_for(&browser, "[role=alert]").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/authorize");
    axe::assert_no_violations(&browser, "the error page").await;

    // Logout without an ID token: the provider asks first, then says it is done.
    browser.goto(&op.url("/logout")).await.unwrap();
    wait_for(&browser, "button[name=confirm]").await;
    axe::assert_no_violations(&browser, "the logout confirmation").await;
    click(&browser, "button[name=confirm]").await;
    wait_for(&browser, "main h1").await;
    assert!(browser
        .get_named_cookie(&op.app.config.session.cookie_name)
        .await
        .is_err());
    axe::assert_no_violations(&browser, "the logged-out page").await;
    browser.close().await;
}

async fn throttled_login_page_passes_axe_wcag_21_aa(backend: Backend) {
    let op = demo_op_with(backend, |config| config.throttle.failures_per_account = 1).await;
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, PUPIL.0, "Mauvais-Mot-2026").await;
    wait_for(&browser, "#erreur-connexion").await;
    submit_login(&browser, PUPIL.0, "Mauvais-Mot-2026").await;
    // The first refusal's message stays on screen until the second answer replaces the page:
    // read it again (a fresh lookup each time) until the throttled message shows.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = match browser.find(Locator::Css("#erreur-connexion")).await {
            Ok(alert) => alert.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.starts_with("Trop de tentatives") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no throttled message: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    axe::assert_no_violations(&browser, "the throttled login page").await;
    browser.close().await;
}

async fn an_expired_temporary_password_gets_a_french_alert_that_passes_axe(backend: Backend) {
    let op = demo_op_with(backend, |_| {}).await;
    let app = &op.app;
    let pupil = app
        .durable
        .account_by_login(PUPIL.0)
        .await
        .unwrap()
        .unwrap();
    let now = app.now_ms();
    let temporary = educonnect::accounts::lifecycle::issue_temporary_password(
        &*app.durable,
        &app.passwords,
        app,
        &pupil,
        now + 1_000,
        now,
        |_| Ok(None),
    )
    .await
    .unwrap();
    op.clock.advance(std::time::Duration::from_secs(2));
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    submit_login(&browser, PUPIL.0, temporary.shown().expose()).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = match browser.find(Locator::Css("#erreur-connexion")).await {
            Ok(alert) => alert.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.starts_with("Votre mot de passe provisoire a expiré") {
            assert!(text.contains("Demandez un nouveau courrier à votre établissement"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no expiry message: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The login is kept and focus can go back to the password field from the keyboard.
    let login = wait_for(&browser, "#login").await;
    assert_eq!(login.prop("value").await.unwrap().as_deref(), Some(PUPIL.0));
    axe::assert_no_violations(&browser, "the expired temporary password").await;
    browser.close().await;
}

/// Signs in afresh (a new browser session) through the demo ENT, then opens "Mon compte".
async fn open_account_page(browser: &Chromium, op: &TestOp, login: &str, password: &str) {
    browser.delete_all_cookies().await.unwrap();
    open_login_page(browser, op).await;
    submit_login(browser, login, password).await;
    demo_result(browser).await;
    browser.goto(&op.url("/compte")).await.unwrap();
}

async fn account_page_passes_axe_wcag_21_aa_signed_out_as_pupil_and_as_guardian(backend: Backend) {
    let op = demo_op(backend).await;
    let (_, guardian, second) = guardian_with_second_account(&op).await;

    let browser = Chromium::start().await;
    browser.goto(&op.url("/compte")).await.unwrap();
    wait_for(&browser, "main h1").await;
    axe::assert_no_violations(&browser, "Mon compte, signed out").await;

    open_account_page(&browser, &op, PUPIL.0, PUPIL.1).await;
    wait_for(&browser, "#identifiant").await;
    axe::assert_no_violations(&browser, "Mon compte of a pupil").await;

    // The demo guardian: children in two establishments.
    open_account_page(&browser, &op, "c.martin02", "Parent-Demo-2026").await;
    wait_for(&browser, "#enfants").await;
    axe::assert_no_violations(&browser, "Mon compte of a guardian").await;
    let message = submit(
        &browser,
        "#avec-code",
        &[("#code", "ABCD-EFGH-JKMN")],
        "button",
    )
    .await;
    assert_eq!(
        message.attr("role").await.unwrap().as_deref(),
        Some("alert")
    );
    axe::assert_no_violations(&browser, "Mon compte with an error").await;

    // A guardian with a second account to confirm or decline.
    open_account_page(&browser, &op, &guardian.login, FAMILY_PASSWORD).await;
    let section = format!("[id='rapprochement-{}']", second.login);
    wait_for(&browser, &section).await;
    axe::assert_no_violations(&browser, "Mon compte with a second account").await;
    let message = submit(&browser, &section, &[], "button[value=reject]").await;
    assert_eq!(
        message.attr("role").await.unwrap().as_deref(),
        Some("status")
    );
    axe::assert_no_violations(&browser, "Mon compte with a confirmation").await;
    browser.close().await;
}

async fn the_demo_outbox_shows_a_queued_message_and_passes_axe(backend: Backend) {
    use educonnect::outbox::{Email, Outgoing, Purpose};
    let op = demo_op(backend).await;
    let browser = Chromium::start().await;
    browser.goto(&op.url("/demo/outbox")).await.unwrap();
    wait_for(&browser, "#outbox-empty").await;
    axe::assert_no_violations(&browser, "the demo outbox, empty").await;

    let email = Email {
        to: "claire.martin@example.org".into(),
        subject: "Votre compte EduConnect : identifiant et mot de passe provisoire".into(),
        text: "Bonjour Claire Martin,\n\nVotre identifiant : c.martin\nVotre mot de passe \
               provisoire : kxq7-m4pz-h3rt\n\nÀ la première connexion, choisissez le vôtre."
            .into(),
        html: "<p>Bonjour Claire Martin,</p>".into(),
    };
    let message = Outgoing::email(
        op.app.keys.kek(),
        &email,
        Purpose::Notification,
        None,
        op.app.now_ms(),
    )
    .unwrap();
    op.app.durable.enqueue(&message).await.unwrap();

    browser.goto(&op.url("/demo")).await.unwrap();
    click(&browser, "#outbox-link").await;
    let card = wait_for(&browser, &format!("#message-{}", message.id)).await;
    let shown = card.text().await.unwrap();
    assert!(shown.contains("claire.martin@example.org"), "{shown}");
    assert!(shown.contains(&email.subject), "{shown}");
    assert!(shown.contains("En attente d'envoi"), "{shown}");
    assert!(shown.contains("provisoire : kxq7-m4pz-h3rt"), "{shown}");
    axe::assert_no_violations(&browser, "the demo outbox with a message").await;
    browser.close().await;
}
