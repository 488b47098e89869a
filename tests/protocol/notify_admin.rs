//! Notifying and the identifiers file through the administration API (issue #15): the letters
//! answered as a PDF, the e-mails as the list of queued messages with the accounts left
//! without an address, a dry run that writes nothing, what notifying guardians in bulk implies,
//! and every mistake in the body a precise 400 in the API's error shape. On both backends.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{Backend, TestOp};
use crate::demo::{COLLEGE, LYCEE};
use crate::identifiers::{parse_csv, pdf_text};
use crate::on_both_backends;
use educonnect::demo::seed;
use educonnect::secrets::{admin_token, digest};

on_both_backends!(
    the_api_answers_the_letters_as_a_pdf,
    the_api_queues_emails_and_names_the_accounts_without_an_address,
    a_dry_run_says_what_it_implies_and_writes_nothing,
    a_wrong_notification_body_is_a_precise_400,
    the_api_serves_the_identifiers_file_once_per_account,
);

/// The demo provider with an administration token.
async fn admin_demo(backend: Backend) -> (TestOp, String) {
    let token = admin_token();
    let token_digest = digest(token.as_bytes());
    let op = TestOp::start_with(backend, |config| {
        config.demo = Some(true);
        config.admin.token_digests = vec![token_digest];
    })
    .await;
    seed(&op.app).await.expect("demo seed");
    (op, token)
}

async fn post(op: &TestOp, token: &str, uai: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(op.url(&format!("/admin/establishments/{uai}/notifications")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn the_api_answers_the_letters_as_a_pdf(backend: Backend) {
    let (op, token) = admin_demo(backend).await;
    let response = post(
        &op,
        &token,
        COLLEGE,
        json!({"profile": "pupil", "class": "5B", "carrier": "pdf"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "application/pdf");
    assert!(header("content-disposition").contains(&format!("courriers-{COLLEGE}.pdf")));
    assert_eq!(header("cache-control"), "no-store");
    let id = header("x-notification-id");
    let pdf = response.bytes().await.unwrap();
    let (text, pages) = pdf_text(&pdf);
    let records = op.app.durable.notifications(COLLEGE).await.unwrap();
    assert_eq!(records[0].id, id);
    assert_eq!(
        pages,
        records[0].account_ids.len(),
        "one page per pupil of 5B"
    );
    assert_eq!(pages, 2);
    for account_id in &records[0].account_ids {
        let account = op.app.durable.account(account_id).await.unwrap().unwrap();
        assert!(text.contains(&account.login), "{}", account.login);
    }
    assert_eq!(text.matches("Mot de passe provisoire").count(), 2);
}

async fn the_api_queues_emails_and_names_the_accounts_without_an_address(backend: Backend) {
    let (op, token) = admin_demo(backend).await;
    let response = post(
        &op,
        &token,
        COLLEGE,
        json!({"profile": "guardian", "carrier": "email"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let queued = body["queued"].as_array().unwrap();
    assert!(!queued.is_empty(), "{body}");
    for q in queued {
        let stored = op
            .app
            .durable
            .message(q["id"].as_str().unwrap())
            .await
            .unwrap()
            .expect("in the outbox");
        assert_eq!(json!(stored.message.recipient), q["recipient"]);
        assert_eq!(q["status"], "pending");
    }
    let left = &body["without_address"];
    assert!(left["count"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(
        left["logins"].as_array().unwrap().len() as u64,
        left["count"].as_u64().unwrap()
    );
    assert!(left["message"].as_str().unwrap().contains("par courrier"));
    let bulk = &body["bulk_guardians"];
    assert_eq!(bulk["reset"], false);
    assert!(
        bulk["message"].as_str().unwrap().contains("responsables"),
        "{bulk}"
    );
    assert_eq!(body["carrier"], "email");
}

async fn a_dry_run_says_what_it_implies_and_writes_nothing(backend: Backend) {
    let (op, token) = admin_demo(backend).await;
    let response = post(
        &op,
        &token,
        LYCEE,
        json!({"profile": "guardian", "level": "2nde", "reset_password": true,
               "carrier": "pdf", "dry_run": true}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["dry_run"], true);
    assert!(
        body["logins"]
            .as_array()
            .unwrap()
            .contains(&json!("c.martin02")),
        "{body}"
    );
    assert_eq!(body["bulk_guardians"]["reset"], true);
    assert!(
        body["bulk_guardians"]["in_several_establishments"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(op
        .app
        .durable
        .notifications(LYCEE)
        .await
        .unwrap()
        .is_empty());
    assert!(op.app.durable.recent_messages(10).await.unwrap().is_empty());
    let claire = op
        .app
        .durable
        .account_by_login("c.martin02")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claire.state, educonnect::accounts::AccountState::Active);
}

async fn a_wrong_notification_body_is_a_precise_400(backend: Backend) {
    let (op, token) = admin_demo(backend).await;
    let cases = [
        (json!({"profile": "teacher", "carrier": "pdf"}), "teacher"),
        (
            json!({"profile": "pupil", "carrier": "fax"}),
            "carrier « fax »",
        ),
        (
            json!({"profile": "pupil", "class": "5B", "level": "5E", "carrier": "pdf"}),
            "s'excluent",
        ),
        (
            json!({"profile": "pupil", "level": "7E", "carrier": "pdf"}),
            "niveau « 7E » inconnu",
        ),
        (
            json!({"profile": "pupil", "logins": [], "carrier": "pdf"}),
            "logins vide",
        ),
        (
            json!({"profile": "pupil", "clas": "5B", "carrier": "pdf"}),
            "clas",
        ),
        (json!({"profile": "pupil"}), "carrier"),
    ];
    for (body, expected) in cases {
        let response = post(&op, &token, COLLEGE, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_request", "{body}");
        let description = answer["error_description"].as_str().unwrap();
        assert!(description.contains(expected), "{body}: {description}");
    }
    let bad_uai = post(
        &op,
        &token,
        "0699990X",
        json!({"profile": "pupil", "carrier": "pdf"}),
    )
    .await;
    assert_eq!(bad_uai.status(), StatusCode::BAD_REQUEST);
    let stranger = post(
        &op,
        &token,
        COLLEGE,
        json!({"profile": "pupil", "logins": ["x.nobody01"], "carrier": "pdf"}),
    )
    .await;
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    assert!(op
        .app
        .durable
        .notifications(COLLEGE)
        .await
        .unwrap()
        .is_empty());
}

async fn the_api_serves_the_identifiers_file_once_per_account(backend: Backend) {
    let (op, token) = admin_demo(backend).await;
    let get = |path: String| {
        let request = reqwest::Client::new()
            .get(op.url(&path))
            .bearer_auth(&token);
        async move { request.send().await.unwrap() }
    };
    let csv = get(format!("/admin/establishments/{COLLEGE}/identifiers.csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = parse_csv(&csv.text().await.unwrap());
    assert!(
        rows.len() > 5,
        "the collège's pupils and guardians: {rows:?}"
    );
    assert!(rows.iter().any(|r| r[0] == "c.martin02"));
    let pdf = get(format!("/admin/establishments/{COLLEGE}/identifiers.pdf")).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let (text, _) = pdf_text(&pdf.bytes().await.unwrap());
    assert!(
        text.contains("Aucun nouvel identifiant"),
        "already listed by the CSV"
    );
    let unknown = get("/admin/establishments/0750001U/identifiers.csv".into()).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
