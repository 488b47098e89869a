//! The head's delegations page (issue #16): who may see it and change it (a head with the
//! second factor, an operator; never a deputy, a delegate, another establishment's head, an
//! assistance agent), a new staff member designated with their initial password shown once, a
//! delegation's end date, a revocation felt at the delegate's next request. Each refusal is a
//! 403 (or the step-up when only the second factor is missing) that changes nothing.

use std::time::Duration;

use educonnect::establishments::{self, OperationError, Right};
use educonnect::siecle::{Date, Uai};
use educonnect::staff::delegations::staff_role;
use educonnect::staff::{totp, Role, RoleKind};

use crate::common::staff::{self, hidden, Gestion, TestStaff};
use crate::common::{Backend, TestOp};

pub(crate) const COLLEGE: &str = "0699990J";
pub(crate) const LYCEE: &str = "0699991K";
const DAY: Duration = Duration::from_secs(86_400);

/// A form, the status it gets, the element with the error and what it says.
type FormCase<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);

crate::on_both_backends!(
    only_a_head_with_the_second_factor_designates_and_revokes_delegates,
    a_new_delegate_gets_an_initial_password_once_and_enrols_at_the_first_sign_in,
    the_designation_forms_say_what_is_wrong_and_change_nothing,
    a_delegation_stops_giving_rights_at_its_end_date,
    a_revoked_delegation_gives_nothing_at_the_delegates_next_request,
);

/// Everyone the authorization tests need, second factor enrolled.
pub(crate) struct Cast {
    pub head: TestStaff,
    pub deputy: TestStaff,
    /// A delegate of the collège with both rights.
    pub delegate: TestStaff,
    pub other_head: TestStaff,
    pub agent: TestStaff,
    pub operator: TestStaff,
}

pub(crate) async fn cast(op: &TestOp) -> Cast {
    let operator = staff_role(RoleKind::Operator, None, None).unwrap();
    Cast {
        head: staff::add_enrolled(op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await,
        deputy: staff::add_enrolled(op, "j.adjoint", staff::at(RoleKind::Deputy, COLLEGE)).await,
        delegate: staff::add_enrolled(op, "s.secretariat", staff::delegate(COLLEGE, true, true))
            .await,
        other_head: staff::add_enrolled(op, "p.lycee", staff::at(RoleKind::Head, LYCEE)).await,
        agent: staff::add_enrolled(op, "a.rectorat", staff::assistance("Lyon")).await,
        operator: staff::add_enrolled(op, "o.national", operator).await,
    }
}

/// What a refused request must leave as it was: every role of both establishments and every
/// staff login.
pub(crate) async fn snapshot(op: &TestOp) -> (Vec<Role>, Vec<String>) {
    let store = &op.app.durable;
    let mut roles = Vec::new();
    for uai in [COLLEGE, LYCEE] {
        roles.extend(
            store
                .roles_at(uai)
                .await
                .unwrap()
                .into_iter()
                .map(|(r, _)| r),
        );
    }
    let logins = store
        .staff_list(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.login)
        .collect();
    (roles, logins)
}

fn delegations(uai: &str) -> String {
    format!("/gestion/etablissements/{uai}/delegations")
}

fn new_secretary(ends_on: &str) -> Vec<(&'static str, String)> {
    vec![
        ("qui", "nouveau".into()),
        ("login", "c.durand".into()),
        ("given_name", "Claire".into()),
        ("family_name", "Durand".into()),
        ("email", "c.durand@etab.example".into()),
        ("pupils", "1".into()),
        ("ends_on", ends_on.into()),
    ]
}

fn fields<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The text of the element `id` (up to its first tag).
pub(crate) fn text_of(body: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('<')? + start;
    Some(body[start..end].to_owned())
}

/// A signed-in browser, with the second factor presented or not.
pub(crate) async fn signed_in<'a>(op: &'a TestOp, who: &TestStaff, strong: bool) -> Gestion<'a> {
    let gestion = Gestion::new(op);
    if strong {
        gestion.sign_in_strong(who).await;
        // One code per 30 s window: the next staff member's step-up must not find it used.
        op.clock.advance(Duration::from_secs(totp::STEP));
    } else {
        gestion.sign_in(who).await;
    }
    gestion
}

