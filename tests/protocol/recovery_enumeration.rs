//! No enumeration (issue #17): for an existing and an unknown identifier, address or number, the
//! answers of « Mot de passe oublié ? » and « Identifiant oublié ? » are byte-identical once
//! their tokens (procedure id, CSRF token) are taken out, and their median times are within 5 %
//! of each other (measured here over 15 requests each, interleaved, behind a 150 ms floor).

use std::time::{Duration, Instant};

use crate::common::browser::{Browser, Step};
use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use crate::recovery::{ask, body, outbox, remind, status};
use educonnect::accounts::Profile;
use educonnect::config::Config;

on_both_backends!(
    password_answers_do_not_tell_an_existing_identifier_from_an_unknown_one,
    identifier_answers_do_not_tell_an_existing_address_or_number_from_an_unknown_one,
);

const ROUNDS: usize = 15;

fn measured(config: &mut Config) {
    config.selfservice.response_floor_ms = 150;
    config.selfservice.starts_per_address_per_minute = 10_000;
    // Every request of an existing account really sends: no cap makes its work lighter.
    config.codes.sends_per_hour = 1_000;
    config.sms.per_number_per_day = 1_000;
}

/// The page with the values of its tokens replaced.
fn without_tokens(page: &str) -> String {
    let mut page = page.to_owned();
    for name in ["flow", "csrf", "tx"] {
        let marker = format!("name=\"{name}\" value=\"");
        let mut from = 0;
        while let Some(at) = page[from..].find(&marker) {
            let start = from + at + marker.len();
            let end = start + page[start..].find('"').expect("closing quote");
            page.replace_range(start..end, "…");
            from = start;
        }
    }
    page
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `existing` and `unknown` alternately; checks the answers alike and the medians close.
async fn alike<F, Fut>(what: &str, mut request: F)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = (Step, Duration)>,
{
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (known, known_took) = request(true).await;
        let (unknown, unknown_took) = request(false).await;
        assert_eq!(status(&known), status(&unknown), "{what}");
        let (known, unknown) = (without_tokens(body(&known)), without_tokens(body(&unknown)));
        assert_eq!(known, unknown, "{what}: the answers differ");
        known_times.push(known_took);
        unknown_times.push(unknown_took);
    }
    let (known, unknown) = (median(known_times), median(unknown_times));
    let gap = known.abs_diff(unknown).as_secs_f64() / known.max(unknown).as_secs_f64();
    assert!(
        gap < 0.05,
        "{what}: median {known:?} for an existing one, {unknown:?} for an unknown one"
    );
}

async fn timed(step: impl std::future::Future<Output = Step>) -> (Step, Duration) {
    let started = Instant::now();
    let step = step.await;
    (step, started.elapsed())
}

async fn password_answers_do_not_tell_an_existing_identifier_from_an_unknown_one(backend: Backend) {
    let op = TestOp::start_with(backend, measured).await;
    let pupil = op
        .account("l.martin01", "Correct-Horse-9", Profile::Pupil)
        .await;
    let parent = op
        .account("c.martin02", "Correct-Horse-9", Profile::Guardian)
        .await;
    let now = op.app.now_ms();
    op.app
        .durable
        .set_verified_email(&pupil.id, "lea@example.org", now)
        .await
        .unwrap();
    op.app
        .durable
        .set_verified_phone(&parent.id, "0639980110", now)
        .await
        .unwrap();
    let browser = Browser::new();
    for (channel, login) in [("email", "l.martin01"), ("sms", "c.martin02")] {
        alike(&format!("password by {channel}"), |existing| {
            let login = if existing { login } else { "x.inconnu99" };
            let (op, browser) = (&op, &browser);
            async move { timed(ask(op, browser, login, channel)).await }
        })
        .await;
    }
    // The existing accounts were really sent something each time.
    assert_eq!(outbox(&op).await.len(), 2 * ROUNDS);
}

async fn identifier_answers_do_not_tell_an_existing_address_or_number_from_an_unknown_one(
    backend: Backend,
) {
    let op = TestOp::start_with(backend, measured).await;
    let parent = op
        .account("c.martin02", "Correct-Horse-9", Profile::Guardian)
        .await;
    let now = op.app.now_ms();
    op.app
        .durable
        .set_verified_email(&parent.id, "claire@example.org", now)
        .await
        .unwrap();
    op.app
        .durable
        .set_verified_phone(&parent.id, "0639980111", now)
        .await
        .unwrap();
    let browser = Browser::new();
    for (what, known, unknown) in [
        ("address", "claire@example.org", "personne@example.org"),
        ("number", "06 39 98 01 11", "06 39 98 01 99"),
    ] {
        alike(&format!("identifier by {what}"), |existing| {
            let contact = if existing { known } else { unknown };
            let (op, browser) = (&op, &browser);
            async move { timed(remind(op, browser, contact)).await }
        })
        .await;
    }
    assert_eq!(outbox(&op).await.len(), 2 * ROUNDS);
}
