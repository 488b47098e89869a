//! The outbox's delivery (issue #15, e-mail): messages queued are sent by the worker through a
//! real SMTP server process on loopback (`common::smtp`), retried with backoff while it is down
//! or answers 4xx, given up on a 5xx, sent once with two replicas delivering at the same time;
//! their status is visible through the administration API, and the demo shows them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::smtp::{SmtpDown, SmtpServer};
use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::app::AppState;
use educonnect::config::Config;
use educonnect::maintenance::deliver_once;
use educonnect::outbox::worker::Pass;
use educonnect::outbox::{Email, Outgoing, Purpose, Queued, Status};
use educonnect::secrets::{admin_token, digest};

on_both_backends!(
    a_queued_email_is_delivered_with_its_text_html_and_accents,
    a_message_queued_while_the_server_is_down_waits_then_goes,
    a_transient_refusal_is_retried_until_out_of_attempts,
    a_permanent_refusal_fails_the_message_at_once,
    two_workers_deliver_each_message_exactly_once,
    without_smtp_messages_stay_in_the_outbox,
    delivery_status_is_visible_through_the_admin_api_without_the_body,
    a_queued_message_shows_on_the_demo_outbox_page,
    settled_messages_are_purged_after_their_retention_and_pending_ones_kept,
);

const SENDER: &str = "ne-pas-repondre@educonnect.test";

fn with_smtp(config: &mut Config, url: String) {
    config.smtp.url = url;
    config.smtp.from_address = SENDER.into();
    config.smtp.from_name = "EduConnect – Académie de Lyon".into();
    config.smtp.timeout_seconds = 5;
}

/// An e-mail as the notifications write them: French, accents, a secret in the body.
fn email(to: &str, n: usize) -> Email {
    Email {
        to: to.into(),
        subject: format!("Votre compte ÉduConnect n°{n} : accès à l'ENT"),
        text: format!("Bonjour Léa,\nvotre mot de passe provisoire : kxq7-m4pz-{n:04}\nÀ bientôt."),
        html: format!(
            "<p>Bonjour Léa,</p><p>votre mot de passe provisoire : \
             <strong>kxq7-m4pz-{n:04}</strong></p><p>À bientôt.</p>"
        ),
    }
}

async fn queue(app: &AppState, email: &Email, account: Option<&str>) -> String {
    let message = Outgoing::email(
        app.keys.kek(),
        email,
        Purpose::Notification,
        account,
        app.now_ms(),
    )
    .unwrap();
    app.durable.enqueue(&message).await.unwrap();
    message.id
}

async fn status(app: &AppState, id: &str) -> Queued {
    app.durable.message(id).await.unwrap().expect("queued")
}

async fn pass(app: &AppState) -> Pass {
    deliver_once(app)
        .await
        .unwrap()
        .expect("an SMTP server is configured")
}

async fn a_queued_email_is_delivered_with_its_text_html_and_accents(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let op = TestOp::start_with(backend, |c| with_smtp(c, smtp.url())).await;
    let sent = email("claire.martin@example.org", 1);
    let id = queue(&op.app, &sent, Some("account-1")).await;
    assert_eq!(status(&op.app, &id).await.status, Status::Pending);

    let done = pass(&op.app).await;
    assert_eq!((done.sent, done.retried, done.failed), (1, 0, 0));
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.rcpt_tos, ["claire.martin@example.org"]);
    assert_eq!(mail.mail_from, SENDER);
    assert!(
        mail.from.contains("EduConnect – Académie de Lyon"),
        "{}",
        mail.from
    );
    // The subject travelled as RFC 2047 encoded words and decodes back intact.
    assert_eq!(mail.subject, sent.subject);
    assert!(
        mail.raw_subject.is_ascii() && mail.raw_subject.contains("=?utf-8?"),
        "{}",
        mail.raw_subject
    );
    assert!(mail.raw.is_ascii(), "the message is 7-bit clean");
    assert_eq!(mail.content_type, "multipart/alternative");
    // Lines travel as CRLF (RFC 5322 §2.3).
    let part = |p: &Option<String>| {
        p.as_deref()
            .map(|t| t.replace("\r\n", "\n").trim_end().to_owned())
    };
    assert_eq!(part(&mail.text).as_deref(), Some(sent.text.as_str()));
    assert_eq!(part(&mail.html).as_deref(), Some(sent.html.as_str()));
    assert!(mail.message_id.contains(&id), "{}", mail.message_id);

    let after = status(&op.app, &id).await;
    assert_eq!(after.status, Status::Sent);
    assert_eq!(after.attempts, 1);
    assert!(after.sent_at.is_some_and(|at| at <= op.app.now_ms()));
    // Sent once: the next pass finds nothing due.
    assert_eq!(pass(&op.app).await, Pass::default());
    assert_eq!(smtp.received().len(), 1);
}