async fn only_a_head_with_the_second_factor_designates_and_revokes_delegates(backend: Backend) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let delegate_role = op
        .app
        .durable
        .roles_of(&cast.delegate.staff.id)
        .await
        .unwrap()[0]
        .id
        .clone();
    let head_role = op.app.durable.roles_of(&cast.head.staff.id).await.unwrap()[0]
        .id
        .clone();
    let form = new_secretary("");
    let before = snapshot(&op).await;

    // Refused, with the second factor: a deputy, a delegate with both rights, another
    // establishment's head, an assistance agent.
    for who in [&cast.deputy, &cast.delegate, &cast.other_head, &cast.agent] {
        let gestion = signed_in(&op, who, true).await;
        let page = gestion.get(&delegations(COLLEGE)).await;
        assert_eq!(page.status, 403, "{} sees the delegations", who.staff.login);
        assert!(!page.body.contains("s.secretariat"));
        let posted = gestion
            .post_from("/gestion/accueil", &delegations(COLLEGE), &fields(&form))
            .await;
        assert_eq!(posted.status, 403, "{} designates", who.staff.login);
        let revoked = gestion
            .post_from(
                "/gestion/accueil",
                &format!("{}/retirer", delegations(COLLEGE)),
                &[("role", &delegate_role)],
            )
            .await;
        assert_eq!(revoked.status, 403, "{} revokes", who.staff.login);
        assert_eq!(
            snapshot(&op).await,
            before,
            "{} changed something",
            who.staff.login
        );
    }
    // Another head cannot reach the collège's delegation through their own page either.
    let other = signed_in(&op, &cast.other_head, true).await;
    let page = other
        .post_from(
            "/gestion/accueil",
            &format!("{}/retirer", delegations(LYCEE)),
            &[("role", &delegate_role)],
        )
        .await;
    assert_eq!(page.status, 404);
    assert_eq!(snapshot(&op).await, before);

    // The head with the password alone is sent to the second factor, and nothing changes.
    let password_only = signed_in(&op, &cast.head, false).await;
    let page = password_only.get(&delegations(COLLEGE)).await;
    assert_eq!(page.path, "/gestion/second-facteur", "{}", page.body);
    let page = password_only
        .post_from("/gestion/accueil", &delegations(COLLEGE), &fields(&form))
        .await;
    assert_eq!(page.path, "/gestion/second-facteur");
    let page = password_only
        .post_from(
            "/gestion/accueil",
            &format!("{}/retirer", delegations(COLLEGE)),
            &[("role", &delegate_role)],
        )
        .await;
    assert_eq!(page.path, "/gestion/second-facteur");
    assert_eq!(snapshot(&op).await, before);
    // After the step-up, back to the delegations.
    let page = password_only
        .step_up(&cast.head, &delegations(COLLEGE))
        .await;
    assert_eq!(page.path, delegations(COLLEGE));
    assert_eq!(page.status, 200);
    op.clock.advance(Duration::from_secs(totp::STEP));

    // The head, strong: the staff, with a Retirer on the delegation only.
    let head = signed_in(&op, &cast.head, true).await;
    let page = head.get(&delegations(COLLEGE)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for login in ["m.bernard", "j.adjoint", "s.secretariat"] {
        assert!(page.body.contains(login), "{login} listed");
    }
    assert!(
        !page.body.contains("p.lycee"),
        "another establishment's staff"
    );
    assert!(page.body.contains(&format!("value=\"{delegate_role}\"")));
    assert!(!page.body.contains(&format!("value=\"{head_role}\"")));
    // A form without its CSRF token changes nothing.
    let page = head
        .post(&delegations(COLLEGE), "wrong", &fields(&form))
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(snapshot(&op).await, before);
    // Nor may the head revoke their own role here.
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &format!("{}/retirer", delegations(COLLEGE)),
            &[("role", &head_role)],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(snapshot(&op).await, before);

    // An existing staff member (the lycée's head) designated at the collège, then revoked.
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &delegations(COLLEGE),
            &[
                ("qui", "existant"),
                ("login", "P.Lycee"),
                ("guardians", "1"),
            ],
        )
        .await;
    assert_eq!(page.path, delegations(COLLEGE));
    assert!(
        page.body.contains("La délégation est accordée"),
        "{}",
        page.body
    );
    let roles = op
        .app
        .durable
        .roles_of(&cast.other_head.staff.id)
        .await
        .unwrap();
    let granted = roles
        .iter()
        .find(|r| r.kind == RoleKind::Delegate)
        .expect("the delegation");
    assert!(granted.guardians && !granted.pupils && granted.ends_at.is_none());
    assert_eq!(granted.granted_by, "staff:m.bernard");
    // Twice is refused: one delegation in force per establishment.
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &delegations(COLLEGE),
            &[("qui", "existant"), ("login", "p.lycee"), ("pupils", "1")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("déjà une délégation en vigueur"));
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &format!("{}/retirer", delegations(COLLEGE)),
            &[("role", &granted.id)],
        )
        .await;
    assert!(
        page.body.contains("La délégation est retirée"),
        "{}",
        page.body
    );
    let revoked = op.app.durable.role(&granted.id).await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());

    // An operator may open the page too (every right, nationally).
    let operator = signed_in(&op, &cast.operator, true).await;
    assert_eq!(operator.get(&delegations(COLLEGE)).await.status, 200);

    // Every refusal outside the rights is in the trail, at the collège.
    let events = op
        .app
        .durable
        .events(&educonnect::store::AuditQuery {
            uai: Some(COLLEGE.into()),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    for who in ["j.adjoint", "s.secretariat", "p.lycee", "a.rectorat"] {
        let refused: Vec<_> = events
            .iter()
            .filter(|e| e.actor == format!("staff:{who}") && e.outcome == "refused")
            .filter_map(|e| e.detail.clone())
            .collect();
        for attempted in [
            "delegations.read",
            "delegation.granted",
            "delegation.revoked",
        ] {
            let named = |d: &String| d.split_whitespace().next() == Some(attempted);
            assert!(refused.iter().any(named), "{who}: {refused:?}");
        }
    }
    assert!(events
        .iter()
        .any(|e| e.action == "delegation.revoked" && e.actor == "staff:m.bernard"));
}

async fn a_new_delegate_gets_an_initial_password_once_and_enrols_at_the_first_sign_in(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let head = signed_in(&op, &cast.head, true).await;
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &delegations(COLLEGE),
            &fields(&new_secretary("")),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let password = text_of(&page.body, "mot-de-passe-initial").expect("the initial password");
    assert!(page.body.contains("main propre"));
    let created = op
        .app
        .durable
        .staff_credentials("c.durand")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(created.staff.display_name(), "Claire Durand");
    assert!(created.totp_sealed.is_none());
    let roles = op.app.durable.roles_of(&created.staff.id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].kind, RoleKind::Delegate);
    assert!(roles[0].pupils && !roles[0].guardians);
    // Shown once: the delegations page never shows it again.
    let page = head.get(&delegations(COLLEGE)).await;
    assert!(page.body.contains("c.durand"));
    assert!(!page.body.contains(&password));
    // The password is never in the trail.
    let events = op
        .app
        .durable
        .events(&educonnect::store::AuditQuery {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events.iter().all(|e| {
        let text = format!("{e:?}");
        !text.contains(&password)
    }));

    // Her first sign-in enrols her second factor.
    let (gestion, _) = first_sign_in(&op, created.staff, password).await;
    let page = gestion.get("/gestion/accueil").await;
    assert!(page.body.contains(COLLEGE), "{}", page.body);
    assert!(page.body.contains("comptes élèves"));
}

/// A new staff member's first sign-in: the password, then the second factor enrolled from the
/// secret the page shows. Returns their browser, and them with their secret.
pub(crate) async fn first_sign_in(
    op: &TestOp,
    staff: educonnect::staff::Staff,
    password: String,
) -> (Gestion<'_>, TestStaff) {
    let mut who = TestStaff {
        staff,
        password,
        totp: None,
    };
    let gestion = Gestion::new(op);
    let page = gestion.sign_in_password(&who).await;
    assert_eq!(page.path, "/gestion/second-facteur");
    let base32 = text_of(&page.body, "cle-otp").expect("the secret shown");
    let secret = totp::from_base32(&base32).unwrap();
    let code = totp::code_at(&secret, (op.app.now_ms() / 1000) as u64).unwrap();
    let csrf = hidden(&page.body, "csrf").unwrap();
    let page = gestion
        .post("/gestion/second-facteur", &csrf, &[("code", &code)])
        .await;
    assert_eq!(page.path, "/gestion/accueil", "{}", page.body);
    who.totp = Some(secret);
    op.clock.advance(Duration::from_secs(totp::STEP));
    (gestion, who)
}

async fn the_designation_forms_say_what_is_wrong_and_change_nothing(backend: Backend) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let head = signed_in(&op, &cast.head, true).await;
    let before = snapshot(&op).await;
    let today = Date::from_epoch_ms(op.app.now_ms()).to_string();
    let cases: Vec<FormCase> = vec![
        (
            vec![
                ("qui", "nouveau"),
                ("login", "c.durand"),
                ("given_name", "Claire"),
                ("family_name", "Durand"),
                ("email", "c.durand@etab.example"),
            ],
            400,
            "nouveau-droits-erreur",
            "Cochez au moins un droit",
        ),
        (
            vec![
                ("qui", "nouveau"),
                ("login", "c.durand"),
                ("given_name", "Claire"),
                ("family_name", "Durand"),
                ("email", "c.durand@etab.example"),
                ("pupils", "1"),
                ("ends_on", &today),
            ],
            400,
            "nouveau-fin-erreur",
            "La date de fin est à venir",
        ),
        (
            vec![
                ("qui", "nouveau"),
                ("login", "c.durand"),
                ("given_name", ""),
                ("family_name", "Durand"),
                ("email", "c.durand@etab.example"),
                ("pupils", "1"),
                ("ends_on", "2026-13-01"),
            ],
            400,
            "nouveau-prenom-erreur",
            "Saisissez le prénom",
        ),
        (
            vec![
                ("qui", "nouveau"),
                ("login", "s.secretariat"),
                ("given_name", "Claire"),
                ("family_name", "Durand"),
                ("email", "c.durand@etab.example"),
                ("pupils", "1"),
            ],
            409,
            "nouveau-login-erreur",
            "est déjà pris",
        ),
        (
            vec![
                ("qui", "nouveau"),
                ("login", "c.durand"),
                ("given_name", "Claire"),
                ("family_name", "Durand"),
                ("email", "pas-une-adresse"),
                ("pupils", "1"),
            ],
            400,
            "message",
            "Adresse électronique invalide",
        ),
        (
            vec![
                ("qui", "existant"),
                ("login", "personne.inconnue"),
                ("pupils", "1"),
            ],
            404,
            "existant-login-erreur",
            "Aucun personnel d&#39;identifiant personne.inconnue",
        ),
    ];
    for (form, status, id, message) in cases {
        let page = head
            .post_from(&delegations(COLLEGE), &delegations(COLLEGE), &form)
            .await;
        assert_eq!(page.status, status, "{form:?}: {}", page.body);
        assert!(page.body.contains("<title>Erreur : "), "{form:?}");
        let shown = page
            .body
            .split(&format!("id=\"{id}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no #{id} for {form:?}: {}", page.body));
        assert!(shown.contains(message), "{form:?}: {shown}");
        if id != "message" {
            assert!(
                page.body.contains(&format!("aria-describedby=\"{id}")),
                "{id} is tied to its field"
            );
        }
        // What was typed is kept.
        assert!(page.body.contains("value=\"Durand\"") || form[0].1 == "existant");
        assert_eq!(snapshot(&op).await, before, "{form:?} changed something");
    }
}

