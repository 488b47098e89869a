//! A guardian's self-registration by SMS (issue #17; FAQ: "guardians can self-register as soon
//! as their record is imported"), over HTTP on both backends, from the demo's Siècle exports
//! (Julien Martin: one number, children in two establishments) with the fake SMS operator.

use std::collections::BTreeSet;

use crate::common::sms::SmsOperator;
use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::{Account, AccountState};
use educonnect::maintenance::deliver_once;

on_both_backends!(
    a_guardian_in_two_establishments_registers_once_with_all_children,
    an_unknown_number_gets_the_same_page_and_no_sms,
    a_wrong_code_tells_the_tries_left_then_a_new_code_is_needed,
    wrong_birth_dates_end_the_registration_after_three_tries,
    an_active_account_is_told_its_identifier_and_not_registered_again,
    a_disabled_account_is_treated_as_an_unknown_number,
    another_browser_cannot_answer_the_flow,
    a_replayed_password_step_shows_the_done_page_without_changing_the_password,
    a_number_past_its_sms_cap_gets_the_same_page_and_no_sms,
);

pub const NUMBER: &str = "06 39 98 01 03";
pub const E164: &str = "+33639980103";
const PASSWORD: &str = "Tournesol-Bleu-42";

pub fn demo_siecle() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle")
}

/// The value of the hidden input `name` in `page`.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

/// A browser (its own cookies) going through the registration pages.
pub struct Person {
    pub http: reqwest::Client,
    pub flow: String,
    pub csrf: String,
}

impl Person {
    pub fn new() -> Person {
        Person {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            flow: String::new(),
            csrf: String::new(),
        }
    }

