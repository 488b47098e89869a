//! Who an establishment notifies (issue #15): its current pupils with their class, or its
//! guardians' accounts with their children there, one per person, sorted by class then name so
//! that letters can be handed out; read from the demo export on both backends.

use std::collections::HashSet;

use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::Profile;
use educonnect::demo::{seed, DEMO_ACCOUNTS};
use educonnect::establishments::model::NotificationTarget;

const COLLEGE: &str = "0699990J";
const LYCEE: &str = "0699991K";

on_both_backends!(
    pupils_are_notified_by_class_then_name,
    a_guardian_is_notified_once_with_their_children_there,
);

async fn demo(backend: Backend) -> TestOp {
    let op = TestOp::start_with(backend, |config| config.demo = Some(true)).await;
    seed(&op.app).await.expect("demo seed");
    op
}

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