async fn a_delegation_stops_giving_rights_at_its_end_date(backend: Backend) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let head = signed_in(&op, &cast.head, true).await;
    let tomorrow = Date::from_epoch_ms(op.app.now_ms() + DAY.as_millis() as i64).to_string();
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &delegations(COLLEGE),
            &fields(&new_secretary(&tomorrow)),
        )
        .await;
    let password = text_of(&page.body, "mot-de-passe-initial").expect("created");
    let created = op
        .app
        .durable
        .staff_credentials("c.durand")
        .await
        .unwrap()
        .unwrap()
        .staff;
    let role = op
        .app
        .durable
        .roles_of(&created.id)
        .await
        .unwrap()
        .remove(0);
    let end = role.ends_at.expect("an end date");
    assert_eq!(Date::from_epoch_ms(end).to_string(), tomorrow);
    assert_eq!(
        end % DAY.as_millis() as i64,
        0,
        "at the start of the day, UTC"
    );
    let page = head.get(&delegations(COLLEGE)).await;
    assert!(page.body.contains("en vigueur"));

    let college = Uai::parse(COLLEGE).unwrap();
    let roles = op.app.durable.roles_of(&created.id).await.unwrap();
    let actor = educonnect::staff::actor(&created, &roles, true, op.app.now_ms());
    assert!(actor.check(&college, Right::Pupils).is_ok());
    assert!(actor.check(&college, Right::Guardians).is_err());
    let (gestion, secretary) = first_sign_in(&op, created.clone(), password).await;
    assert!(gestion.get("/gestion/accueil").await.body.contains(COLLEGE));

    // The day after its end date: nothing left, at her next sign-in and in the domain.
    op.clock.advance(DAY + DAY);
    let actor = educonnect::staff::actor(&created, &roles, true, op.app.now_ms());
    assert!(actor.check(&college, Right::Pupils).is_err());
    assert!(matches!(
        establishments::establishment(&actor, &*op.app.durable, &college).await,
        Err(OperationError::OutOfScope)
    ));
    let page = signed_in(&op, &secretary, true)
        .await
        .get("/gestion/accueil")
        .await;
    assert!(!page.body.contains(COLLEGE), "{}", page.body);
    assert!(page.body.contains("Aucun rôle ne vous est attribué"));
    let page = signed_in(&op, &cast.head, true)
        .await
        .get(&delegations(COLLEGE))
        .await;
    let row = page
        .body
        .split("c.durand")
        .nth(1)
        .expect("an ended delegation is still listed");
    assert!(
        row.split("</tr>").next().unwrap().contains("terminée"),
        "{row}"
    );
}