    /// Opens the number form, sends `number`: the status and page.
    pub async fn start(&mut self, op: &TestOp, number: &str) -> (u16, String) {
        let form = self.http.get(op.url("/inscription")).send().await.unwrap();
        assert_eq!(form.status(), 200);
        assert_eq!(form.headers()["cache-control"], "no-store");
        let response = self
            .http
            .post(op.url("/inscription"))
            .form(&[("tx", ""), ("mobile", number)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let page = response.text().await.unwrap();
        if page.contains("name=\"flow\"") {
            self.flow = hidden(&page, "flow");
            self.csrf = hidden(&page, "csrf");
        }
        (status, page)
    }

    pub async fn answer(&self, op: &TestOp, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form = vec![("flow", self.flow.as_str()), ("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(op.url("/inscription/etape"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

async fn julien(op: &TestOp) -> Account {
    let found = op
        .app
        .durable
        .guardians_by_siecle_mobile("0639980103")
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "one person, one account: {found:?}");
    found.into_iter().next().unwrap()
}

async fn code_sent(op: &TestOp, operator: &SmsOperator) -> String {
    deliver_once(&op.app).await.unwrap();
    operator.last_code_sent_to(E164).expect("an SMS code")
}

async fn started(backend: Backend) -> (TestOp, SmsOperator) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| {
        operator.configure(c);
        c.selfservice.response_floor_ms = 50;
    })
    .await;
    op.import_siecle(&demo_siecle()).await;
    (op, operator)
}

/// Up to the birth-dates page.
async fn past_the_code(op: &TestOp, operator: &SmsOperator) -> (Person, String) {
    let mut person = Person::new();
    let (status, _) = person.start(op, NUMBER).await;
    assert_eq!(status, 200);
    let code = code_sent(op, operator).await;
    let (status, page) = person
        .answer(op, &[("action", "code"), ("code", &code)])
        .await;
    assert_eq!(status, 200, "{page}");
    (person, page)
}

async fn a_guardian_in_two_establishments_registers_once_with_all_children(backend: Backend) {
    let (op, operator) = started(backend).await;
    let account = julien(&op).await;
    let establishments: BTreeSet<String> = op
        .app
        .durable
        .affiliations(&account.id)
        .await
        .unwrap()
        .children
        .into_iter()
        .map(|c| c.enrolment.uai)
        .collect();
    assert_eq!(establishments.len(), 2, "children in both establishments");

    let (person, page) = past_the_code(&op, &operator).await;
    let dates = op.birth_dates(&account.id).await;
    assert_eq!(page.matches("type=\"date\"").count(), dates.len(), "{page}");
    let mut fields = vec![("action", "dates")];
    fields.extend(dates.iter().map(|d| ("date", d.as_str())));
    let (status, page) = person.answer(&op, &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Choisissez votre mot de passe"), "{page}");

    let (status, page) = person
        .answer(
            &op,
            &[
                ("action", "password"),
                ("password", "court"),
                ("confirm", "court"),
            ],
        )
        .await;
    assert_eq!(status, 400, "the policy's rule is named: {page}");
    let (status, page) = person
        .answer(
            &op,
            &[
                ("action", "password"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Votre compte est activé"), "{page}");
    assert!(page.contains(&account.login), "the identifier is shown");
    let now = op.app.durable.account(&account.id).await.unwrap().unwrap();
    assert_eq!(now.state, AccountState::Active);
    let checked = op
        .app
        .passwords
        .verify(
            &educonnect::secrets::Secret::from_presented(PASSWORD),
            now.password_hash.as_deref(),
        )
        .await
        .unwrap();
    assert!(checked.ok);
    assert_eq!(julien(&op).await.id, account.id, "still one account");
}

/// The page without its tokens.
pub fn without_tokens(page: &str, person: &Person) -> String {
    page.replace(&person.flow, "FLOW")
        .replace(&person.csrf, "CSRF")
}

async fn an_unknown_number_gets_the_same_page_and_no_sms(backend: Backend) {
    let (op, operator) = started(backend).await;
    let mut known = Person::new();
    let (known_status, known_page) = known.start(&op, NUMBER).await;
    // Same last digits, so the masked number shown is the same too.
    let mut unknown = Person::new();
    let (unknown_status, unknown_page) = unknown.start(&op, "07 11 11 01 03").await;
    assert_eq!(known_status, unknown_status);
    let shown = |p: &str, who: &Person| without_tokens(p, who).replace("07 ••", "06 ••");
    assert_eq!(shown(&known_page, &known), shown(&unknown_page, &unknown));
    deliver_once(&op.app).await.unwrap();
    assert_eq!(
        operator.received().len(),
        1,
        "only the known number gets an SMS"
    );
    let (status, page) = unknown
        .answer(&op, &[("action", "code"), ("code", "123456")])
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("Code incorrect"), "{page}");
    assert!(
        page.contains("demandez à son secrétariat de l&#x27;enregistrer")
            || page.contains("demandez à son secrétariat de l'enregistrer")
    );
}

async fn a_wrong_code_tells_the_tries_left_then_a_new_code_is_needed(backend: Backend) {
    // The code's own tries are tested here, not the subject's throttle (which counts them too).
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| {
        operator.configure(c);
        c.selfservice.response_floor_ms = 50;
        c.throttle.failures_per_account = 50;
    })
    .await;
    op.import_siecle(&demo_siecle()).await;
    let mut person = Person::new();
    person.start(&op, NUMBER).await;
    let code = code_sent(&op, &operator).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, page) = person
        .answer(&op, &[("action", "code"), ("code", wrong)])
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Code incorrect. Il vous reste 4 essais."),
        "{page}"
    );
    for _ in 0..3 {
        person
            .answer(&op, &[("action", "code"), ("code", wrong)])
            .await;
    }
    // Out of tries: the code is gone, a new one is needed.
    let (status, page) = person
        .answer(&op, &[("action", "code"), ("code", wrong)])
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("Demandez un nouveau code"), "{page}");
    let (_, page) = person
        .answer(&op, &[("action", "code"), ("code", &code)])
        .await;
    assert!(
        page.contains("Demandez un nouveau code"),
        "even the right one: {page}"
    );
    let (status, _) = person.answer(&op, &[("action", "resend")]).await;
    assert_eq!(status, 200);
    let fresh = code_sent(&op, &operator).await;
    let (status, page) = person
        .answer(&op, &[("action", "code"), ("code", &fresh)])
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("type=\"date\""));
}

async fn wrong_birth_dates_end_the_registration_after_three_tries(backend: Backend) {
    let (op, operator) = started(backend).await;
    let account = julien(&op).await;
    let (person, _) = past_the_code(&op, &operator).await;
    let count = op.birth_dates(&account.id).await.len();
    let mut fields = vec![("action", "dates")];
    fields.extend(std::iter::repeat_n(("date", "1990-01-01"), count));
    let (status, page) = person.answer(&op, &fields).await;
    assert_eq!(status, 400);
    assert!(page.contains("Il vous reste 2 essais"), "{page}");
    person.answer(&op, &fields).await;
    let (_, page) = person.answer(&op, &fields).await;
    assert!(
        page.contains("la création de compte est interrompue"),
        "{page}"
    );
    let (status, _) = person.answer(&op, &fields).await;
    assert_eq!(status, 400, "the flow is over");
    let now = op.app.durable.account(&account.id).await.unwrap().unwrap();
    assert_ne!(now.state, AccountState::Active);
}

async fn an_active_account_is_told_its_identifier_and_not_registered_again(backend: Backend) {
    let (op, operator) = started(backend).await;
    let account = julien(&op).await;
    op.activate(&account.id, PASSWORD).await;
    let (_, page) = past_the_code(&op, &operator).await;
    assert!(page.contains("Vous avez déjà un compte"), "{page}");
    assert!(page.contains(&account.login));
    assert!(page.contains("/mot-de-passe-oublie"));
    assert!(!page.contains("type=\"date\""));
}

async fn a_disabled_account_is_treated_as_an_unknown_number(backend: Backend) {
    let (op, operator) = started(backend).await;
    let account = julien(&op).await;
    op.app
        .durable
        .set_state(&account.id, AccountState::Disabled, op.app.now_ms())
        .await
        .unwrap();
    let mut person = Person::new();
    let (status, page) = person.start(&op, NUMBER).await;
    assert_eq!(status, 200);
    assert!(page.contains("Code reçu par SMS"));
    deliver_once(&op.app).await.unwrap();
    assert!(
        operator.received().is_empty(),
        "no SMS for a disabled account"
    );
}

async fn another_browser_cannot_answer_the_flow(backend: Backend) {
    let (op, operator) = started(backend).await;
    let mut person = Person::new();
    person.start(&op, NUMBER).await;
    let code = code_sent(&op, &operator).await;
    let mut other = Person::new();
    other.http.get(op.url("/inscription")).send().await.unwrap();
    other.flow = person.flow.clone();
    other.csrf = person.csrf.clone();
    let (status, page) = other
        .answer(&op, &[("action", "code"), ("code", &code)])
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("autre navigateur"), "{page}");
    // The code is still the owner's to use.
    let (status, _) = person
        .answer(&op, &[("action", "code"), ("code", &code)])
        .await;
    assert_eq!(status, 200);
}

