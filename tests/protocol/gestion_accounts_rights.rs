//! Who may do what with the establishment's accounts (issue #16): every page and every action,
//! for each role — head, deputy, a delegate with and without the right, an assistance agent of
//! the académie, another establishment's head — signed in with the password only and with the
//! second factor. A refusal is a 403, a missing second factor the step-up, and neither changes
//! anything (read back from the store) while both are recorded in the audit trail. The
//! administration API calls the same domain functions: they are run here with each role's
//! `Actor` too, and over HTTP with the national token (whose actor holds every right).

use educonnect::accounts::{throttle, AccountState, Profile};
use educonnect::establishments::{self, Desk, OperationError, Switch};
use educonnect::staff::RoleKind;
use serde_json::json;

use crate::common::staff::{self, Gestion, TestStaff};
use crate::common::{Backend, TestOp};
use crate::gestion_accounts::{
    api, events, imported_with, person, post_raw, signed_in, stored, COLLEGE, LYCEE,
};
use crate::on_both_backends;
use crate::temporary_passwords::checked;

on_both_backends!(
    every_page_answers_each_role_by_its_rights,
    every_action_is_refused_to_whoever_lacks_the_right_and_changes_nothing,
    the_domain_functions_behind_the_api_apply_the_same_rules,
);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Shown,
    StepUp,
    Refused,
}
use Answer::{Refused, Shown, StepUp};

/// What each role gets, with the password only and with the second factor, in the order of
/// `cast`: head, deputy, pupils' delegate, guardians' delegate, assistance, other head.
type Expected = [(Answer, Answer); 6];
const VIEW: Expected = [
    (Shown, Shown),
    (Shown, Shown),
    (Shown, Shown),
    (Shown, Shown),
    (Shown, Shown),
    (Refused, Refused),
];
const PUPILS: Expected = [
    (Shown, Shown),
    (Shown, Shown),
    (Shown, Shown),
    (Refused, Refused),
    (Refused, Refused),
    (Refused, Refused),
];
const GUARDIANS: Expected = [
    (StepUp, Shown),
    (StepUp, Shown),
    (Refused, Refused),
    (StepUp, Shown),
    (Refused, Refused),
    (Refused, Refused),
];
/// Both rights (the identifiers file).
const BOTH: Expected = [
    (StepUp, Shown),
    (StepUp, Shown),
    (Refused, Refused),
    (Refused, Refused),
    (Refused, Refused),
    (Refused, Refused),
];

async fn cast(op: &TestOp) -> Vec<TestStaff> {
    vec![
        staff::add_enrolled(op, "m.chef", staff::at(RoleKind::Head, COLLEGE)).await,
        staff::add_enrolled(op, "a.adjoint", staff::at(RoleKind::Deputy, COLLEGE)).await,
        staff::add_enrolled(op, "s.eleves", staff::delegate(COLLEGE, true, false)).await,
        staff::add_enrolled(op, "r.familles", staff::delegate(COLLEGE, false, true)).await,
        staff::add_enrolled(op, "l.assistance", staff::assistance("Lyon")).await,
        staff::add_enrolled(op, "c.lycee", staff::at(RoleKind::Head, LYCEE)).await,
    ]
}

/// What a response says, its redirects not followed.
fn answer(response: &reqwest::Response) -> Answer {
    match response.status().as_u16() {
        200 => Shown,
        403 => Refused,
        303 => {
            let location = response.headers()["location"].to_str().unwrap();
            if location.starts_with("/gestion/second-facteur") {
                StepUp
            } else {
                Shown
            }
        }
        other => panic!("unexpected {other} for {}", response.url()),
    }
}

async fn get(op: &TestOp, gestion: &Gestion<'_>, path: &str) -> Answer {
    answer(&gestion.http.get(op.url(path)).send().await.unwrap())
}

/// Each role's two sessions, in `cast`'s order.
async fn sessions<'a>(op: &'a TestOp, cast: &[TestStaff]) -> Vec<(Gestion<'a>, Gestion<'a>)> {
    let mut all = Vec::new();
    for who in cast {
        all.push((
            signed_in(op, who, false).await,
            signed_in(op, who, true).await,
        ));
    }
    all
}

async fn every_page_answers_each_role_by_its_rights(backend: Backend) {
    let (op, _) = imported_with(backend, |_| {}).await;
    let cast = cast(&op).await;
    let sessions = sessions(&op, &cast).await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    let claire = person(&op, COLLEGE, Profile::Guardian, "Claire").await;
    let lea = person(&op, LYCEE, Profile::Pupil, "Léa").await;
    let base = format!("/gestion/etablissements/{COLLEGE}");
    let pages: [(String, Expected); 7] = [
        (base.clone(), VIEW),
        (format!("{base}/comptes"), VIEW),
        (format!("{base}/comptes/{}", clement.id), PUPILS),
        (format!("{base}/comptes/{}", claire.id), GUARDIANS),
        (format!("{base}/depannage?q=martin"), PUPILS),
        (format!("{base}/identifiants"), BOTH),
        // Another establishment's pupil answers like an account that does not exist.
        (
            format!("{base}/comptes/{}", lea.id),
            [(Refused, Refused); 6],
        ),
    ];
    for (path, expected) in &pages {
        for (i, (password_only, strong)) in sessions.iter().enumerate() {
            let got = (
                get(&op, password_only, path).await,
                get(&op, strong, path).await,
            );
            assert_eq!(got, expected[i], "{} at {path}", cast[i].staff.login);
        }
    }
    // Pupils' and guardians' rows alike are listed to whoever sees the establishment.
    let (password_only, _) = &sessions[2];
    let list = password_only.get(&format!("{base}/comptes")).await;
    assert!(list.body.contains(&claire.login) && list.body.contains(&clement.login));
}

