//! The audit trail of account security events (issue #16): every attempt at the login page,
//! on the account when the login names one and under a keyed pseudonym when it names none,
//! never with what was typed; the notification of each account; the purge after
//! `backoffice.audit_retention_days`.

use std::time::Duration;

use crate::common::browser::Step;
use crate::common::Backend;
use crate::fixture::{Fixture, LOGIN, PASSWORD};
use crate::on_both_backends;
use educonnect::accounts::Profile;
use educonnect::audit::{Action, Event, Outcome};
use educonnect::establishments::{ActivePasswords, Carrier, Selection};
use educonnect::store::AuditQuery;

on_both_backends!(
    a_wrong_then_a_right_password_are_recorded_on_the_account,
    an_unknown_login_is_recorded_under_a_pseudonym_never_as_typed,
    a_throttled_attempt_is_recorded_as_failed,
    each_account_notified_is_recorded_with_its_carrier_and_establishment,
    the_purge_deletes_audit_events_past_their_retention_only,
);

const WRONG: &str = "Wrong-Guess-42";

/// Submits the login page once with these credentials; returns where it led.
async fn attempt(f: &Fixture, login: &str, password: &str) -> Step {
    let pending = f.request(&[], &[("prompt", "login")]);
    let page = f.browser.get(f.issuer(), pending.url.as_str()).await;
    f.browser
        .submit_login(f.issuer(), page, login, password)
        .await
}

async fn events(f: &Fixture, subject: Option<String>) -> Vec<Event> {
    let query = AuditQuery {
        subject,
        limit: 100,
        ..AuditQuery::default()
    };
    f.op.app.durable.events(&query).await.unwrap()
}

fn sign_ins(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter(|e| e.action == Action::AccountSignIn.as_str())
        .collect()
}

/// Nothing of what was typed is anywhere in the event.
fn holds_nothing_typed(event: &Event, typed: &[&str]) {
    let text = format!("{event:?}").to_lowercase();
    for typed in typed {
        assert!(
            !text.contains(&typed.to_lowercase()),
            "{typed} in {event:?}"
        );
    }
}