async fn a_replayed_password_step_shows_the_done_page_without_changing_the_password(
    backend: Backend,
) {
    let (op, operator) = started(backend).await;
    let account = julien(&op).await;
    let (person, _) = past_the_code(&op, &operator).await;
    let dates = op.birth_dates(&account.id).await;
    let mut fields = vec![("action", "dates")];
    fields.extend(dates.iter().map(|d| ("date", d.as_str())));
    person.answer(&op, &fields).await;
    let set = [
        ("action", "password"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let (status, _) = person.answer(&op, &set).await;
    assert_eq!(status, 200);
    let hash = op
        .app
        .durable
        .account(&account.id)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    let other = "Autre-Mot-De-Passe-77";
    let (status, page) = person
        .answer(
            &op,
            &[
                ("action", "password"),
                ("password", other),
                ("confirm", other),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Votre compte est activé"), "{page}");
    let after = op
        .app
        .durable
        .account(&account.id)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert_eq!(hash, after, "a replay changes nothing");
}

async fn a_number_past_its_sms_cap_gets_the_same_page_and_no_sms(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| {
        operator.configure(c);
        c.selfservice.response_floor_ms = 50;
        c.sms.per_number_per_day = 1;
    })
    .await;
    op.import_siecle(&demo_siecle()).await;
    let mut first = Person::new();
    let (_, sent) = first.start(&op, NUMBER).await;
    let mut second = Person::new();
    let (status, capped) = second.start(&op, NUMBER).await;
    assert_eq!(status, 200);
    assert_eq!(
        without_tokens(&sent, &first),
        without_tokens(&capped, &second)
    );
    deliver_once(&op.app).await.unwrap();
    assert_eq!(operator.received().len(), 1, "the cap held");
}
