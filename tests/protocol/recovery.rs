//! A forgotten password or identifier (issue #17, part 2), over HTTP on both backends: a pupil
//! by an e-mail link through a real SMTP server (single use, short-lived, sessions and refresh
//! grants ended, a "password changed" e-mail), never by SMS; a guardian by SMS through the fake
//! operator; only confirmed contacts, never Siècle's; identifiers reminded by e-mail and SMS;
//! throttles and caps by the injected clock. Byte-identical answers and their timing:
//! `recovery_enumeration.rs`; in Chromium: tests/browser/recovery.rs.

use std::time::Duration;

use crate::common::browser::{hidden, Browser, Step};
use crate::common::sms::SmsOperator;
use crate::common::smtp::SmtpServer;
use crate::common::{Backend, TestOp};
use crate::fixture::{access, refresh, Fixture, LOGIN, PASSWORD};
use crate::on_both_backends;
use educonnect::accounts::Profile;
use educonnect::config::Config;
use educonnect::outbox::{Message, Purpose};

on_both_backends!(
    a_pupil_recovers_by_a_single_use_link_that_ends_sessions_and_grants,
    a_recovery_link_expires_and_a_new_one_replaces_it,
    a_pupil_asking_for_sms_is_sent_nothing,
    a_pupil_without_a_confirmed_address_is_sent_nothing_and_told_to_ask_the_establishment,
    a_guardian_recovers_by_sms_code_with_few_tries,
    a_guardian_recovers_by_email,
    siecle_contacts_are_never_used_for_recovery,
    a_disabled_account_is_sent_nothing,
    identifiers_are_reminded_to_confirmed_contacts_by_sms_only_for_guardians,
    requests_are_capped_per_identifier_and_per_contact_by_the_hour,
    sms_codes_are_capped_per_number_per_day,
    procedures_started_per_address_are_capped_by_the_minute_of_the_clock,
    a_weak_new_password_is_refused_with_the_policys_rule_and_keeps_the_link,
    a_recovery_form_is_refused_from_another_browser_or_without_its_csrf,
);

pub const NEW_PASSWORD: &str = "Tournesol-Bleu-42";
pub const PUPIL_RULE: &str = "Un élève ne peut recevoir qu'un courriel, à l'adresse qu'il a \
     confirmée ; un élève sans adresse confirmée demande à son établissement de réinitialiser \
     son mot de passe.";
pub const PARENT_RULE: &str = "Un parent ne peut pas réinitialiser le mot de passe de son \
     enfant : c'est l'établissement de l'enfant qui le fait.";

fn fast(config: &mut Config) {
    config.selfservice.response_floor_ms = 50;
}

pub fn body(step: &Step) -> &str {
    match step {
        Step::Page { body, .. } => body,
        Step::Left(url) => panic!("left for {url}, expected a page"),
    }
}

/// The page's text with the apostrophes the templates escape in variables put back.
pub fn text(step: &Step) -> String {
    body(step).replace("&#39;", "'").replace("&#x27;", "'")
}

pub fn status(step: &Step) -> u16 {
    match step {
        Step::Page { status, .. } => *status,
        Step::Left(_) => 302,
    }
}

/// Opens « Mot de passe oublié ? » and asks for `login` by `channel`: the answer page.
pub async fn ask(op: &TestOp, browser: &Browser, login: &str, channel: &str) -> Step {
    let form = browser
        .get(&op.issuer, &op.url("/mot-de-passe-oublie"))
        .await;
    assert_eq!(status(&form), 200, "{}", body(&form));
    let (flow, csrf) = ids(&form);
    browser
        .post(
            &op.issuer,
            &op.url("/mot-de-passe-oublie"),
            &[
                ("flow", &flow),
                ("csrf", &csrf),
                ("action", "request"),
                ("login", login),
                ("channel", channel),
            ],
        )
        .await
}

pub fn ids(step: &Step) -> (String, String) {
    let page = body(step);
    (
        hidden(page, "flow").expect("a flow id"),
        hidden(page, "csrf").expect("a CSRF token"),
    )
}

