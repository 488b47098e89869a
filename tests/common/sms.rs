//! A fake SMS operator: a real HTTP server on loopback speaking the operator API the production
//! adapter (`outbox::sms_http`) speaks — `POST /2010-04-01/Accounts/{account}/Messages.json`, HTTP
//! Basic credentials (account, token), a form body `To` (E.164) / `From` / `Body`; `201` with the
//! operator's JSON (`sid`, `status: "queued"`) when accepted, and the operator's errors otherwise:
//! `401` (code 20003) for wrong credentials, `400` (code 21211) for a `To` that is not an E.164
//! number, `400` (code 21604) without a body. Failures can be injected (`fail_next`) to test the
//! outbox's retries.
//!
//! ```ignore
//! let operator = SmsOperator::start().await;
//! operator.configure(&mut config);                 // sms.url, account, token, sender
//! deliver_once(&op.app).await.unwrap();            // the outbox worker's pass
//! let code = operator.code_sent_to("+33639980103").await;
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine;
use serde::Deserialize;

pub const ACCOUNT: &str = "AC0123456789abcdef";
pub const TOKEN: &str = "fake-operator-token";
pub const SENDER: &str = "EduConnect";

/// One SMS as the operator received it.
#[derive(Clone, Debug)]
pub struct ReceivedSms {
    pub to: String,
    pub from: String,
    pub body: String,
    /// The client's reference (`X-Request-Id`: the outbox message's id).
    pub reference: Option<String>,
}

#[derive(Default)]
struct Inner {
    received: Vec<ReceivedSms>,
    /// Statuses to answer the next requests with, instead of accepting them.
    failures: Vec<u16>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Inner>>);

pub struct SmsOperator {
    pub base: String,
    shared: Shared,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

#[derive(Deserialize)]
struct MessageForm {
    #[serde(rename = "To", default)]
    to: String,
    #[serde(rename = "From", default)]
    from: String,
    #[serde(rename = "Body", default)]
    body: String,
}

fn operator_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

async fn messages(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<MessageForm>,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if account != ACCOUNT || !authorized {
        return operator_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let mut inner = shared.0.lock().unwrap();
    if !inner.failures.is_empty() {
        let status = inner.failures.remove(0);
        let status = StatusCode::from_u16(status).unwrap();
        return operator_error(status, 20500, "Injected failure");
    }
    let e164 = form.to.starts_with('+')
        && (8..=16).contains(&form.to.len())
        && form.to[1..].chars().all(|c| c.is_ascii_digit());
    if !e164 {
        return operator_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {} is not a valid phone number.", form.to),
        );
    }
    if form.body.is_empty() {
        return operator_error(StatusCode::BAD_REQUEST, 21604, "A 'Body' is required.");
    }
    let sid = format!("SM{:032x}", inner.received.len() + 1);
    inner.received.push(ReceivedSms {
        to: form.to.clone(),
        from: form.from.clone(),
        body: form.body.clone(),
        reference: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    let body = serde_json::json!({
        "sid": sid,
        "account_sid": ACCOUNT,
        "to": form.to,
        "from": form.from,
        "body": form.body,
        "status": "queued",
        "num_segments": "1",
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

impl SmsOperator {
    pub async fn start() -> SmsOperator {
        let shared = Shared::default();
        let router = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                post(messages),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/2010-04-01", listener.local_addr().unwrap());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        SmsOperator {
            base,
            shared,
            _shutdown: shutdown,
        }
    }

    /// Points the provider's configuration at this operator.
    pub fn configure(&self, config: &mut educonnect::config::Config) {
        config.sms.url = self.base.clone();
        config.sms.account = ACCOUNT.into();
        config.sms.token = Some(TOKEN.into());
        config.sms.sender = SENDER.into();
        config.sms.timeout_seconds = 5;
    }

    /// The next `count` requests are answered with `status` instead of being accepted.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut inner = self.shared.0.lock().unwrap();
        inner.failures.extend(std::iter::repeat_n(status, count));
    }

    /// Every SMS accepted so far, in order.
    pub fn received(&self) -> Vec<ReceivedSms> {
        self.shared.0.lock().unwrap().received.clone()
    }

    /// The SMS accepted for `to` (E.164), in order.
    pub fn sent_to(&self, to: &str) -> Vec<ReceivedSms> {
        self.received().into_iter().filter(|s| s.to == to).collect()
    }

    /// Waits (a few seconds at most) until `count` SMS in all were accepted.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedSms> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the operator received {} SMS, not {count}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The six-digit code of the last SMS accepted for `to` (E.164).
    pub fn last_code_sent_to(&self, to: &str) -> Option<String> {
        self.sent_to(to)
            .last()
            .and_then(|sms| six_digits(&sms.body))
    }
}

/// The first run of exactly six digits in `text`.
pub fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}
