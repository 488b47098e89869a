//! Notifying by e-mail (issue #15): the letter's content queued in the outbox for the accounts
//! that have an address, each message written in the same transaction as the temporary
//! password it carries; accounts without an address reported, untouched. On both backends, the
//! messages opened with the provider's key-encryption key as the outbox worker will.

use crate::common::{Backend, TestOp};
use crate::demo::{demo_op as demo, COLLEGE, LYCEE};
use crate::notify::{national, notify_with, request};
use crate::on_both_backends;
use crate::temporary_passwords::checked as check;
use educonnect::accounts::temporary::TemporaryPassword;
use educonnect::accounts::{AccountState, Profile};
use educonnect::demo::DEMO_ACCOUNTS;
use educonnect::establishments::model::{CarrierKind, NotificationTarget};
use educonnect::establishments::{ActivePasswords, Carrier, Compose, Selection};
use educonnect::notify::email::Composer;
use educonnect::notify::from_notified::Context;
use educonnect::notify::letters::EstablishmentHeading;
use educonnect::outbox::{Email, Outgoing, Status};
use educonnect::siecle::{Date, Uai};

on_both_backends!(
    an_active_account_notified_by_email_keeps_or_resets_its_password,
    the_email_and_its_password_are_written_together_or_not_at_all,
    accounts_without_an_address_are_reported_and_left_untouched,
);

const LEA_EMAIL: &str = "lea.martin@demo.invalid";

pub(crate) fn composer<'a>(op: &'a TestOp, uai: &str) -> Composer<'a> {
    let day = Date::from_epoch_ms(op.app.now_ms());
    Composer {
        kek: op.app.keys.kek(),
        context: Context {
            establishment: EstablishmentHeading {
                name: "Lycée de démonstration".into(),
                uai: Uai::parse(uai).unwrap(),
            },
            service_url: op.issuer.clone(),
            issued_on: day,
            valid_until: day,
        },
    }
}

/// The e-mail as the worker will send it: read back from the outbox, opened with the KEK.
async fn opened(op: &TestOp, id: &str) -> (Email, Status) {
    let queued = op.app.durable.message(id).await.unwrap().expect("queued");
    (
        queued.message.open_email(op.app.keys.kek()).unwrap(),
        queued.status,
    )
}

/// The temporary password as the e-mail prints it.
fn printed_password(email: &Email) -> Option<String> {
    email
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Mot de passe provisoire : "))
        .map(str::to_owned)
}

async fn an_active_account_notified_by_email_keeps_or_resets_its_password(backend: Backend) {
    let op = demo(backend).await;
    let (login, password, ..) = DEMO_ACCOUNTS[0];
    let lea = op
        .app
        .durable
        .account_by_login(login)
        .await
        .unwrap()
        .unwrap();
    op.app
        .durable
        .set_email(&lea.id, LEA_EMAIL, op.app.now_ms())
        .await
        .unwrap();
    let composer = composer(&op, LYCEE);
    let only_lea = |active| {
        request(
            LYCEE,
            Profile::Pupil,
            Selection::Logins(vec![login.into()]),
            active,
        )
    };
    let kept = notify_with(
        &op,
        &national(),
        &only_lea(ActivePasswords::Keep),
        Carrier::Email(&composer),
        None,
    )
    .await
    .unwrap();
    let message = kept.notified[0].message.as_ref().expect("an e-mail");
    assert!(kept.notified[0].password.is_none());
    let (email, status) = opened(&op, &message.id).await;
    assert_eq!((email.to.as_str(), status), (LEA_EMAIL, Status::Pending));
    assert_eq!(printed_password(&email), None);
    assert!(email
        .text
        .contains("votre mot de passe actuel reste valable"));
    assert!(email.text.contains(login) && email.html.contains(login));
    assert_eq!(check(&op, login, password).await, "valid", "kept");

    let reset = notify_with(
        &op,
        &national(),
        &only_lea(ActivePasswords::Reset),
        Carrier::Email(&composer),
        None,
    )
    .await
    .unwrap();
    let message = reset.notified[0].message.as_ref().expect("an e-mail");
    let (email, _) = opened(&op, &message.id).await;
    let printed = printed_password(&email).expect("the e-mail carries the password");
    assert!(email.html.contains(&printed));
    // The password the message holds is the one that logs in; the old one no longer does.
    assert_eq!(check(&op, login, &printed).await, "temporary");
    assert_eq!(check(&op, login, password).await, "wrong");
    let records = op.app.durable.notifications(LYCEE).await.unwrap();
    assert!(records.iter().all(|r| r.carrier == CarrierKind::Email));
    assert_eq!(records.len(), 2);
}

