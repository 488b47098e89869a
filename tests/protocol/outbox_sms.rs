//! The outbox's SMS delivery (issue #17): SMS queued within their caps are sent by the worker
//! through the production adapter to a faithful local fake operator (`common::sms`, a real HTTP
//! server speaking the operator's API), retried while the operator fails or refuses the
//! credentials, given up when it refuses the message for good; the demo page shows an SMS queued
//! without an operator.

use crate::common::sms::{SmsOperator, SENDER};
use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::app::AppState;
use educonnect::maintenance::deliver_once;
use educonnect::notify::sms::{self, Cap, SmsSender};
use educonnect::outbox::{Purpose, Sms, Status};
use educonnect::secrets::Secret;

on_both_backends!(
    a_queued_sms_reaches_the_operator_in_e164_with_the_sender_and_its_reference,
    an_operator_failure_is_retried_and_a_refused_number_fails_at_once,
    wrong_operator_credentials_keep_the_sms_pending_for_a_retry,
    the_caps_stop_the_sms_to_a_number_past_its_daily_count,
    without_an_operator_an_sms_stays_in_the_outbox_and_shows_on_the_demo_page,
);

fn sender(app: &AppState) -> SmsSender<'_> {
    SmsSender {
        outbox: &*app.durable,
        counters: &*app.ephemeral,
        kek: app.keys.kek(),
        clock: &*app.clock,
        config: &app.config.sms,
    }
}

async fn queue(app: &AppState, to: &str) -> String {
    let sms = sms::code(to, &Secret::from_presented("482913"), 10);
    match sender(app)
        .queue(&sms, Purpose::SmsCode, None, "192.0.2.1")
        .await
        .unwrap()
    {
        sms::Queued::Queued(id) => id,
        capped => panic!("{capped:?}"),
    }
}

async fn a_queued_sms_reaches_the_operator_in_e164_with_the_sender_and_its_reference(
    backend: Backend,
) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| operator.configure(c)).await;
    let id = queue(&op.app, "0639980103").await;
    let pass = deliver_once(&op.app).await.unwrap().unwrap();
    assert_eq!(pass.sent, 1);
    let received = operator.wait_for(1).await;
    assert_eq!(received[0].to, "+33639980103");
    assert_eq!(received[0].from, SENDER);
    assert!(received[0].body.contains("482913"), "{}", received[0].body);
    assert!(received[0].body.contains("valable 10 minutes"));
    assert_eq!(received[0].reference.as_deref(), Some(id.as_str()));
    let queued = op.app.durable.message(&id).await.unwrap().unwrap();
    assert_eq!(queued.status, Status::Sent);
    assert!(
        !queued.message.sealed_body.contains("482913"),
        "the code is sealed at rest"
    );
}

async fn an_operator_failure_is_retried_and_a_refused_number_fails_at_once(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| operator.configure(c)).await;
    operator.fail_next(1, 503);
    let id = queue(&op.app, "0639980103").await;
    let pass = deliver_once(&op.app).await.unwrap().unwrap();
    assert_eq!((pass.sent, pass.retried), (0, 1));
    let queued = op.app.durable.message(&id).await.unwrap().unwrap();
    assert_eq!(queued.status, Status::Pending);
    assert!(
        queued.last_error.as_deref().unwrap().contains("HTTP 503"),
        "{:?}",
        queued.last_error
    );
    op.clock.advance(std::time::Duration::from_secs(
        op.app.config.outbox.backoff_base_seconds,
    ));
    let pass = deliver_once(&op.app).await.unwrap().unwrap();
    assert_eq!(pass.sent, 1);
    assert_eq!(operator.received().len(), 1);

    // A number the operator refuses (not E.164 once written) is given up, not retried.
    let refused = queue(&op.app, "+3361").await;
    let pass = deliver_once(&op.app).await.unwrap().unwrap();
    assert_eq!(pass.failed, 1);
    let queued = op.app.durable.message(&refused).await.unwrap().unwrap();
    assert_eq!(queued.status, Status::Failed);
    assert!(queued.last_error.unwrap().contains("21211"));
}

async fn wrong_operator_credentials_keep_the_sms_pending_for_a_retry(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = TestOp::start_with(backend, |c| {
        operator.configure(c);
        c.sms.token = Some("a-rotated-token".into());
    })
    .await;
    let id = queue(&op.app, "0639980103").await;
    let pass = deliver_once(&op.app).await.unwrap().unwrap();
    assert_eq!(pass.retried, 1);
    let queued = op.app.durable.message(&id).await.unwrap().unwrap();
    assert_eq!(queued.status, Status::Pending);
    assert!(queued.last_error.unwrap().contains("HTTP 401"));
    assert!(operator.received().is_empty());
}

async fn the_caps_stop_the_sms_to_a_number_past_its_daily_count(backend: Backend) {
    let op = TestOp::start_with(backend, |c| c.sms.per_number_per_day = 2).await;
    let sender = sender(&op.app);
    let sms = Sms {
        to: "0639980103".into(),
        text: "x".into(),
    };
    for _ in 0..2 {
        let queued = sender.queue(&sms, Purpose::SmsCode, None, "a").await;
        assert!(matches!(queued.unwrap(), sms::Queued::Queued(_)));
    }
    let capped = sender.queue(&sms, Purpose::SmsCode, None, "a").await;
    assert_eq!(capped.unwrap(), sms::Queued::Capped(Cap::Number));
    op.clock.advance(std::time::Duration::from_secs(86_400));
    let next_day = sender.queue(&sms, Purpose::SmsCode, None, "a").await;
    assert!(matches!(next_day.unwrap(), sms::Queued::Queued(_)));
}

async fn without_an_operator_an_sms_stays_in_the_outbox_and_shows_on_the_demo_page(
    backend: Backend,
) {
    let op = TestOp::start_with(backend, |c| c.demo = Some(true)).await;
    let id = queue(&op.app, "0639980103").await;
    assert_eq!(deliver_once(&op.app).await.unwrap(), None);
    let page = reqwest::get(op.url("/demo/outbox"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("message-{id}")), "{page}");
    assert!(page.contains("Texte du SMS"));
    assert!(page.contains("482913"));
    assert!(
        page.contains("Aucun opérateur SMS n&#x27;est configuré")
            || page.contains("Aucun opérateur SMS n'est configuré")
    );
}