/// Types `code` on the code page `step`.
async fn code(op: &TestOp, browser: &Browser, step: &Step, code: &str) -> Step {
    let (flow, csrf) = ids(step);
    browser
        .post(
            &op.issuer,
            &op.url("/mot-de-passe-oublie"),
            &[
                ("flow", &flow),
                ("csrf", &csrf),
                ("action", "code"),
                ("code", code),
            ],
        )
        .await
}

/// Submits the new-password page `step` (after a code or from a link).
pub async fn choose(op: &TestOp, browser: &Browser, step: &Step, password: &str) -> Step {
    let page = body(step);
    let (flow, csrf) = ids(step);
    let token = hidden(page, "jeton");
    let path = if token.is_some() {
        "/mot-de-passe-oublie/lien"
    } else {
        "/mot-de-passe-oublie"
    };
    let token = token.unwrap_or_default();
    browser
        .post(
            &op.issuer,
            &op.url(path),
            &[
                ("flow", &flow),
                ("csrf", &csrf),
                ("action", "password"),
                ("jeton", &token),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await
}

/// The messages in the outbox, oldest first: purpose, recipient, text.
pub async fn outbox(op: &TestOp) -> Vec<(Purpose, String, String)> {
    let mut messages = op.app.durable.recent_messages(100).await.unwrap();
    messages.reverse();
    messages
        .into_iter()
        .map(|q| {
            let text = match q.message.open(op.app.keys.kek()).unwrap() {
                Message::Email(email) => email.text,
                Message::Sms(sms) => sms.text,
            };
            (q.message.purpose, q.message.recipient.clone(), text)
        })
        .collect()
}

/// The recovery link in a text.
pub fn link_in(text: &str) -> String {
    let start = text.find("http").expect("a link");
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |e| start + e);
    let link = &text[start..end];
    assert!(link.contains("/mot-de-passe-oublie/lien?jeton="), "{link}");
    link.to_owned()
}

async fn last_link(op: &TestOp) -> String {
    let messages = outbox(op).await;
    let (_, _, text) = messages
        .iter()
        .rev()
        .find(|(p, _, _)| *p == Purpose::RecoveryLink)
        .expect("a recovery link was queued");
    link_in(text)
}

async fn logs_in(f: &Fixture, password: &str) -> bool {
    let browser = Browser::new();
    let pending = f.request(&["openid"], &[]);
    let step = browser.get(f.issuer(), pending.url.as_str()).await;
    let step = browser
        .submit_login(f.issuer(), step, LOGIN, password)
        .await;
    matches!(step, Step::Left(_))
}

async fn pupil_with_address(f: &Fixture, address: &str) {
    let app = &f.op.app;
    app.durable
        .set_verified_email(&f.sub, address, app.now_ms())
        .await
        .unwrap();
}

async fn a_pupil_recovers_by_a_single_use_link_that_ends_sessions_and_grants(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let f = Fixture::with(backend, |c| {
        fast(c);
        c.smtp.url = smtp.url();
        c.smtp.from_address = "ne-pas-repondre@educonnect.example".into();
        c.smtp.timeout_seconds = 5;
    })
    .await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let (tokens, _) = f.login(&["openid"]).await;

    let browser = Browser::new();
    let answer = ask(&f.op, &browser, LOGIN, "email").await;
    assert_eq!(status(&answer), 200);
    assert!(body(&answer).contains("un courriel vient d'y être envoyé"));
    assert!(body(&answer).contains(PUPIL_RULE));
    assert!(body(&answer).contains(PARENT_RULE));

    educonnect::maintenance::deliver_once(&f.op.app)
        .await
        .unwrap();
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].rcpt_tos, ["lea.martin@example.org"]);
    assert_eq!(
        mails[0].subject,
        "Réinitialisation de votre mot de passe EduConnect"
    );
    let link = link_in(mails[0].text.as_deref().unwrap());

    // Opening the link (a mail scanner, then the person) spends nothing.
    let scanned = browser.get(f.issuer(), &link).await;
    assert_eq!(status(&scanned), 200);
    let page = browser.get(f.issuer(), &link).await;
    assert!(body(&page).contains("Je choisis un nouveau mot de passe"));
    let done = choose(&f.op, &browser, &page, NEW_PASSWORD).await;
    assert_eq!(status(&done), 200, "{}", body(&done));
    assert!(body(&done).contains("Votre mot de passe a été modifié"));

    // Single use: the link is spent, even from the page opened before.
    let again = browser.get(f.issuer(), &link).await;
    assert_eq!(status(&again), 400);
    assert!(text(&again).contains("Ce lien n'est plus valable"));
    let replay = choose(&f.op, &browser, &scanned, "Autre-Tournesol-43").await;
    assert_eq!(status(&replay), 400);

    // The account's refresh grants and tokens are ended.
    assert_eq!(f.introspect(&access(&tokens)).await["active"], false);
    let (code, body_json) = f
        .token_raw(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens)),
        ])
        .await;
    assert_eq!(
        (code, body_json["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(!logs_in(&f, PASSWORD).await);
    assert!(logs_in(&f, NEW_PASSWORD).await);

    // A "password changed" e-mail went to the confirmed address.
    educonnect::maintenance::deliver_once(&f.op.app)
        .await
        .unwrap();
    let mails = smtp.wait_for(2).await;
    assert_eq!(
        mails[1].subject,
        "Le mot de passe de votre compte EduConnect a changé"
    );
    assert_eq!(mails[1].rcpt_tos, ["lea.martin@example.org"]);
    // Nothing secret in the audit trail's actions: the recovery is recorded by name.
    let query = educonnect::store::AuditQuery {
        uai: None,
        subject: Some(format!("account:{}", f.sub)),
        before: None,
        limit: 50,
    };
    let events = f.op.app.durable.events(&query).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"account.recovery_requested"));
    assert!(actions.contains(&"account.password_recovered"));
    assert!(actions.contains(&"account.password_changed"));
}