async fn a_wrong_then_a_right_password_are_recorded_on_the_account(backend: Backend) {
    let f = Fixture::new(backend).await;
    let start = f.op.app.now_ms();
    let refused = attempt(&f, LOGIN, WRONG).await;
    assert!(matches!(refused, Step::Page { .. }), "shown again");
    f.op.clock.advance(Duration::from_secs(1));
    // The page shown again takes the right password in the same transaction.
    let back = f
        .browser
        .submit_login(f.issuer(), refused, LOGIN, PASSWORD)
        .await;
    assert!(matches!(back, Step::Left(_)), "logged in");
    let subject = format!("account:{}", f.sub);
    let recorded = sign_ins(events(&f, Some(subject.clone())).await);
    let summary: Vec<(&str, &str, Option<&str>)> = recorded
        .iter()
        .map(|e| (e.actor.as_str(), e.outcome.as_str(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (subject.as_str(), Outcome::Ok.as_str(), None),
            (
                subject.as_str(),
                Outcome::Failed.as_str(),
                Some("wrong_password")
            ),
        ],
        "newest first"
    );
    for event in &recorded {
        assert_eq!(event.address.as_deref(), Some("127.0.0.1"));
        holds_nothing_typed(event, &[WRONG, PASSWORD]);
    }
    // The account's last sign-in is the successful one, not the failure.
    let last =
        f.op.app
            .durable
            .last_event(&subject, Action::AccountSignIn.as_str())
            .await
            .unwrap();
    assert_eq!(last, Some(recorded[0].at));
    assert!(recorded[0].at >= start + 1000);
}

async fn an_unknown_login_is_recorded_under_a_pseudonym_never_as_typed(backend: Backend) {
    let f = Fixture::new(backend).await;
    // A password typed in the login field by mistake: a valid login once lower-cased.
    let typed_login = "Mon-Secret-2026";
    attempt(&f, typed_login, WRONG).await;
    attempt(&f, typed_login, "Another-Try-7").await;
    attempt(&f, "n.importe99", WRONG).await;
    let unknown: Vec<Event> = sign_ins(events(&f, None).await)
        .into_iter()
        .filter(|e| e.subject.is_none())
        .collect();
    assert_eq!(unknown.len(), 3, "{unknown:?}");
    for event in &unknown {
        assert_eq!(event.outcome, Outcome::Failed.as_str());
        assert_eq!(event.detail.as_deref(), Some("unknown_login"));
        assert!(event.actor.starts_with("login:"), "{}", event.actor);
        assert_eq!(event.actor.len(), "login:".len() + 12);
        holds_nothing_typed(event, &[typed_login, "n.importe99", WRONG, "Another-Try-7"]);
    }
    // The attempts on one login read together; another login is another pseudonym.
    let mut actors: Vec<&str> = unknown.iter().map(|e| e.actor.as_str()).collect();
    actors.sort_unstable();
    actors.dedup();
    assert_eq!(actors.len(), 2, "{actors:?}");
    // And nothing was recorded on the fixture's account.
    assert!(sign_ins(events(&f, Some(format!("account:{}", f.sub))).await).is_empty());
}

async fn a_throttled_attempt_is_recorded_as_failed(backend: Backend) {
    let f = Fixture::with(backend, |c| c.throttle.failures_per_account = 1).await;
    attempt(&f, LOGIN, WRONG).await;
    // Past the limit: refused before the account is even looked up.
    attempt(&f, LOGIN, PASSWORD).await;
    let recorded = sign_ins(events(&f, None).await);
    let throttled: Vec<&Event> = recorded
        .iter()
        .filter(|e| e.detail.as_deref() == Some("throttled"))
        .collect();
    assert_eq!(throttled.len(), 1, "{recorded:?}");
    assert_eq!(throttled[0].outcome, Outcome::Failed.as_str());
    assert!(throttled[0].actor.starts_with("login:"));
    holds_nothing_typed(throttled[0], &[LOGIN, PASSWORD]);
    let on_account = sign_ins(events(&f, Some(format!("account:{}", f.sub))).await);
    assert_eq!(on_account.len(), 1, "the wrong password, on the account");
    // No successful sign-in to report.
    let last =
        f.op.app
            .durable
            .last_event(
                &format!("account:{}", f.sub),
                Action::AccountSignIn.as_str(),
            )
            .await
            .unwrap();
    assert_eq!(last, None);
}

async fn each_account_notified_is_recorded_with_its_carrier_and_establishment(backend: Backend) {
    let op = crate::demo::demo_op(backend).await;
    let request = crate::notify::request(
        crate::demo::COLLEGE,
        Profile::Pupil,
        Selection::Class("5B".into()),
        ActivePasswords::Keep,
    );
    let notification = crate::notify::notify_with(
        &op,
        &crate::notify::national(),
        &request,
        Carrier::Letters,
        None,
    )
    .await
    .unwrap();
    assert!(!notification.notified.is_empty());
    let query = AuditQuery {
        uai: Some(crate::demo::COLLEGE.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    let recorded: Vec<Event> = op
        .app
        .durable
        .events(&query)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::AccountNotified.as_str())
        .collect();
    let mut subjects: Vec<String> = recorded.iter().filter_map(|e| e.subject.clone()).collect();
    subjects.sort();
    let mut expected: Vec<String> = notification
        .notified
        .iter()
        .map(|n| format!("account:{}", n.target.account.id))
        .collect();
    expected.sort();
    assert_eq!(subjects, expected, "one event per account notified");
    let passwords: Vec<String> = notification
        .notified
        .iter()
        .map(|n| n.password.as_ref().unwrap().shown().expose().to_owned())
        .collect();
    let passwords: Vec<&str> = passwords.iter().map(String::as_str).collect();
    for event in &recorded {
        assert_eq!(event.actor, "test");
        assert_eq!(event.detail.as_deref(), Some("letter temporary_password"));
        holds_nothing_typed(event, &passwords);
    }
}

async fn the_purge_deletes_audit_events_past_their_retention_only(backend: Backend) {
    let f = Fixture::with(backend, |c| c.backoffice.audit_retention_days = 30).await;
    let store = &f.op.app.durable;
    let now = f.op.app.now_ms();
    let old = Event::new("cli", Action::StaffCreated, Outcome::Ok, now);
    let recent = Event::new(
        "cli",
        Action::StaffCreated,
        Outcome::Ok,
        now + 20 * 86_400_000,
    );
    store.record_event(&old).await.unwrap();
    store.record_event(&recent).await.unwrap();
    let first = educonnect::maintenance::purge_once(&f.op.app)
        .await
        .unwrap();
    assert_eq!(first.audit_events, 0, "nothing is past 30 days yet");
    // 31 days on: the first event is past the retention, the second 11 days old.
    f.op.clock.advance(Duration::from_secs(31 * 86_400));
    let purged = educonnect::maintenance::purge_once(&f.op.app)
        .await
        .unwrap();
    assert_eq!(purged.audit_events, 1, "{purged:?}");
    let left: Vec<String> = events(&f, None).await.into_iter().map(|e| e.id).collect();
    assert!(
        left.contains(&recent.id) && !left.contains(&old.id),
        "{left:?}"
    );
}
