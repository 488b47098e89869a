//! Activation at first login (issue #15), over HTTP on both backends: a temporary password
//! leads, inside the same authorization request, to a new password (the policy's rules named),
//! an e-mail address confirmed by a code sent through the outbox (optional for a pupil), the
//! guardian's children reviewed ("not my child" leaves a notice), and then the relying party
//! gets its code as if nothing had interrupted. The same flow in Chromium, with axe-core, is in
//! tests/browser.rs.

use std::time::Duration;

use crate::common::browser::{hidden, param, Step};
use crate::common::{siecle_samples, Backend};
use crate::fixture::{Fixture, Pending, LOGIN};
use crate::on_both_backends;
use crate::temporary_passwords::checked;
use educonnect::accounts::lifecycle::issue_temporary_password;
use educonnect::accounts::{Account, AccountState, Profile};
use educonnect::outbox::Purpose;

on_both_backends!(
    a_pupil_activates_without_an_address_and_the_rp_gets_its_code,
    a_pupil_confirms_an_address_with_a_code_sent_through_the_outbox,
    a_guardian_confirms_the_address_and_says_one_child_is_not_theirs,
    an_activation_interrupted_after_the_password_resumes_at_the_next_login,
    an_activation_page_belongs_to_the_browser_and_the_transaction,
);

const NEW_PASSWORD: &str = "Tournesol-Bleu-42";

/// Gives `account` a temporary password, as a notification letter does; returns it as printed.
async fn notify(f: &Fixture, account: &Account) -> String {
    let app = &f.op.app;
    let until = app.now_ms() + 92 * 86_400_000;
    let password = issue_temporary_password(
        &*app.durable,
        &app.passwords,
        app,
        account,
        until,
        app.now_ms(),
        |_| Ok(None),
    )
    .await
    .unwrap();
    password.shown().expose().to_owned()
}

async fn account(f: &Fixture, login: &str) -> Account {
    f.op.app
        .durable
        .account_by_login(login)
        .await
        .unwrap()
        .unwrap()
}

/// Starts an authorization request and logs in with `password`: the page that follows.
async fn log_in(f: &Fixture, login: &str, password: &str, scopes: &[&str]) -> (Pending, Step) {
    let pending = f.request(scopes, &[]);
    let step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    let step = f
        .browser
        .submit_login(f.issuer(), step, login, password)
        .await;
    (pending, step)
}

fn body(step: &Step) -> &str {
    match step {
        Step::Page { body, .. } => body,
        Step::Left(url) => panic!("left for {url}, expected a page"),
    }
}

fn status(step: &Step) -> u16 {
    match step {
        Step::Page { status, .. } => *status,
        Step::Left(_) => 302,
    }
}