async fn a_recovery_link_expires_and_a_new_one_replaces_it(backend: Backend) {
    let f = Fixture::with(backend, fast).await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let browser = Browser::new();
    ask(&f.op, &browser, LOGIN, "email").await;
    let first = last_link(&f.op).await;
    ask(&f.op, &browser, LOGIN, "email").await;
    let second = last_link(&f.op).await;
    assert_ne!(first, second);
    assert_eq!(status(&browser.get(f.issuer(), &first).await), 400);
    assert_eq!(status(&browser.get(f.issuer(), &second).await), 200);
    // Short-lived: past recovery_link_seconds (1800 s) the link is refused.
    f.op.clock.advance(Duration::from_secs(1801));
    let late = browser.get(f.issuer(), &second).await;
    assert_eq!(status(&late), 400);
}

async fn a_pupil_asking_for_sms_is_sent_nothing(backend: Backend) {
    let f = Fixture::with(backend, fast).await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let app = &f.op.app;
    app.durable
        .set_verified_phone(&f.sub, "0639980101", app.now_ms())
        .await
        .unwrap();
    let answer = ask(&f.op, &Browser::new(), LOGIN, "sms").await;
    // FAQ rule: a pupil recovers only by e-mail. The page asks for a code all the same.
    assert_eq!(status(&answer), 200);
    assert!(body(&answer).contains("Code reçu par SMS"));
    assert!(outbox(&f.op).await.is_empty());
}

async fn a_pupil_without_a_confirmed_address_is_sent_nothing_and_told_to_ask_the_establishment(
    backend: Backend,
) {
    let f = Fixture::with(backend, fast).await;
    let answer = ask(&f.op, &Browser::new(), LOGIN, "email").await;
    assert_eq!(status(&answer), 200);
    let page = body(&answer);
    assert!(page.contains("demande à son établissement de réinitialiser son mot de passe"));
    assert!(page.contains(PUPIL_RULE) && page.contains(PARENT_RULE));
    assert!(outbox(&f.op).await.is_empty());
}

async fn guardian(op: &TestOp, login: &str) -> String {
    let account = op.account(login, PASSWORD, Profile::Guardian).await;
    account.id
}

