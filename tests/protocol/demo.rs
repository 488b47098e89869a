//! The embedded default shows the product (issue #14): after `demo::seed`, the accounts printed
//! at start-up log in with their printed passwords through the real pages, and an ENT receives
//! the guardian's children in the demo export's two establishments and the pupil's
//! establishment, INE and class.

use serde_json::{json, Value};

use crate::claims::{log_in_with, register_directory_ent};
use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use educonnect::demo::{demo_totp_code, seed, DEMO_ACCOUNTS, DEMO_STAFF, DEMO_STAFF_PASSWORD};
use educonnect::establishments::Right;
use educonnect::secrets::Secret;
use educonnect::siecle::Uai;
use educonnect::staff::signin;

/// The collège and the lycée of the demo export (`demo/siecle/`).
pub(crate) const COLLEGE: &str = "0699990J";
pub(crate) const LYCEE: &str = "0699991K";

on_both_backends!(
    the_demo_guardian_has_a_child_in_each_demo_establishment,
    the_demo_pupil_has_her_establishment_ine_and_class,
    seeding_again_imports_nothing_twice,
    the_demo_staff_sign_in_with_the_printed_password_and_the_shown_code,
    seeding_again_gives_the_demo_staff_nothing_twice,
);

/// The provider as `educonnect serve` starts it, with the demo seeded.
pub(crate) async fn demo_op(backend: Backend) -> TestOp {
    let op = TestOp::start_with(backend, |config| config.demo = Some(true)).await;
    seed(&op.app).await.expect("demo seed");
    op
}

/// The demo provider, and an ENT for the directory.
async fn demo_provider(backend: Backend) -> (TestOp, educonnect::secrets::Secret) {
    let op = demo_op(backend).await;
    let secret = register_directory_ent(&op).await;
    (op, secret)
}

fn sorted(claim: &Value) -> Vec<String> {
    let mut values: Vec<String> = serde_json::from_value(claim.clone()).expect("strings");
    values.sort();
    values
}

async fn the_demo_guardian_has_a_child_in_each_demo_establishment(backend: Backend) {
    let (op, secret) = demo_provider(backend).await;
    let (login, password, profile, given, family) = DEMO_ACCOUNTS[1];
    let (pupil_login, ..) = DEMO_ACCOUNTS[0];
    let store = &op.app.durable;
    let lea = store.account_by_login(pupil_login).await.unwrap().unwrap();
    let (id_claims, userinfo) = log_in_with(&op, &secret, login, password).await;
    for claims in [&id_claims, &userinfo] {
        assert_eq!(claims["educonnect_profile"], json!(profile.as_str()));
        assert_eq!(claims["name"], json!(format!("{given} {family}")));
        let mut uais: Vec<&str> = claims["educonnect_establishments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["uai"].as_str().unwrap())
            .collect();
        uais.sort();
        assert_eq!(uais, [COLLEGE, LYCEE], "{claims}");
        let mut children: Vec<(&str, &str, &str, bool)> = claims["educonnect_children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["given_name"].as_str().unwrap(),
                    c["uai"].as_str().unwrap(),
                    c["class"].as_str().unwrap(),
                    c["legal_guardian"].as_bool().unwrap(),
                )
            })
            .collect();
        children.sort();
        assert_eq!(
            children,
            [
                ("Clément", COLLEGE, "5B", true),
                ("Léa", LYCEE, "2NDE3", true)
            ]
        );
        let lea_sub = claims["educonnect_children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["uai"] == json!(LYCEE))
            .map(|c| c["sub"].clone());
        assert_eq!(lea_sub, Some(json!(lea.id)), "the demo pupil is her child");
        assert_eq!(
            sorted(&claims["FrEduVecteur"]),
            [
                format!("2|Martin|Claire|4102|{COLLEGE}"),
                format!("2|Martin|Claire|5101|{LYCEE}"),
            ]
        );
    }
}

async fn the_demo_pupil_has_her_establishment_ine_and_class(backend: Backend) {
    let (op, secret) = demo_provider(backend).await;
    let (login, password, profile, given, family) = DEMO_ACCOUNTS[0];
    let (id_claims, userinfo) = log_in_with(&op, &secret, login, password).await;
    for claims in [&id_claims, &userinfo] {
        assert_eq!(claims["educonnect_profile"], json!(profile.as_str()));
        assert_eq!(claims["name"], json!(format!("{given} {family}")));
        assert_eq!(claims["educonnect_ine"], json!("099990201LM"));
        assert_eq!(
            claims["educonnect_establishments"],
            json!([{ "uai": LYCEE, "class": "2NDE3" }])
        );
        assert_eq!(
            claims["FrEduVecteur"],
            json!([format!("4|Martin|Léa|5101|{LYCEE}")])
        );
    }
}