/// Answers the activation page shown at `step` with `fields` (its tx and CSRF token added).
async fn answer(f: &Fixture, step: &Step, fields: &[(&str, &str)]) -> Step {
    let page = body(step);
    let tx = hidden(page, "tx").expect("the activation page has its transaction");
    let csrf = hidden(page, "csrf").expect("the activation page has its CSRF token");
    let mut form = vec![("tx", tx.as_str()), ("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    f.browser
        .post(f.issuer(), &format!("{}/activation", f.issuer()), &form)
        .await
}

async fn choose_password(f: &Fixture, step: &Step, password: &str) -> Step {
    answer(
        f,
        step,
        &[
            ("action", "password"),
            ("password", password),
            ("confirm", password),
        ],
    )
    .await
}

/// Back at the relying party (after its consent page, if it asks): the code, exchanged.
async fn back_at_the_rp(f: &Fixture, step: Step, pending: &Pending) {
    let step = match &step {
        Step::Page { body, .. } if body.contains("name=\"decision\"") => {
            f.browser.submit_consent(f.issuer(), step, true).await
        }
        _ => step,
    };
    let Step::Left(back) = step else {
        panic!("expected the RP: {}", body(&step))
    };
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(pending.state.secret().as_str())
    );
    let code = param(&back, "code").expect("a code for the RP");
    f.exchange(&code, pending)
        .await
        .expect("the code is exchanged as after any login");
}

/// The messages queued about the account with `purpose`, opened: (recipient, text).
async fn sent(f: &Fixture, account_id: &str, purpose: Purpose) -> Vec<(String, String)> {
    let app = &f.op.app;
    let mut sent = Vec::new();
    for queued in app.durable.account_messages(account_id).await.unwrap() {
        if queued.message.purpose == purpose {
            let email = queued.message.open_email(app.keys.kek()).unwrap();
            sent.push((email.to, email.text));
        }
    }
    sent
}

/// The six digits of the newest code e-mail.
async fn code_sent(f: &Fixture, account_id: &str) -> String {
    let codes = sent(f, account_id, Purpose::EmailCode).await;
    let (_, text) = codes.first().expect("a code was sent");
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .expect("the e-mail holds the code")
        .to_owned()
}

async fn a_pupil_activates_without_an_address_and_the_rp_gets_its_code(backend: Backend) {
    let f = Fixture::new(backend).await;
    let temporary = notify(&f, &account(&f, LOGIN).await).await;
    let (pending, step) = log_in(&f, LOGIN, &temporary, &["openid"]).await;
    assert!(
        body(&step).contains("Étape 1 sur 2 : mon mot de passe"),
        "{}",
        body(&step)
    );
    // Each rule is named; nothing is written.
    for (weak, rule) in [
        ("Cour-1a", "au moins 8 caractères"),
        ("tournesols", "au moins 3 types de caractères"),
        ("Azerty-2026", "trop courant"),
        ("Xl.martin01!", "votre identifiant"),
    ] {
        let refused = choose_password(&f, &step, weak).await;
        assert_eq!(status(&refused), 422, "{weak}");
        assert!(body(&refused).contains(rule), "{weak}: {}", body(&refused));
    }
    // The temporary password with one capital: three kinds of characters, and still the
    // letter's password once read back.
    let mut capital = false;
    let dressed: String = temporary
        .chars()
        .map(|c| match c.is_ascii_alphabetic() && !capital {
            true => {
                capital = true;
                c.to_ascii_uppercase()
            }
            false => c,
        })
        .collect();
    let same = choose_password(&f, &step, &dressed).await;
    assert!(
        body(&same).contains("différent du mot de passe provisoire"),
        "{}",
        body(&same)
    );
    let mismatch = answer(
        &f,
        &step,
        &[
            ("action", "password"),
            ("password", NEW_PASSWORD),
            ("confirm", "Tournesol-Bleu-43"),
        ],
    )
    .await;
    assert!(body(&mismatch).contains("Les deux mots de passe saisis sont différents"));
    assert_eq!(checked(&f.op, LOGIN, &temporary).await, "temporary");

    let step = choose_password(&f, &step, NEW_PASSWORD).await;
    assert_eq!(status(&step), 200, "{}", body(&step));
    assert!(body(&step).contains("Étape 2 sur 2"));
    assert!(body(&step).contains("(facultatif)"));
    assert!(body(&step).contains("l'adresse d'un de tes parents"));
    let step = answer(&f, &step, &[("action", "skip_email")]).await;
    back_at_the_rp(&f, step, &pending).await;

    let activated = account(&f, LOGIN).await;
    assert_eq!(activated.state, AccountState::Active);
    assert_eq!(activated.verified_email, None);
    assert_eq!(checked(&f.op, LOGIN, NEW_PASSWORD).await, "valid");
    assert_eq!(checked(&f.op, LOGIN, &temporary).await, "wrong");
    assert!(sent(&f, &activated.id, Purpose::PasswordChanged)
        .await
        .is_empty());
}

async fn a_pupil_confirms_an_address_with_a_code_sent_through_the_outbox(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pupil = account(&f, LOGIN).await;
    let temporary = notify(&f, &pupil).await;
    let (pending, step) = log_in(&f, LOGIN, &temporary, &["openid", "email"]).await;
    let step = choose_password(&f, &step, NEW_PASSWORD).await;
    let refused = answer(&f, &step, &[("action", "send_code"), ("email", "lea@")]).await;
    assert!(body(&refused).contains("adresse électronique valide"));
    let step = answer(
        &f,
        &step,
        &[
            ("action", "send_code"),
            ("email", " Lea.Martin@Exemple.FR "),
        ],
    )
    .await;
    assert!(body(&step).contains("envoyé à lea.martin@exemple.fr"));
    assert!(body(&step).contains("autocomplete=\"one-time-code\""));
    let code = code_sent(&f, &pupil.id).await;
    let (to, _) = &sent(&f, &pupil.id, Purpose::EmailCode).await[0];
    assert_eq!(to, "lea.martin@exemple.fr");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = answer(&f, &step, &[("action", "code"), ("code", wrong)]).await;
    assert!(
        body(&refused).contains("Code incorrect. Il vous reste 4 essais."),
        "{}",
        body(&refused)
    );
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let step = answer(&f, &step, &[("action", "code"), ("code", &spaced)]).await;
    back_at_the_rp(&f, step, &pending).await;

    let activated = account(&f, LOGIN).await;
    assert_eq!(activated.state, AccountState::Active);
    assert_eq!(
        activated.verified_email.as_deref(),
        Some("lea.martin@exemple.fr")
    );
    let changed = sent(&f, &pupil.id, Purpose::PasswordChanged).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].0, "lea.martin@exemple.fr");
    assert!(changed[0].1.contains("a été modifié le"));
    // The code is spent: the same code again is refused (the activation is over, too).
    assert_eq!(checked(&f.op, LOGIN, NEW_PASSWORD).await, "valid");
}