async fn a_guardian_recovers_by_sms_code_with_few_tries(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| {
        fast(c);
        operator.configure(c);
    })
    .await;
    let id = guardian(&op, "c.martin02").await;
    op.app
        .durable
        .set_verified_phone(&id, "0639980102", op.app.now_ms())
        .await
        .unwrap();
    let browser = Browser::new();
    let page = ask(&op, &browser, "c.martin02", "sms").await;
    assert!(body(&page).contains("Code reçu par SMS"));
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    operator.wait_for(1).await;
    let right = operator.last_code_sent_to("+33639980102").expect("a code");
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };

    let refused = code(&op, &browser, &page, wrong).await;
    assert_eq!(status(&refused), 422);
    assert!(body(&refused).contains("Code incorrect. Il vous reste 4 essais."));
    let chosen = code(&op, &browser, &refused, &right).await;
    assert!(
        body(&chosen).contains("Je choisis un nouveau mot de passe"),
        "{}",
        body(&chosen)
    );
    let done = choose(&op, &browser, &chosen, NEW_PASSWORD).await;
    assert!(body(&done).contains("Votre mot de passe a été modifié"));
    let account = op.app.durable.account(&id).await.unwrap().unwrap();
    let verified = op
        .app
        .passwords
        .verify(
            &educonnect::secrets::Secret::from_presented(NEW_PASSWORD),
            account.password_hash.as_deref(),
        )
        .await
        .unwrap();
    assert!(verified.ok);

    // Too many tries: after five wrong codes, even the right one is refused.
    let page = ask(&op, &browser, "c.martin02", "sms").await;
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    operator.wait_for(2).await;
    let right = operator.last_code_sent_to("+33639980102").unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut step = page;
    for _ in 0..5 {
        step = code(&op, &browser, &step, wrong).await;
    }
    assert!(text(&step).contains("Ce code n'est plus valable"));
    let late = code(&op, &browser, &step, &right).await;
    assert_eq!(status(&late), 422);
}

async fn a_guardian_recovers_by_email(backend: Backend) {
    let op = TestOp::start_with(backend, fast).await;
    let id = guardian(&op, "c.martin02").await;
    op.app
        .durable
        .set_verified_email(&id, "claire@example.org", op.app.now_ms())
        .await
        .unwrap();
    let browser = Browser::new();
    ask(&op, &browser, "c.martin02", "email").await;
    let link = last_link(&op).await;
    let page = browser.get(&op.issuer, &link).await;
    let done = choose(&op, &browser, &page, NEW_PASSWORD).await;
    assert!(body(&done).contains("Votre mot de passe a été modifié"));
    let sent = outbox(&op).await;
    assert!(sent
        .iter()
        .any(|(p, to, _)| *p == Purpose::PasswordChanged && to == "claire@example.org"));
}

async fn siecle_contacts_are_never_used_for_recovery(backend: Backend) {
    let op = TestOp::start_with(backend, fast).await;
    // `op.account` gives the account a Siècle address, never confirmed: nothing goes there.
    let id = guardian(&op, "c.martin02").await;
    let account = op.app.durable.account(&id).await.unwrap().unwrap();
    assert!(account.email.is_some() && account.verified_email.is_none());
    let browser = Browser::new();
    ask(&op, &browser, "c.martin02", "email").await;
    ask(&op, &browser, "c.martin02", "sms").await;
    assert!(outbox(&op).await.is_empty());
}

async fn a_disabled_account_is_sent_nothing(backend: Backend) {
    let f = Fixture::with(backend, fast).await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let app = &f.op.app;
    let account = app.durable.account(&f.sub).await.unwrap().unwrap();
    let author = educonnect::accounts::lifecycle::Author {
        audit: &*app.durable,
        actor: "test",
        address: None,
    };
    educonnect::accounts::lifecycle::disable(
        &*app.durable,
        app,
        author,
        &account,
        "0000000A",
        app.now_ms(),
    )
    .await
    .unwrap();
    let answer = ask(&f.op, &Browser::new(), LOGIN, "email").await;
    assert_eq!(status(&answer), 200);
    assert!(outbox(&f.op).await.is_empty());
}