async fn a_message_queued_while_the_server_is_down_waits_then_goes(backend: Backend) {
    let down = SmtpDown::hold().await;
    let op = TestOp::start_with(backend, |c| {
        with_smtp(c, down.url());
        c.outbox.backoff_base_seconds = 30;
    })
    .await;
    let id = queue(&op.app, &email("paul.durand@example.org", 2), None).await;

    let before = op.app.now_ms();
    let done = pass(&op.app).await;
    assert_eq!((done.sent, done.retried), (0, 1), "{done:?}");
    let waiting = status(&op.app, &id).await;
    assert_eq!(waiting.status, Status::Pending);
    assert_eq!(waiting.attempts, 1);
    let error = waiting.last_error.clone().expect("the failure is kept");
    assert!(!error.contains("kxq7"), "never the body: {error}");
    let retry_in = waiting.next_attempt_at - before;
    assert!(
        (30_000..35_000).contains(&retry_in),
        "next attempt {retry_in} ms later"
    );

    // The server comes up; the message is not due yet.
    let smtp = down.up().await;
    assert_eq!(pass(&op.app).await, Pass::default());
    assert!(smtp.received().is_empty());

    op.clock.advance(Duration::from_secs(31));
    assert_eq!(pass(&op.app).await.sent, 1);
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_tos, ["paul.durand@example.org"]);
    let sent = status(&op.app, &id).await;
    assert_eq!((sent.status, sent.attempts), (Status::Sent, 2));
}

async fn a_transient_refusal_is_retried_until_out_of_attempts(backend: Backend) {
    let smtp = SmtpServer::refusing("451 4.3.0 Try again later").await;
    let op = TestOp::start_with(backend, |c| {
        with_smtp(c, smtp.url());
        c.outbox.max_attempts = 3;
        c.outbox.backoff_base_seconds = 10;
        c.outbox.backoff_max_seconds = 15;
    })
    .await;
    let id = queue(&op.app, &email("refus.temporaire@example.org", 3), None).await;

    let mut pauses = Vec::new();
    for _ in 0..2 {
        let before = op.app.now_ms();
        assert_eq!(pass(&op.app).await.retried, 1);
        let waiting = status(&op.app, &id).await;
        assert_eq!(waiting.status, Status::Pending);
        assert!(
            waiting.last_error.as_deref().unwrap().contains("451"),
            "{waiting:?}"
        );
        pauses.push((waiting.next_attempt_at - before) / 1000);
        op.clock.advance(Duration::from_secs(16));
    }
    // 10 s, then doubled but capped at 15 s.
    assert!(matches!(pauses.as_slice(), [10, 15]), "{pauses:?}");
    assert_eq!(pass(&op.app).await.failed, 1);
    let failed = status(&op.app, &id).await;
    assert_eq!((failed.status, failed.attempts), (Status::Failed, 3));
    assert!(failed.last_error.unwrap().contains("3 tentatives"));
    op.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        pass(&op.app).await,
        Pass::default(),
        "a failed message is not tried again"
    );
}