async fn a_guardian_confirms_the_address_and_says_one_child_is_not_theirs(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.op.import_siecle(&siecle_samples()).await;
    // A guardian with two children or more in the samples, and a Siècle address.
    let app = &f.op.app;
    let mut chosen = None;
    for uai in ["2530829B", "5433012Y"] {
        let targets = app
            .durable
            .notification_targets(uai, Profile::Guardian)
            .await
            .unwrap();
        if let Some(t) = targets
            .into_iter()
            .find(|t| t.children.len() >= 2 && t.account.email.is_some())
        {
            chosen = Some(t);
            break;
        }
    }
    let target = chosen.expect("the samples have a guardian of two with an address");
    let guardian = target.account.clone();
    let before = app.durable.affiliations(&guardian.id).await.unwrap();
    let temporary = notify(&f, &guardian).await;
    let (pending, step) = log_in(&f, &guardian.login, &temporary, &["openid"]).await;
    assert!(body(&step).contains("Étape 1 sur 3"));
    let step = choose_password(&f, &step, NEW_PASSWORD).await;
    // The address the establishment holds is offered; no way to skip.
    let siecle = guardian.email.clone().unwrap();
    assert!(
        body(&step).contains(&format!("value=\"{}\"", siecle))
            || body(&step).contains(&siecle.replace('@', "&#64;")),
        "{}",
        body(&step)
    );
    assert!(!body(&step).contains("skip_email"));
    let skipped = answer(&f, &step, &[("action", "skip_email")]).await;
    assert!(
        body(&skipped).contains("Étape 2 sur 3"),
        "a guardian cannot skip"
    );
    let step = answer(&f, &step, &[("action", "send_code"), ("email", &siecle)]).await;
    let code = code_sent(&f, &guardian.id).await;
    let step = answer(&f, &step, &[("action", "code"), ("code", &code)]).await;
    let page = body(&step).to_owned();
    assert!(page.contains("Étape 3 sur 3 : mes enfants"), "{page}");
    let first = &target.children[0];
    let second = &target.children[1];
    assert!(page.contains(&first.given_name) && page.contains(&second.given_name));
    // The second child is said not to be theirs.
    let disputed = before
        .children
        .iter()
        .find(|c| c.given_name == second.given_name && c.family_name == second.family_name)
        .expect("the child is linked")
        .account_id
        .clone();
    let step = answer(
        &f,
        &step,
        &[("action", "children"), ("not_mine", &disputed)],
    )
    .await;
    back_at_the_rp(&f, step, &pending).await;

    let activated = account(&f, &guardian.login).await;
    assert_eq!(activated.state, AccountState::Active);
    assert_eq!(activated.verified_email.as_deref(), Some(siecle.as_str()));
    let after = app.durable.affiliations(&guardian.id).await.unwrap();
    assert!(after.children.iter().all(|c| c.account_id != disputed));
    assert!(after
        .children
        .iter()
        .any(|c| c.given_name == first.given_name));
    // The establishment is told, in its notices.
    let uai = &before
        .children
        .iter()
        .find(|c| c.account_id == disputed)
        .unwrap()
        .enrolment
        .uai;
    let notices = app.durable.notices(uai).await.unwrap().unwrap();
    let notice = notices
        .iter()
        .find(|n| n.kind == "disputed_link")
        .expect("a notice for the establishment");
    assert!(
        notice.message.contains(&guardian.login),
        "{}",
        notice.message
    );
    assert!(notice.message.contains(&second.given_name));
    assert_eq!(
        sent(&f, &guardian.id, Purpose::PasswordChanged).await.len(),
        1
    );
}