async fn seeding_again_imports_nothing_twice(backend: Backend) {
    let (op, secret) = demo_provider(backend).await;
    let store = &op.app.durable;
    let before = store.account_by_login(DEMO_ACCOUNTS[1].0).await.unwrap();
    seed(&op.app).await.expect("a second start");
    for uai in [COLLEGE, LYCEE] {
        let history = store.imports(uai, 10).await.unwrap().unwrap();
        assert_eq!(history.len(), 1, "{uai} imported once");
    }
    assert_eq!(
        store.account_by_login(DEMO_ACCOUNTS[1].0).await.unwrap(),
        before
    );
    let (login, password, ..) = DEMO_ACCOUNTS[1];
    let (claims, _) = log_in_with(&op, &secret, login, password).await;
    assert_eq!(claims["educonnect_children"].as_array().unwrap().len(), 2);
}

/// The demo staff member of this login, signed in with the password and the code the demo
/// prints and shows: their actor, second factor presented.
async fn demo_staff_actor(op: &TestOp, login: &str) -> educonnect::establishments::Actor {
    let app = &op.app;
    let signed_in = signin::sign_in(
        app,
        login,
        &Secret::from_presented(DEMO_STAFF_PASSWORD),
        "127.0.0.1",
    )
    .await
    .unwrap()
    .expect("the printed password signs in");
    assert!(
        signed_in.staff.totp_enrolled_at.is_some(),
        "enrolled already"
    );
    let code = demo_totp_code(app.now_ms());
    let (session, _) =
        signin::present_code(app, &signed_in.staff, signed_in.session, &code, "127.0.0.1")
            .await
            .unwrap()
            .expect("the shown code is the enrolled secret's");
    assert!(session.second_factor());
    let roles = app.durable.roles_of(&signed_in.staff.id).await.unwrap();
    educonnect::staff::actor(&signed_in.staff, &roles, true, app.now_ms())
}

async fn the_demo_staff_sign_in_with_the_printed_password_and_the_shown_code(backend: Backend) {
    let op = demo_op(backend).await;
    let college = Uai::parse(COLLEGE).unwrap();
    let lycee = Uai::parse(LYCEE).unwrap();
    let head = demo_staff_actor(&op, "m.bernard").await;
    assert!(head.check(&college, Right::Delegate).is_ok());
    assert!(head.check(&lycee, Right::View).is_err());
    let deputy = demo_staff_actor(&op, "a.moreau").await;
    assert!(deputy.check(&college, Right::Guardians).is_ok());
    assert!(deputy.check(&college, Right::Delegate).is_err());
    // The secretary: the pupils' accounts only.
    let secretary = demo_staff_actor(&op, "s.petit").await;
    assert!(secretary.check(&college, Right::Pupils).is_ok());
    assert!(secretary.check(&college, Right::Guardians).is_err());
    // The académie de Lyon's assistance: both demo establishments, assisting only.
    let assistance = demo_staff_actor(&op, "r.garnier").await;
    assert!(assistance.check(&lycee, Right::Assist).is_ok());
    assert!(assistance.check(&college, Right::Pupils).is_err());
    let operator = demo_staff_actor(&op, "o.national").await;
    assert!(operator.holds_nationally(Right::Staff));
    // A wrong password is refused as for anyone.
    let wrong = signin::sign_in(
        &op.app,
        "m.bernard",
        &Secret::from_presented("Pas-Le-Bon-1"),
        "127.0.0.1",
    )
    .await
    .unwrap();
    assert!(wrong.is_err());
}

async fn seeding_again_gives_the_demo_staff_nothing_twice(backend: Backend) {
    let op = demo_op(backend).await;
    let store = &op.app.durable;
    let before = store.staff_list(100).await.unwrap();
    assert_eq!(before.len(), DEMO_STAFF.len());
    seed(&op.app).await.expect("a second start");
    assert_eq!(store.staff_list(100).await.unwrap(), before);
    for staff in &before {
        let roles = store.roles_of(&staff.id).await.unwrap();
        assert_eq!(roles.len(), 1, "{} has one role", staff.login);
    }
    // Without the demo, no staff at all.
    let plain = TestOp::start(backend).await;
    assert!(plain.app.durable.staff_list(100).await.unwrap().is_empty());
}