async fn a_revoked_delegation_gives_nothing_at_the_delegates_next_request(backend: Backend) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let delegate = signed_in(&op, &cast.delegate, true).await;
    let page = delegate.get("/gestion/accueil").await;
    assert!(page.body.contains(COLLEGE), "{}", page.body);
    let role = op
        .app
        .durable
        .roles_of(&cast.delegate.staff.id)
        .await
        .unwrap()[0]
        .id
        .clone();
    let head = signed_in(&op, &cast.head, true).await;
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &format!("{}/retirer", delegations(COLLEGE)),
            &[("role", &role)],
        )
        .await;
    assert!(page.body.contains("La délégation est retirée"));
    assert!(!page.body.contains(&format!("value=\"{role}\"")));

    // Same session, next request: no role left.
    let page = delegate.get("/gestion/accueil").await;
    assert_eq!(page.path, "/gestion/accueil");
    assert!(!page.body.contains(COLLEGE), "{}", page.body);
    assert!(page.body.contains("Aucun rôle ne vous est attribué"));
    let roles = op
        .app
        .durable
        .roles_of(&cast.delegate.staff.id)
        .await
        .unwrap();
    let actor = educonnect::staff::actor(&cast.delegate.staff, &roles, true, op.app.now_ms());
    let college = Uai::parse(COLLEGE).unwrap();
    for right in [Right::View, Right::Pupils, Right::Guardians] {
        assert!(actor.check(&college, right).is_err(), "{right:?}");
    }
    // Revoking again: no such delegation in force.
    let page = head
        .post_from(
            &delegations(COLLEGE),
            &format!("{}/retirer", delegations(COLLEGE)),
            &[("role", &role)],
        )
        .await;
    assert_eq!(page.status, 404);
}