async fn an_activation_interrupted_after_the_password_resumes_at_the_next_login(backend: Backend) {
    let f = Fixture::new(backend).await;
    let temporary = notify(&f, &account(&f, LOGIN).await).await;
    let (_, step) = log_in(&f, LOGIN, &temporary, &["openid"]).await;
    let step = choose_password(&f, &step, NEW_PASSWORD).await;
    assert!(body(&step).contains("Étape 2 sur 2"));
    // The browser is closed. The account is still to be activated; the temporary password is
    // gone and the chosen one leads back to the e-mail step.
    assert_eq!(account(&f, LOGIN).await.state, AccountState::Notified);
    assert_eq!(checked(&f.op, LOGIN, &temporary).await, "wrong");
    f.op.clock.advance(Duration::from_secs(60));
    let (pending, step) = log_in(&f, LOGIN, NEW_PASSWORD, &["openid"]).await;
    assert!(body(&step).contains("Étape 2 sur 2"), "{}", body(&step));
    let step = answer(&f, &step, &[("action", "skip_email")]).await;
    back_at_the_rp(&f, step, &pending).await;
    assert_eq!(account(&f, LOGIN).await.state, AccountState::Active);
    // Now a plain login: straight back to the RP.
    let pending = f.request(&["openid"], &[]);
    let back = f
        .browser
        .authorize(f.issuer(), pending.url.as_str(), LOGIN, NEW_PASSWORD)
        .await;
    assert!(param(&back, "code").is_some());
}

async fn an_activation_page_belongs_to_the_browser_and_the_transaction(backend: Backend) {
    let f = Fixture::new(backend).await;
    let temporary = notify(&f, &account(&f, LOGIN).await).await;
    let (_, step) = log_in(&f, LOGIN, &temporary, &["openid"]).await;
    let Step::Page { url, .. } = &step else {
        panic!("expected the activation page")
    };
    // Another browser gets the expired page, for the page and for an answer.
    let other = crate::common::browser::Browser::new();
    let seen = other.get(f.issuer(), url.as_str()).await;
    assert_eq!(status(&seen), 400);
    assert!(body(&seen).contains("a expiré"));
    let tx = hidden(body(&step), "tx").unwrap();
    let csrf = hidden(body(&step), "csrf").unwrap();
    let stolen = other
        .post(
            f.issuer(),
            &format!("{}/activation", f.issuer()),
            &[
                ("tx", &tx),
                ("csrf", &csrf),
                ("action", "password"),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status(&stolen), 400);
    // A wrong CSRF token from the right browser: refused too, nothing written.
    let forged = f
        .browser
        .post(
            f.issuer(),
            &format!("{}/activation", f.issuer()),
            &[
                ("tx", &tx),
                ("csrf", "forged"),
                ("action", "password"),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status(&forged), 400);
    assert_eq!(checked(&f.op, LOGIN, &temporary).await, "temporary");
}