/// Lets `pupil`'s login be throttled again.
async fn exhaust(op: &TestOp, login: &str) {
    for _ in 0..op.app.config.throttle.failures_per_account {
        checked(op, login, "Mauvais-Mot-1").await;
    }
}

async fn is_throttled(op: &TestOp, login: &str) -> bool {
    let counters = throttle::login(&op.app.config.throttle, login, "");
    throttle::exhausted(
        &*op.app.ephemeral,
        &op.app.config.throttle,
        op.app.now_ms(),
        &counters[..1],
    )
    .await
    .unwrap()
}

async fn refusals_by(op: &TestOp, account_id: &str, actor: &str) -> usize {
    events(op, &format!("account:{account_id}"))
        .await
        .iter()
        .filter(|e| e.action == "refused" && e.actor == actor)
        .count()
}

async fn every_action_is_refused_to_whoever_lacks_the_right_and_changes_nothing(backend: Backend) {
    let (op, _) = imported_with(backend, |config| {
        config.throttle.failures_per_account = 2;
        config.throttle.failures_per_address = 100_000;
    })
    .await;
    let cast = cast(&op).await;
    let sessions = sessions(&op, &cast).await;
    let hugo = person(&op, COLLEGE, Profile::Pupil, "Hugo").await;
    let nadia = person(&op, COLLEGE, Profile::Guardian, "Nadia").await;
    let base = format!("/gestion/etablissements/{COLLEGE}/comptes");
    for (i, (password_only, strong)) in sessions.iter().enumerate() {
        let label = format!("staff:{}", cast[i].staff.login);
        for (gestion, strong_session, expected) in [
            (password_only, false, &[PUPILS[i].0, GUARDIANS[i].0]),
            (strong, true, &[PUPILS[i].1, GUARDIANS[i].1]),
        ] {
            let [over_pupils, over_guardians] = *expected;
            let context = format!("{label} (second factor: {strong_session})");
            for (account, expected) in [(&hugo, over_pupils), (&nadia, over_guardians)] {
                let page = format!("{base}/{}", account.id);
                let refusals = refusals_by(&op, &account.id, &label).await;
                // Disable, then enable again.
                let before = stored(&op, &account.id).await;
                let got = answer(
                    &post_raw(
                        &op,
                        gestion,
                        &format!("{page}/etat"),
                        &[("etat", "desactive")],
                    )
                    .await,
                );
                assert_eq!(got, expected, "disable {} by {context}", account.login);
                let after = stored(&op, &account.id).await;
                if expected == Shown {
                    assert_eq!(after.state, AccountState::Disabled);
                    post_raw(&op, gestion, &format!("{page}/etat"), &[("etat", "active")]).await;
                    assert_eq!(stored(&op, &account.id).await.state, before.state);
                } else {
                    assert_eq!(after, before, "nothing changed");
                }
                // Unblock.
                exhaust(&op, &account.login).await;
                let got = answer(&post_raw(&op, gestion, &format!("{page}/debloquer"), &[]).await);
                assert_eq!(got, expected, "unblock {} by {context}", account.login);
                assert_eq!(is_throttled(&op, &account.login).await, expected != Shown);
                // Notify with a letter and a new password.
                let before = stored(&op, &account.id).await;
                let response = post_raw(
                    &op,
                    gestion,
                    &format!("{page}/notifier"),
                    &[("support", "pdf"), ("reinitialiser", "1")],
                )
                .await;
                let got = answer(&response);
                assert_eq!(got, expected, "notify {} by {context}", account.login);
                let after = stored(&op, &account.id).await;
                if expected == Shown {
                    assert_eq!(response.headers()["content-type"], "application/pdf");
                    assert_ne!(after.password_hash, before.password_hash);
                } else {
                    assert_eq!(after, before, "nothing changed");
                }
                if expected != Shown {
                    assert_eq!(
                        refusals_by(&op, &account.id, &label).await,
                        refusals + 3,
                        "each refusal recorded ({context})"
                    );
                }
            }
            // The guardian's contact details (the right over guardians).
            let typed = format!("{}@corrige.example", cast[i].staff.login);
            let before = stored(&op, &nadia.id).await;
            let got = answer(
                &post_raw(
                    &op,
                    gestion,
                    &format!("{base}/{}/coordonnees", nadia.id),
                    &[("courriel", &typed)],
                )
                .await,
            );
            assert_eq!(got, over_guardians, "contact by {context}");
            let after = stored(&op, &nadia.id).await;
            if over_guardians == Shown {
                assert_eq!(after.email.as_deref(), Some(typed.as_str()));
            } else {
                assert_eq!(after, before, "nothing changed");
            }
            // An attachment code for the pupil (the right over pupils).
            let codes = events(&op, &format!("account:{}", hugo.id))
                .await
                .iter()
                .filter(|e| e.action == "account.attachment_code")
                .count();
            let got = answer(
                &post_raw(
                    &op,
                    gestion,
                    &format!("{base}/{}/code-rattachement", hugo.id),
                    &[],
                )
                .await,
            );
            assert_eq!(got, over_pupils, "attachment code by {context}");
            let now = events(&op, &format!("account:{}", hugo.id))
                .await
                .iter()
                .filter(|e| e.action == "account.attachment_code")
                .count();
            assert_eq!(now, codes + usize::from(over_pupils == Shown));
        }
    }
}