/// Opens « Identifiant oublié ? » and gives `contact`: the answer page.
pub async fn remind(op: &TestOp, browser: &Browser, contact: &str) -> Step {
    let form = browser
        .get(&op.issuer, &op.url("/identifiant-oublie"))
        .await;
    let (flow, csrf) = ids(&form);
    browser
        .post(
            &op.issuer,
            &op.url("/identifiant-oublie"),
            &[("flow", &flow), ("csrf", &csrf), ("contact", contact)],
        )
        .await
}

async fn identifiers_are_reminded_to_confirmed_contacts_by_sms_only_for_guardians(
    backend: Backend,
) {
    let op = TestOp::start_with(backend, fast).await;
    let pupil = op.account("l.martin01", PASSWORD, Profile::Pupil).await;
    let parent = guardian(&op, "c.martin02").await;
    let now = op.app.now_ms();
    let durable = &op.app.durable;
    durable
        .set_verified_email(&pupil.id, "famille@example.org", now)
        .await
        .unwrap();
    durable
        .set_verified_email(&parent, "famille@example.org", now)
        .await
        .unwrap();
    durable
        .set_verified_phone(&pupil.id, "0639980104", now)
        .await
        .unwrap();
    durable
        .set_verified_phone(&parent, "0639980104", now)
        .await
        .unwrap();
    let browser = Browser::new();
    let by_mail = remind(&op, &browser, "Famille@Example.org").await;
    assert_eq!(status(&by_mail), 200);
    assert!(body(&by_mail).contains("l'identifiant de ce compte vient d'y être envoyé"));
    remind(&op, &browser, "06 39 98 01 04").await;
    let sent = outbox(&op).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let (purpose, to, text) = &sent[0];
    assert_eq!(
        (*purpose, to.as_str()),
        (Purpose::IdentifierReminder, "famille@example.org")
    );
    assert!(text.contains("l.martin01") && text.contains("c.martin02"));
    let (purpose, to, text) = &sent[1];
    assert_eq!(
        (*purpose, to.as_str()),
        (Purpose::IdentifierReminder, "0639980104")
    );
    // FAQ rule: a pupil recovers only by e-mail.
    assert_eq!(text, "EduConnect : votre identifiant est c.martin02.");
    // A malformed entry is named; an unknown one is answered like a known one.
    let malformed = remind(&op, &browser, "pas un contact").await;
    assert_eq!(status(&malformed), 422);
    let unknown = remind(&op, &browser, "inconnu@example.org").await;
    assert_eq!(body(&unknown), body(&by_mail));
    assert_eq!(outbox(&op).await.len(), 2);
}

async fn requests_are_capped_per_identifier_and_per_contact_by_the_hour(backend: Backend) {
    let f = Fixture::with(backend, |c| {
        fast(c);
        c.codes.sends_per_hour = 2;
    })
    .await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let browser = Browser::new();
    for _ in 0..3 {
        let answer = ask(&f.op, &browser, LOGIN, "email").await;
        assert_eq!(status(&answer), 200);
    }
    let links = |sent: &[(Purpose, String, String)]| {
        sent.iter()
            .filter(|(p, _, _)| *p == Purpose::RecoveryLink)
            .count()
    };
    assert_eq!(links(&outbox(&f.op).await), 2);
    for _ in 0..3 {
        remind(&f.op, &browser, "lea.martin@example.org").await;
    }
    let reminders = |sent: &[(Purpose, String, String)]| {
        sent.iter()
            .filter(|(p, _, _)| *p == Purpose::IdentifierReminder)
            .count()
    };
    assert_eq!(reminders(&outbox(&f.op).await), 2);
    // An hour later by the injected clock, the counters start again.
    f.op.clock.advance(Duration::from_secs(3600));
    remind(&f.op, &browser, "lea.martin@example.org").await;
    assert_eq!(reminders(&outbox(&f.op).await), 3);
}

