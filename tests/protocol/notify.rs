//! Who an establishment notifies (issue #15): its current pupils with their class, or its
//! guardians' accounts with their children there, one per person, sorted by class then name so
//! that letters can be handed out; read from the demo export on both backends.

use std::collections::HashSet;

use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::AccountState;
use educonnect::accounts::Profile;
use educonnect::demo::DEMO_ACCOUNTS;
use educonnect::establishments::model::NotificationTarget;
use educonnect::establishments::{
    notify, ActivePasswords, Actor, Notified, Notifier, OperationError, Scope, Selection,
};
use educonnect::siecle::Uai;

on_both_backends!(
    pupils_are_notified_by_class_then_name,
    a_guardian_is_notified_once_with_their_children_there,
    notifying_a_class_gives_its_pupils_temporary_passwords_and_is_recorded,
    an_active_account_keeps_its_password_unless_reset,
    an_establishment_scoped_actor_notifies_only_its_own,
);

use crate::demo::{demo_op as demo, COLLEGE, LYCEE};
use crate::temporary_passwords::checked as check;

fn order(targets: &[NotificationTarget]) -> Vec<(String, String)> {
    targets
        .iter()
        .map(|t| {
            (
                t.sort_class().unwrap_or_default().to_owned(),
                t.account.family_name.to_lowercase(),
            )
        })
        .collect()
}

async fn pupils_are_notified_by_class_then_name(backend: Backend) {
    let op = demo(backend).await;
    let targets = op
        .app
        .durable
        .notification_targets(COLLEGE, Profile::Pupil)
        .await
        .unwrap();
    assert_eq!(targets.len(), 5, "the collège's five pupils");
    assert!(targets
        .iter()
        .all(|t| t.class.is_some() && t.children.is_empty()));
    assert!(targets.iter().all(|t| t.account.profile == Profile::Pupil));
    let mut sorted = order(&targets);
    sorted.sort();
    assert_eq!(order(&targets), sorted);
    assert!(op
        .app
        .durable
        .notification_targets("0750001U", Profile::Pupil)
        .await
        .unwrap()
        .is_empty());
}

async fn a_guardian_is_notified_once_with_their_children_there(backend: Backend) {
    let op = demo(backend).await;
    let (claire, ..) = DEMO_ACCOUNTS[1];
    for (uai, child, class) in [(COLLEGE, "Clément", "5B"), (LYCEE, "Léa", "2NDE3")] {
        let targets = op
            .app
            .durable
            .notification_targets(uai, Profile::Guardian)
            .await
            .unwrap();
        let ids: HashSet<&str> = targets.iter().map(|t| t.account.id.as_str()).collect();
        assert_eq!(ids.len(), targets.len(), "one target per account");
        assert!(targets.iter().all(|t| !t.children.is_empty()));
        let mut sorted = order(&targets);
        sorted.sort();
        assert_eq!(order(&targets), sorted);
        let mine: Vec<_> = targets
            .iter()
            .filter(|t| t.account.login == claire)
            .collect();
        assert_eq!(mine.len(), 1, "{uai}: Claire once");
        let children: Vec<(&str, Option<&str>)> = mine[0]
            .children
            .iter()
            .map(|c| (c.given_name.as_str(), c.class.as_deref()))
            .collect();
        assert_eq!(
            children,
            vec![(child, Some(class))],
            "{uai}: her child there only"
        );
    }
}

/// Notifies as `actor`; the letters are valid for a day.
async fn notify_as(
    op: &TestOp,
    actor: &Actor,
    uai: &str,
    profile: Profile,
    selection: Selection,
    active: ActivePasswords,
) -> Result<Vec<Notified>, OperationError> {
    let app = &op.app;
    let notifier = Notifier {
        directory: &*app.durable,
        accounts: &*app.durable,
        passwords: &app.passwords,
        sessions: app,
    };
    let now = app.now_ms();
    let uai = Uai::parse(uai).unwrap();
    notify(
        actor,
        &notifier,
        &uai,
        profile,
        &selection,
        active,
        now + 86_400_000,
        now,
    )
    .await
}

fn national() -> Actor {
    Actor::new("test", Scope::National)
}

async fn notifying_a_class_gives_its_pupils_temporary_passwords_and_is_recorded(backend: Backend) {
    let op = demo(backend).await;
    let class = Selection::Class("5B".into());
    let notified = notify_as(
        &op,
        &national(),
        COLLEGE,
        Profile::Pupil,
        class,
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert!(!notified.is_empty());
    for n in &notified {
        assert_eq!(n.target.class.as_deref(), Some("5B"));
        // Imported accounts have no password: they get one even without a reset.
        let password = n.password.as_ref().expect("a temporary password");
        let stored = op
            .app
            .durable
            .account(&n.target.account.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, AccountState::Notified);
        assert_eq!(
            check(&op, &stored.login, password.shown().expose()).await,
            "temporary"
        );
    }
    let records = op.app.durable.notifications(COLLEGE).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].account_ids,
        notified
            .iter()
            .map(|n| n.target.account.id.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        (records[0].actor.as_str(), records[0].reset),
        ("test", false)
    );
}

async fn an_active_account_keeps_its_password_unless_reset(backend: Backend) {
    let op = demo(backend).await;
    let (login, password, ..) = DEMO_ACCOUNTS[0];
    let lea = || Selection::Logins(vec![login.to_owned()]);
    let kept = notify_as(
        &op,
        &national(),
        LYCEE,
        Profile::Pupil,
        lea(),
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert!(
        kept[0].password.is_none(),
        "the letter says the password stays valid"
    );
    assert_eq!(check(&op, login, password).await, "valid");
    let reset = notify_as(
        &op,
        &national(),
        LYCEE,
        Profile::Pupil,
        lea(),
        ActivePasswords::Reset,
    )
    .await
    .unwrap();
    let temporary = reset[0]
        .password
        .as_ref()
        .expect("a new temporary password");
    assert_eq!(check(&op, login, password).await, "wrong");
    assert_eq!(
        check(&op, login, temporary.shown().expose()).await,
        "temporary"
    );
    // A login the establishment does not hold is refused, nothing notified.
    let stranger = Selection::Logins(vec!["x.nobody01".into()]);
    assert!(matches!(
        notify_as(
            &op,
            &national(),
            LYCEE,
            Profile::Pupil,
            stranger,
            ActivePasswords::Keep
        )
        .await,
        Err(OperationError::NotNotifiable(_))
    ));
    assert_eq!(op.app.durable.notifications(LYCEE).await.unwrap().len(), 2);
}

async fn an_establishment_scoped_actor_notifies_only_its_own(backend: Backend) {
    let op = demo(backend).await;
    let head = Actor::new("head", Scope::Establishment(Uai::parse(COLLEGE).unwrap()));
    let outside = notify_as(
        &op,
        &head,
        LYCEE,
        Profile::Guardian,
        Selection::All,
        ActivePasswords::Keep,
    )
    .await;
    assert!(matches!(outside, Err(OperationError::OutOfScope)));
    assert!(op
        .app
        .durable
        .notifications(LYCEE)
        .await
        .unwrap()
        .is_empty());
    let inside = notify_as(
        &op,
        &head,
        COLLEGE,
        Profile::Guardian,
        Selection::All,
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert!(!inside.is_empty());
}