async fn a_permanent_refusal_fails_the_message_at_once(backend: Backend) {
    let smtp = SmtpServer::refusing("550 5.1.1 Mailbox unknown").await;
    let op = TestOp::start_with(backend, |c| with_smtp(c, smtp.url())).await;
    let id = queue(&op.app, &email("inconnu@example.org", 4), None).await;

    assert_eq!(pass(&op.app).await.failed, 1);
    let failed = status(&op.app, &id).await;
    assert_eq!((failed.status, failed.attempts), (Status::Failed, 1));
    let error = failed.last_error.unwrap();
    assert!(
        error.contains("550") && error.contains("Mailbox unknown"),
        "{error}"
    );
    assert!(smtp.received().is_empty());
}

/// Two replicas (PostgreSQL: two `App`s on one schema; SQLite, one process: two workers of
/// one store) run passes at the same time until the outbox is empty.
async fn two_workers_deliver_each_message_exactly_once(backend: Backend) {
    const N: usize = 24;
    let smtp = SmtpServer::start().await;
    let op = TestOp::start_with(backend, |c| {
        with_smtp(c, smtp.url());
        c.outbox.batch_size = 4;
    })
    .await;
    let replica = op.replica().await;
    let other = match backend {
        Backend::Production => replica.app.clone(),
        Backend::Embedded => op.app.clone(),
    };
    let mut ids = Vec::new();
    for n in 0..N {
        ids.push(queue(&op.app, &email(&format!("parent{n}@example.org"), n), None).await);
    }
    let run = |app: AppState| async move {
        let mut total = Pass::default();
        loop {
            let done = pass(&app).await;
            total.sent += done.sent;
            total.skipped |= done.skipped;
            if !done.skipped && done.sent == 0 {
                return total;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let (a, b) = tokio::join!(run(op.app.clone()), run(other));
    assert_eq!(a.sent + b.sent, N as u64, "{a:?} {b:?}");
    assert!(
        a.skipped || b.skipped,
        "the two workers met the lock: {a:?} {b:?}"
    );

    let received = smtp.received();
    assert_eq!(received.len(), N, "each message once");
    let mut recipients: Vec<&str> = received.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), N);
    for id in &ids {
        let sent = status(&op.app, id).await;
        assert_eq!((sent.status, sent.attempts), (Status::Sent, 1));
        assert_eq!(
            received
                .iter()
                .filter(|m| m.message_id.contains(id.as_str()))
                .count(),
            1
        );
    }
}

async fn without_smtp_messages_stay_in_the_outbox(backend: Backend) {
    let op = TestOp::start(backend).await;
    let id = queue(&op.app, &email("sans.serveur@example.org", 5), None).await;
    assert_eq!(deliver_once(&op.app).await.unwrap(), None);
    let waiting = status(&op.app, &id).await;
    assert_eq!((waiting.status, waiting.attempts), (Status::Pending, 0));
    assert_eq!(op.app.durable.pending_messages().await.unwrap(), 1);
}

async fn delivery_status_is_visible_through_the_admin_api_without_the_body(backend: Backend) {
    let smtp = SmtpServer::refusing("550 5.7.1 Refused by policy").await;
    let token = admin_token();
    let token_digest = digest(token.as_bytes());
    let op = TestOp::start_with(backend, |c| {
        with_smtp(c, smtp.url());
        c.admin.token_digests = vec![token_digest];
    })
    .await;
    let first = queue(
        &op.app,
        &email("lea.martin@example.org", 6),
        Some("acc-lea"),
    )
    .await;
    pass(&op.app).await;
    op.clock.advance(Duration::from_secs(1));
    let second = queue(
        &op.app,
        &email("lea.martin@example.org", 7),
        Some("acc-lea"),
    )
    .await;
    queue(&op.app, &email("autre@example.org", 8), Some("acc-other")).await;

    let get = |path: String| {
        let request = reqwest::Client::new()
            .get(op.url(&path))
            .bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(!text.contains("kxq7"), "never the body: {text}");
            (status, serde_json::from_str::<Value>(&text).unwrap())
        }
    };
    let (code, shown) = get(format!("/admin/outbox/{first}")).await;
    assert_eq!(code, StatusCode::OK, "{shown}");
    assert_eq!(shown["id"], first.as_str());
    assert_eq!(shown["channel"], "email");
    assert_eq!(shown["recipient"], "lea.martin@example.org");
    assert_eq!(
        shown["subject"],
        "Votre compte ÉduConnect n°6 : accès à l'ENT"
    );
    assert_eq!(shown["purpose"], "notification");
    assert_eq!(shown["status"], "failed");
    assert_eq!(shown["attempts"], 1);
    assert!(shown["last_error"]
        .as_str()
        .unwrap()
        .contains("Refused by policy"));
    assert!(shown["created_at"].is_i64());
    assert!(shown["sent_at"].is_null() && shown["next_attempt_at"].is_null());

    let (code, list) = get("/admin/accounts/acc-lea/messages".into()).await;
    assert_eq!(code, StatusCode::OK);
    let listed: Vec<&str> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [second.as_str(), first.as_str()], "newest first");
    assert_eq!(list["messages"][0]["status"], "pending");
    assert!(list["messages"][0]["next_attempt_at"].is_i64());

    let (code, missing) = get("/admin/outbox/nothing-here".into()).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"], "not_found");
    let anonymous = reqwest::get(op.url(&format!("/admin/outbox/{first}")))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn a_queued_message_shows_on_the_demo_outbox_page(backend: Backend) {
    let op = crate::demo::demo_op(backend).await;
    let shown = Email {
        html: "<p>Bonjour Léa <img src=\"https://tracker.example/pixel.png\" alt=\"\"></p>".into(),
        ..email("lea.demo@example.org", 9)
    };
    let id = queue(&op.app, &shown, None).await;

    let home = reqwest::get(op.url("/demo"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("href=\"/demo/outbox\""),
        "linked from the demo home page"
    );
    let page = reqwest::get(op.url("/demo/outbox")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("id=\"message-{id}\"")));
    assert!(page.contains("lea.demo@example.org"));
    assert!(
        page.contains("Votre compte ÉduConnect n°9 : accès à l"),
        "{page}"
    );
    assert!(page.contains("Notification du compte"));
    assert!(page.contains("En attente d"));
    assert!(
        page.contains("votre mot de passe provisoire : kxq7-m4pz-0009"),
        "the text opened"
    );
    assert!(
        !page.contains("tracker.example"),
        "the HTML is not inlined in the page"
    );

    let html = reqwest::get(op.url(&format!("/demo/outbox/{id}/html")))
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let csp = html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("sandbox;") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("allow-scripts"));
    assert_eq!(html.text().await.unwrap(), shown.html);
    let unknown = reqwest::get(op.url("/demo/outbox/nothing-here/html"))
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn settled_messages_are_purged_after_their_retention_and_pending_ones_kept(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let op = TestOp::start_with(backend, |c| with_smtp(c, smtp.url())).await;
    let sent = queue(&op.app, &email("a@example.org", 1), None).await;
    pass(&op.app).await;
    assert_eq!(status(&op.app, &sent).await.status, Status::Sent);
    op.clock
        .advance(educonnect::maintenance::KEEP_SETTLED_MESSAGES - Duration::from_secs(60));
    let pending = queue(&op.app, &email("b@example.org", 2), None).await;
    educonnect::maintenance::purge_once(&op.app).await.unwrap();
    assert!(
        op.app.durable.message(&sent).await.unwrap().is_some(),
        "kept its retention"
    );
    op.clock.advance(Duration::from_secs(120));
    educonnect::maintenance::purge_once(&op.app).await.unwrap();
    assert!(
        op.app.durable.message(&sent).await.unwrap().is_none(),
        "purged"
    );
    // Pending, however old: never purged (it has not been sent).
    op.clock
        .advance(educonnect::maintenance::KEEP_SETTLED_MESSAGES * 2);
    educonnect::maintenance::purge_once(&op.app).await.unwrap();
    assert_eq!(status(&op.app, &pending).await.status, Status::Pending);
}