async fn sms_codes_are_capped_per_number_per_day(backend: Backend) {
    let op = TestOp::start_with(backend, |c| {
        fast(c);
        c.sms.per_number_per_day = 2;
    })
    .await;
    let id = guardian(&op, "c.martin02").await;
    op.app
        .durable
        .set_verified_phone(&id, "0639980105", op.app.now_ms())
        .await
        .unwrap();
    let browser = Browser::new();
    let mut pages = Vec::new();
    for _ in 0..3 {
        pages.push(body(&ask(&op, &browser, "c.martin02", "sms").await).to_owned());
    }
    let codes = |sent: &[(Purpose, String, String)]| {
        sent.iter()
            .filter(|(p, _, _)| *p == Purpose::SmsCode)
            .count()
    };
    assert_eq!(codes(&outbox(&op).await), 2);
    // The capped request's page is the same as the others (apart from its tokens).
    assert!(pages[2].contains("Code reçu par SMS"));
    op.clock.advance(Duration::from_secs(86_400));
    ask(&op, &browser, "c.martin02", "sms").await;
    assert_eq!(codes(&outbox(&op).await), 3);
}

async fn procedures_started_per_address_are_capped_by_the_minute_of_the_clock(backend: Backend) {
    let op = TestOp::start_with(backend, |c| {
        fast(c);
        c.selfservice.starts_per_address_per_minute = 2;
    })
    .await;
    // The starts begin a second into a minute of the service's clock.
    let now = op.app.now_ms();
    op.clock.advance(Duration::from_millis(
        (61_000 - now.rem_euclid(60_000)) as u64,
    ));
    let browser = Browser::new();
    let open = || async {
        status(
            &browser
                .get(&op.issuer, &op.url("/mot-de-passe-oublie"))
                .await,
        )
    };
    assert_eq!(open().await, 200);
    assert_eq!(open().await, 200);
    // Any procedure counts: the identifier reminder is refused from this address too.
    let reminder = browser
        .get(&op.issuer, &op.url("/identifiant-oublie"))
        .await;
    assert_eq!(status(&reminder), 429);
    assert!(
        text(&reminder).contains("Trop de demandes"),
        "{}",
        body(&reminder)
    );
    // The next minute of the service's clock, starts are allowed again.
    op.clock.advance(Duration::from_secs(59));
    assert_eq!(open().await, 200);
}

async fn a_weak_new_password_is_refused_with_the_policys_rule_and_keeps_the_link(backend: Backend) {
    let f = Fixture::with(backend, fast).await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let browser = Browser::new();
    ask(&f.op, &browser, LOGIN, "email").await;
    let link = last_link(&f.op).await;
    let page = browser.get(f.issuer(), &link).await;
    let weak = choose(&f.op, &browser, &page, "tournesolbleu").await;
    assert_eq!(status(&weak), 422);
    assert!(body(&weak).contains("Le mot de passe doit mélanger au moins 3 types de caractères"));
    let done = choose(&f.op, &browser, &weak, NEW_PASSWORD).await;
    assert!(body(&done).contains("Votre mot de passe a été modifié"));
}

async fn a_recovery_form_is_refused_from_another_browser_or_without_its_csrf(backend: Backend) {
    let f = Fixture::with(backend, fast).await;
    pupil_with_address(&f, "lea.martin@example.org").await;
    let browser = Browser::new();
    let form = browser
        .get(f.issuer(), &f.op.url("/mot-de-passe-oublie"))
        .await;
    let (flow, csrf) = ids(&form);
    let other = Browser::new();
    other
        .get(f.issuer(), &f.op.url("/mot-de-passe-oublie"))
        .await;
    assert_eq!(status(&post(&f.op, &other, &flow, &csrf).await), 400);
    assert_eq!(
        status(&post(&f.op, &browser, &flow, "not-the-token").await),
        400
    );
    assert!(outbox(&f.op).await.is_empty());
    // A cross-site form is refused before anything is looked at.
    let cross = browser
        .http
        .post(f.op.url("/mot-de-passe-oublie"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("flow", flow.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(status(&post(&f.op, &browser, &flow, &csrf).await), 200);
}

async fn post(op: &TestOp, who: &Browser, flow: &str, csrf: &str) -> Step {
    who.post(
        &op.issuer,
        &op.url("/mot-de-passe-oublie"),
        &[
            ("flow", flow),
            ("csrf", csrf),
            ("action", "request"),
            ("login", LOGIN),
            ("channel", "email"),
        ],
    )
    .await
}
