//! Mon compte's contact changes (issue #17), over HTTP on both backends: a new e-mail address
//! confirmed by a code that a real SMTP server receives, a new mobile number by a code the fake
//! SMS operator receives, wrong codes counted until the code is spent, a pupil kept to e-mail
//! (FAQ: a pupil recovers only by e-mail), the page's notice that nothing goes back to Siècle,
//! and a re-import that leaves the account's own contacts alone while updating Siècle's.

use crate::common::browser::{hidden, Browser, Step};
use crate::common::sms::{six_digits, SmsOperator};
use crate::common::smtp::SmtpServer;
use crate::common::{siecle_samples, Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::{Account, Profile};

on_both_backends!(
    an_email_change_is_confirmed_by_a_code_sent_to_the_new_address,
    a_mobile_change_is_confirmed_by_an_sms_code_and_wrong_codes_spend_it,
    a_pupil_sets_an_email_but_no_mobile,
    a_reimport_keeps_the_accounts_own_contacts_and_updates_siecles,
);

const PASSWORD: &str = "Famille-Mot-2026";
const UAI: &str = "2530829B";
/// A guardian of the sample establishment whose record has an e-mail and a mobile.
const PERSON: &str = "100665";
const SIECLE_EMAIL: &str = "isabelle.girard@exemple.fr";
const SIECLE_MOBILE: &str = "0684083747";

/// The sample establishments imported; the guardian `PERSON`, active with `PASSWORD`.
async fn imported_guardian(op: &TestOp) -> Account {
    op.import_siecle(&siecle_samples()).await;
    let id = op
        .app
        .durable
        .person_account(UAI, PERSON)
        .await
        .unwrap()
        .expect("the sample guardian has an account");
    op.activate(&id, PASSWORD).await
}

/// A browser signed in to Mon compte (no relying party): the page's body.
pub async fn signed_in_to_mon_compte(
    op: &TestOp,
    login: &str,
    password: &str,
) -> (Browser, String) {
    let browser = Browser::new();
    let step = browser.get(&op.issuer, &op.url("/compte")).await;
    let step = browser
        .submit_login(&op.issuer, step, login, password)
        .await;
    match step {
        Step::Page { status, url, body } => {
            assert_eq!(status, 200, "{body}");
            assert_eq!(url.path(), "/compte", "{body}");
            (browser, body)
        }
        Step::Left(url) => panic!("left for {url}"),
    }
}

pub async fn post(
    browser: &Browser,
    op: &TestOp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    match browser.post(&op.issuer, &op.url(path), form).await {
        Step::Page { status, body, .. } => (status, unescaped(&body)),
        Step::Left(url) => panic!("left for {url}"),
    }
}

/// The page's text with askama's escapes of quotes undone, to compare with French messages.
pub fn unescaped(body: &str) -> String {
    body.replace("&#39;", "'").replace("&quot;", "\"")
}

async fn account(op: &TestOp, id: &str) -> Account {
    op.app.durable.account(id).await.unwrap().unwrap()
}

async fn an_email_change_is_confirmed_by_a_code_sent_to_the_new_address(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let op = TestOp::start_with(backend, move |config| {
        config.smtp.url = url;
        config.smtp.from_address = "ne-pas-repondre@educonnect.example".into();
        config.smtp.timeout_seconds = 5;
    })
    .await;
    let guardian = imported_guardian(&op).await;
    let (browser, body) = signed_in_to_mon_compte(&op, &guardian.login, PASSWORD).await;
    // The establishment's record is shown apart, and the notice says nothing goes back to it.
    assert!(
        body.contains("Coordonnées connues de l'établissement"),
        "{body}"
    );
    assert!(body.contains(SIECLE_EMAIL), "{body}");
    assert!(body.contains(
        "Elle n'est pas transmise à la base Siècle de l'établissement : pensez à informer le \
         secrétariat."
    ));
    let csrf = hidden(&body, "csrf").unwrap();

    let (status, body) = post(
        &browser,
        &op,
        "/compte/courriel",
        &[
            ("csrf", &csrf),
            ("action", "envoyer"),
            ("value", "pas-une-adresse"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("n'est pas valable"), "{body}");

    let (status, body) = post(
        &browser,
        &op,
        "/compte/courriel",
        &[
            ("csrf", &csrf),
            ("action", "envoyer"),
            ("value", " Isa.Nouvelle@Exemple.org "),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Code reçu à l'adresse isa.nouvelle@exemple.org"),
        "{body}"
    );
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    let mails = smtp.wait_for(1).await;
    assert_eq!(
        mails[0].rcpt_tos,
        vec!["isa.nouvelle@exemple.org".to_owned()]
    );
    let code = six_digits(mails[0].text.as_deref().unwrap()).expect("the mail holds a code");
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let (status, body) = post(
        &browser,
        &op,
        "/compte/courriel",
        &[("csrf", &csrf), ("action", "confirmer"), ("code", wrong)],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.contains("Code incorrect. Il vous reste 4 essais."),
        "{body}"
    );
    assert_eq!(account(&op, &guardian.id).await.verified_email, None);

    let (status, body) = post(
        &browser,
        &op,
        "/compte/courriel",
        &[("csrf", &csrf), ("action", "confirmer"), ("code", &code)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Votre nouvelle adresse électronique est enregistrée"),
        "{body}"
    );
    assert!(body.contains("pensez à informer le secrétariat"), "{body}");
    let now = account(&op, &guardian.id).await;
    assert_eq!(
        now.verified_email.as_deref(),
        Some("isa.nouvelle@exemple.org")
    );
    assert_eq!(now.email.as_deref(), Some(SIECLE_EMAIL), "Siècle's stays");
    // Spent: the same code again confirms nothing.
    let (status, body) = post(
        &browser,
        &op,
        "/compte/courriel",
        &[("csrf", &csrf), ("action", "confirmer"), ("code", &code)],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("Ce code n'est plus valable"), "{body}");
}

async fn a_mobile_change_is_confirmed_by_an_sms_code_and_wrong_codes_spend_it(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |config| {
        operator.configure(config);
        // The per-code limit is what is shown here, not the account's throttle behind it.
        config.throttle.failures_per_account = 50;
    })
    .await;
    let guardian = imported_guardian(&op).await;
    let (browser, body) = signed_in_to_mon_compte(&op, &guardian.login, PASSWORD).await;
    assert!(
        body.contains("06 84 08 37 47"),
        "Siècle's number shown: {body}"
    );
    let csrf = hidden(&body, "csrf").unwrap();
    let ask = [
        ("csrf", csrf.as_str()),
        ("action", "envoyer"),
        ("value", "07 11 22 33 44"),
    ];

    let (status, body) = post(&browser, &op, "/compte/mobile", &ask).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Code reçu par SMS au 07 11 22 33 44"),
        "{body}"
    );
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    operator.wait_for(1).await;
    let first = operator
        .last_code_sent_to("+33711223344")
        .expect("an SMS code");
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    // Five tries per code, counted before the check: the fifth wrong one spends it.
    for left in (1..5).rev() {
        let (status, body) = post(
            &browser,
            &op,
            "/compte/mobile",
            &[("csrf", &csrf), ("action", "confirmer"), ("code", wrong)],
        )
        .await;
        assert_eq!(status, 400);
        let plural = if left > 1 { "s" } else { "" };
        assert!(
            body.contains(&format!("Il vous reste {left} essai{plural}.")),
            "{body}"
        );
    }
    let (_, body) = post(
        &browser,
        &op,
        "/compte/mobile",
        &[("csrf", &csrf), ("action", "confirmer"), ("code", wrong)],
    )
    .await;
    assert!(body.contains("Ce code n'est plus valable"), "{body}");
    let (_, body) = post(
        &browser,
        &op,
        "/compte/mobile",
        &[("csrf", &csrf), ("action", "confirmer"), ("code", &first)],
    )
    .await;
    assert!(
        body.contains("Ce code n'est plus valable"),
        "the right code, too late: {body}"
    );
    assert_eq!(account(&op, &guardian.id).await.verified_phone, None);

    // A new code, the right one.
    let (status, _) = post(&browser, &op, "/compte/mobile", &ask).await;
    assert_eq!(status, 200);
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    operator.wait_for(2).await;
    let second = operator.last_code_sent_to("+33711223344").unwrap();
    let (status, body) = post(
        &browser,
        &op,
        "/compte/mobile",
        &[("csrf", &csrf), ("action", "confirmer"), ("code", &second)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Votre nouveau numéro de téléphone portable est enregistré"),
        "{body}"
    );
    assert!(
        body.contains("Il n'est pas transmis à la base Siècle"),
        "{body}"
    );
    let now = account(&op, &guardian.id).await;
    assert_eq!(now.verified_phone.as_deref(), Some("0711223344"));
    assert_eq!(now.phone.as_deref(), Some(SIECLE_MOBILE));
}

async fn a_pupil_sets_an_email_but_no_mobile(backend: Backend) {
    let op = TestOp::start(backend).await;
    let pupil = op.account("l.martin7", PASSWORD, Profile::Pupil).await;
    let (browser, body) = signed_in_to_mon_compte(&op, &pupil.login, PASSWORD).await;
    assert!(
        body.contains("un élève récupère son compte par courriel seulement"),
        "{body}"
    );
    assert!(!body.contains("id=\"changer-mobile\""), "{body}");
    assert!(body.contains("id=\"changer-courriel\""), "{body}");
    let csrf = hidden(&body, "csrf").unwrap();
    // FAQ: a pupil recovers only by e-mail; the form is refused even when sent by hand.
    let (status, body) = post(
        &browser,
        &op,
        "/compte/mobile",
        &[
            ("csrf", &csrf),
            ("action", "envoyer"),
            ("value", "0711223344"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("Un compte élève n'a pas de numéro"), "{body}");
    assert!(op
        .app
        .durable
        .account_messages(&pupil.id)
        .await
        .unwrap()
        .is_empty());
}

async fn a_reimport_keeps_the_accounts_own_contacts_and_updates_siecles(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |config| operator.configure(config)).await;
    let guardian = imported_guardian(&op).await;
    let (browser, body) = signed_in_to_mon_compte(&op, &guardian.login, PASSWORD).await;
    let csrf = hidden(&body, "csrf").unwrap();
    let ask = [
        ("csrf", csrf.as_str()),
        ("action", "envoyer"),
        ("value", "0711223344"),
    ];
    post(&browser, &op, "/compte/mobile", &ask).await;
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap();
    operator.wait_for(1).await;
    let code = operator.last_code_sent_to("+33711223344").unwrap();
    let confirm = [
        ("csrf", csrf.as_str()),
        ("action", "confirmer"),
        ("code", code.as_str()),
    ];
    let (status, _) = post(&browser, &op, "/compte/mobile", &confirm).await;
    assert_eq!(status, 200);
    op.app
        .durable
        .set_verified_email(&guardian.id, "isa.perso@exemple.org", op.app.now_ms())
        .await
        .unwrap();

    // The establishment's next export gives this guardian another address and number.
    let next = crate::common::siecle_changed(
        &crate::common::siecle_sample_dirs(),
        &[
            (SIECLE_EMAIL, "i.girard@exemple.net"),
            (SIECLE_MOBILE, "0655443322"),
        ],
    );
    op.import_siecle(next.path()).await;
    let now = account(&op, &guardian.id).await;
    assert_eq!(
        now.email.as_deref(),
        Some("i.girard@exemple.net"),
        "Siècle's, updated"
    );
    assert_eq!(
        now.phone.as_deref(),
        Some("0655443322"),
        "Siècle's, updated"
    );
    assert_eq!(
        now.verified_email.as_deref(),
        Some("isa.perso@exemple.org"),
        "the account's own, kept"
    );
    assert_eq!(
        now.verified_phone.as_deref(),
        Some("0711223344"),
        "the account's own, kept"
    );
}