async fn the_domain_functions_behind_the_api_apply_the_same_rules(backend: Backend) {
    let (op, token) = imported_with(backend, |config| {
        config.throttle.failures_per_account = 2;
        config.throttle.failures_per_address = 100_000;
    })
    .await;
    let cast = cast(&op).await;
    let hugo = person(&op, COLLEGE, Profile::Pupil, "Hugo").await;
    let nadia = person(&op, COLLEGE, Profile::Guardian, "Nadia").await;
    let uai = educonnect::siecle::Uai::parse(COLLEGE).unwrap();
    let desk = Desk {
        directory: &*op.app.durable,
        accounts: &*op.app.durable,
        roster: &*op.app.durable,
        links: &*op.app.durable,
        audit: &*op.app.durable,
        sessions: &op.app,
        ephemeral: &*op.app.ephemeral,
        throttle: &op.app.config.throttle,
    };
    let now = op.app.now_ms();
    let outcome = |result: Result<(), OperationError>| match result {
        Ok(()) => Shown,
        Err(OperationError::SecondFactorRequired) => StepUp,
        Err(OperationError::OutOfScope) => Refused,
        Err(other) => panic!("{other}"),
    };
    for (i, who) in cast.iter().enumerate() {
        let roles = op.app.durable.roles_of(&who.staff.id).await.unwrap();
        for (strong, pick) in [(false, 0), (true, 1)] {
            let actor = educonnect::staff::actor(&who.staff, &roles, strong, now);
            let pick = |e: (Answer, Answer)| if pick == 0 { e.0 } else { e.1 };
            let context = format!("{} (second factor: {strong})", who.staff.login);
            for (account, expected) in [(&hugo, pick(PUPILS[i])), (&nadia, pick(GUARDIANS[i]))] {
                let before = stored(&op, &account.id).await;
                let disabled =
                    establishments::switch(&actor, &desk, &uai, &account.id, Switch::Disable, now)
                        .await
                        .map(|_| ());
                assert_eq!(outcome(disabled), expected, "disable by {context}");
                if expected == Shown {
                    establishments::switch(&actor, &desk, &uai, &account.id, Switch::Enable, now)
                        .await
                        .unwrap();
                }
                assert_eq!(stored(&op, &account.id).await.state, before.state);
                exhaust(&op, &account.login).await;
                let unblocked =
                    establishments::unblock(&actor, &desk, &uai, &account.id, now).await;
                assert_eq!(outcome(unblocked), expected, "unblock by {context}");
                assert_eq!(is_throttled(&op, &account.login).await, expected != Shown);
            }
            let corrected = establishments::correct_contact(
                &actor,
                &desk,
                &uai,
                &nadia.id,
                "n.b@exemple.fr",
                "",
                now,
            )
            .await;
            assert_eq!(
                outcome(corrected),
                pick(GUARDIANS[i]),
                "contact by {context}"
            );
        }
    }
    // Over HTTP, the national token holds every right; an account of another establishment
    // answers like one that does not exist, and changes nothing.
    let lea = person(&op, LYCEE, Profile::Pupil, "Léa").await;
    let path = format!("/admin/establishments/{COLLEGE}/accounts/{}", lea.id);
    for (suffix, body) in [
        ("/state", Some(json!({"state": "disabled"}))),
        ("/contact", Some(json!({"email": "x@exemple.fr"}))),
        ("/unblock", None),
    ] {
        let (status, answer) = api(&op, &token, "POST", &format!("{path}{suffix}"), body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (403, Some("insufficient_scope"))
        );
    }
    assert_eq!(stored(&op, &lea.id).await, lea);
    let (status, _) = api(
        &op,
        &token,
        "POST",
        &format!("/admin/establishments/{COLLEGE}/accounts/{}/state", hugo.id),
        Some(json!({"state": "disabled"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = reqwest::Client::new()
        .post(op.url(&format!(
            "/admin/establishments/{COLLEGE}/accounts/{}/unblock",
            hugo.id
        )))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401, "no token, no answer");
}