/// Makes every e-mail with the id of a message already queued: the outbox refuses it.
struct Clashing(Outgoing);

impl Compose for Clashing {
    fn compose(
        &self,
        _: &NotificationTarget,
        _: Option<&TemporaryPassword>,
        _: i64,
    ) -> anyhow::Result<Outgoing> {
        Ok(self.0.clone())
    }
}

async fn the_email_and_its_password_are_written_together_or_not_at_all(backend: Backend) {
    let op = demo(backend).await;
    let (login, password, ..) = DEMO_ACCOUNTS[0];
    let lea = op
        .app
        .durable
        .account_by_login(login)
        .await
        .unwrap()
        .unwrap();
    op.app
        .durable
        .set_email(&lea.id, LEA_EMAIL, op.app.now_ms())
        .await
        .unwrap();
    let first = Outgoing::email(
        op.app.keys.kek(),
        &Email {
            to: LEA_EMAIL.into(),
            subject: "déjà en file".into(),
            text: "x".into(),
            html: "x".into(),
        },
        educonnect::outbox::Purpose::Notification,
        Some(&lea.id),
        op.app.now_ms(),
    )
    .unwrap();
    op.app.durable.enqueue(&first).await.unwrap();
    let reset = request(
        LYCEE,
        Profile::Pupil,
        Selection::Logins(vec![login.into()]),
        ActivePasswords::Reset,
    );
    let failed = notify_with(
        &op,
        &national(),
        &reset,
        Carrier::Email(&Clashing(first)),
        None,
    )
    .await;
    assert!(failed.is_err(), "the message could not be queued");
    // Its password was not changed either: the transaction wrote nothing.
    assert_eq!(check(&op, login, password).await, "valid");
    let stored = op.app.durable.account(&lea.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.password_expires_at),
        (AccountState::Active, None)
    );
    assert_eq!(
        op.app
            .durable
            .account_messages(&lea.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn accounts_without_an_address_are_reported_and_left_untouched(backend: Backend) {
    let op = demo(backend).await;
    let composer = composer(&op, COLLEGE);
    let all = request(
        COLLEGE,
        Profile::Guardian,
        Selection::All,
        ActivePasswords::Keep,
    );
    let targets = op
        .app
        .durable
        .notification_targets(COLLEGE, Profile::Guardian)
        .await
        .unwrap();
    let done = notify_with(&op, &national(), &all, Carrier::Email(&composer), None)
        .await
        .unwrap();
    assert!(
        !done.without_address.is_empty(),
        "the demo has guardians without an e-mail"
    );
    assert!(!done.notified.is_empty());
    assert_eq!(
        done.notified.len() + done.without_address.len(),
        targets.len()
    );
    for left in &done.without_address {
        assert_eq!(left.account.email, None);
        let stored = op
            .app
            .durable
            .account(&left.account.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, left.account.state, "not notified: unchanged");
        assert!(op
            .app
            .durable
            .account_messages(&left.account.id)
            .await
            .unwrap()
            .is_empty());
    }
    for n in &done.notified {
        let message = n.message.as_ref().unwrap();
        assert_eq!(Some(&message.recipient), n.target.account.email.as_ref());
        let (email, _) = opened(&op, &message.id).await;
        // A guardian's e-mail lists their children there, as the letter does.
        for child in &n.target.children {
            assert!(email.text.contains(&child.given_name), "{}", email.text);
        }
    }
    let record = &op.app.durable.notifications(COLLEGE).await.unwrap()[0];
    let ids: Vec<_> = done
        .notified
        .iter()
        .map(|n| n.target.account.id.clone())
        .collect();
    assert_eq!(record.account_ids, ids, "only those notified are recorded");
}
