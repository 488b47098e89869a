//! Who an establishment notifies (issue #15): its current pupils with their class, or its
//! guardians' accounts with their children there, one per person, sorted by class then name so
//! that letters can be handed out; by class, level or login; what happens to active accounts'
//! passwords; read from the demo export on both backends. The e-mail carrier is
//! `notify_email.rs`.

use std::collections::HashSet;

use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::AccountState;
use educonnect::accounts::Profile;
use educonnect::demo::DEMO_ACCOUNTS;
use educonnect::establishments::model::CarrierKind;
use educonnect::establishments::model::NotificationTarget;
use educonnect::establishments::{
    notify, preview, ActivePasswords, Actor, Carrier, Notification, Notifier, OperationError,
    Request, Scope, Selection,
};
use educonnect::siecle::{Level, Uai};

on_both_backends!(
    pupils_are_notified_by_class_then_name,
    a_guardian_is_notified_once_with_their_children_there,
    notifying_a_class_gives_its_pupils_temporary_passwords_and_is_recorded,
    an_active_account_keeps_its_password_unless_reset,
    an_establishment_scoped_actor_notifies_only_its_own,
    a_level_selects_its_pupils_or_their_guardians,
    notifying_guardians_in_bulk_says_what_it_implies_first,
    progress_is_reported_in_hand_out_order_while_hashes_run_together,
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

/// Notifies as `actor` by letters, valid for a day.
async fn notify_as(
    op: &TestOp,
    actor: &Actor,
    uai: &str,
    profile: Profile,
    selection: Selection,
    active: ActivePasswords,
) -> Result<Vec<Notified>, OperationError> {
    notify_with(
        op,
        actor,
        &request(uai, profile, selection, active),
        Carrier::Letters,
        None,
    )
    .await
    .map(|n| n.notified)
}

pub(crate) use educonnect::establishments::Notified;

pub(crate) fn request(
    uai: &str,
    profile: Profile,
    selection: Selection,
    active: ActivePasswords,
) -> Request {
    Request {
        uai: Uai::parse(uai).unwrap(),
        profile,
        selection,
        active,
    }
}

/// Notifies `request` as `actor` by `carrier`, valid for a day.
pub(crate) async fn notify_with(
    op: &TestOp,
    actor: &Actor,
    request: &Request,
    carrier: Carrier<'_>,
    progress: Option<educonnect::establishments::Progress<'_>>,
) -> Result<Notification, OperationError> {
    let app = &op.app;
    let notifier = Notifier {
        directory: &*app.durable,
        accounts: &*app.durable,
        outbox: &*app.durable,
        audit: &*app.durable,
        passwords: &app.passwords,
        sessions: app,
        progress,
    };
    let now = app.now_ms();
    notify(actor, &notifier, request, carrier, now + 86_400_000, now).await
}

pub(crate) fn national() -> Actor {
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

/// What notifying `request` by letters would do.
async fn look(op: &TestOp, request: &Request) -> educonnect::establishments::Preview {
    preview(&national(), &*op.app.durable, request, CarrierKind::Letters)
        .await
        .unwrap()
}

fn logins_of(notified: &[Notified]) -> Vec<String> {
    notified
        .iter()
        .map(|n| n.target.account.login.clone())
        .collect()
}

async fn a_level_selects_its_pupils_or_their_guardians(backend: Backend) {
    let op = demo(backend).await;
    let level = |said: &str| Selection::Level(Level::parse(said).unwrap());
    // The collège's 5e is its two pupils of 5B (MEF 101…), whatever their class is called.
    let fifth = notify_as(
        &op,
        &national(),
        COLLEGE,
        Profile::Pupil,
        level("5ème"),
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert_eq!(fifth.len(), 2);
    assert!(fifth.iter().all(|n| n.target.class.as_deref() == Some("5B")
        && n.target
            .mef
            .as_deref()
            .is_some_and(|m| m.starts_with("101"))));
    let by_class = notify_as(
        &op,
        &national(),
        COLLEGE,
        Profile::Pupil,
        Selection::Class("5B".into()),
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert_eq!(logins_of(&fifth), logins_of(&by_class));
    // A level nobody is in notifies nobody; the lycée's 2NDE holds Léa (2NDE3).
    let none = notify_as(
        &op,
        &national(),
        COLLEGE,
        Profile::Pupil,
        level("TLE"),
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert!(none.is_empty());
    let second = notify_as(
        &op,
        &national(),
        LYCEE,
        Profile::Pupil,
        level("2NDE"),
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert!(logins_of(&second).contains(&DEMO_ACCOUNTS[0].0.to_owned()));
    assert!(second
        .iter()
        .all(|n| n.target.class.as_deref() == Some("2NDE3")));
    // The guardians of the collège's 5e: Claire, mother of Clément (5B), among them; each has a
    // child of that level.
    let guardians = notify_as(
        &op,
        &national(),
        COLLEGE,
        Profile::Guardian,
        level("5E"),
        ActivePasswords::Keep,
    )
    .await
    .unwrap();
    assert!(logins_of(&guardians).contains(&DEMO_ACCOUNTS[1].0.to_owned()));
    assert!(guardians.iter().all(|n| n
        .target
        .children
        .iter()
        .any(|c| c.mef.as_deref().is_some_and(|m| m.starts_with("101")))));
    let all = op
        .app
        .durable
        .notification_targets(COLLEGE, Profile::Guardian)
        .await
        .unwrap();
    assert!(guardians.len() < all.len(), "not every guardian");
}

async fn notifying_guardians_in_bulk_says_what_it_implies_first(backend: Backend) {
    let op = demo(backend).await;
    let uai = Uai::parse(COLLEGE).unwrap();
    let all = |active| request(COLLEGE, Profile::Guardian, Selection::All, active);
    let shown = look(&op, &all(ActivePasswords::Keep)).await;
    let bulk = shown.bulk_guardians.expect("guardians in bulk");
    assert_eq!(bulk.accounts, shown.targets.len());
    // Claire, the demo guardian, is active; Claire, Julien Martin and Nadia Benali have
    // children in both demo establishments.
    assert_eq!(bulk.active, 1);
    assert!(!bulk.reset);
    assert_eq!(bulk.in_several_establishments, 3, "{}", bulk.message);
    assert!(
        bulk.message.contains("gardent leur mot de passe"),
        "{}",
        bulk.message
    );
    assert!(
        bulk.message.contains("plusieurs courriers"),
        "{}",
        bulk.message
    );
    let reset = look(&op, &all(ActivePasswords::Reset))
        .await
        .bulk_guardians
        .unwrap();
    assert!(reset.reset);
    assert!(
        reset.message.contains("nouveau mot de passe"),
        "{}",
        reset.message
    );
    // Nothing was written by looking.
    assert!(op
        .app
        .durable
        .notifications(uai.as_str())
        .await
        .unwrap()
        .is_empty());
    let claire = op
        .app
        .durable
        .account_by_login(DEMO_ACCOUNTS[1].0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claire.state, AccountState::Active);
    // Given logins are no bulk notification; pupils never are.
    let one = request(
        COLLEGE,
        Profile::Guardian,
        Selection::Logins(vec![DEMO_ACCOUNTS[1].0.into()]),
        ActivePasswords::Keep,
    );
    assert!(look(&op, &one).await.bulk_guardians.is_none());
    let pupils = request(
        COLLEGE,
        Profile::Pupil,
        Selection::All,
        ActivePasswords::Keep,
    );
    assert!(look(&op, &pupils).await.bulk_guardians.is_none());
    // And the notification itself returns the same implications.
    let done = notify_with(
        &op,
        &national(),
        &all(ActivePasswords::Keep),
        Carrier::Letters,
        None,
    )
    .await
    .unwrap();
    assert_eq!(done.bulk_guardians, Some(bulk));
}

async fn progress_is_reported_in_hand_out_order_while_hashes_run_together(backend: Backend) {
    let op = demo(backend).await;
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |done: usize, total: usize| seen.lock().unwrap().push((done, total));
    let everyone = request(
        COLLEGE,
        Profile::Guardian,
        Selection::All,
        ActivePasswords::Reset,
    );
    let expected: Vec<String> = op
        .app
        .durable
        .notification_targets(COLLEGE, Profile::Guardian)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.account.login)
        .collect();
    let done = notify_with(
        &op,
        &national(),
        &everyone,
        Carrier::Letters,
        Some(&progress),
    )
    .await
    .unwrap();
    assert_eq!(logins_of(&done.notified), expected, "hand-out order kept");
    let total = expected.len();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen, (1..=total).map(|n| (n, total)).collect::<Vec<_>>());
    // Each got its own password, and each works.
    for n in &done.notified {
        let password = n.password.as_ref().unwrap().shown();
        assert_eq!(
            check(&op, &n.target.account.login, password.expose()).await,
            "temporary"
        );
    }
}
