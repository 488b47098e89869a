//! Staff management (issue #16): the operators' page (`/gestion/personnels`) creates heads,
//! deputies, assistance agents and operators, gives and revokes roles; no one else may, not
//! even a head with the second factor. The administration API does the same through the same
//! domain functions, which refuse scoped actors alike.

use educonnect::establishments::{Actor, OperationError};
use educonnect::siecle::Uai;
use educonnect::staff::delegations::{self, Designation, Designee};
use educonnect::staff::directory::{self as staff_directory, NewStaff};
use educonnect::staff::RoleKind;
use serde_json::{json, Value};

use crate::common::staff::directory;
use crate::common::{Backend, TestOp};
use crate::gestion_delegations::{cast, signed_in, snapshot, text_of, COLLEGE, LYCEE};

/// A form, the status it gets, and the element with the error.
type FormCase<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

crate::on_both_backends!(
    operators_create_staff_and_give_and_take_roles_and_no_one_else_does,
    the_api_designates_revokes_and_creates_staff_and_the_domain_refuses_scoped_actors,
);

const PATH: &str = "/gestion/personnels";

fn new_head(login: &str) -> Vec<(&'static str, String)> {
    vec![
        ("login", login.into()),
        ("given_name", "Hélène".into()),
        ("family_name", "Principal".into()),
        ("email", format!("{login}@etab.example")),
        ("role", "head".into()),
        ("uai", LYCEE.into()),
    ]
}

fn fields<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn operators_create_staff_and_give_and_take_roles_and_no_one_else_does(backend: Backend) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let store = &*op.app.durable;
    let deputy_role = store.roles_of(&cast.deputy.staff.id).await.unwrap()[0]
        .id
        .clone();
    let before = snapshot(&op).await;

    // Refused, second factor or not: a head, a deputy, a delegate, an assistance agent.
    for who in [&cast.head, &cast.deputy, &cast.delegate, &cast.agent] {
        let gestion = signed_in(&op, who, true).await;
        assert_eq!(gestion.get(PATH).await.status, 403, "{}", who.staff.login);
        let form = new_head("h.nouvelle");
        let page = gestion
            .post_from("/gestion/accueil", PATH, &fields(&form))
            .await;
        assert_eq!(page.status, 403, "{} creates", who.staff.login);
        let page = gestion
            .post_from(
                "/gestion/accueil",
                "/gestion/personnels/roles",
                &[("login", who.staff.login.as_str()), ("role", "operator")],
            )
            .await;
        assert_eq!(page.status, 403, "{} grants", who.staff.login);
        let page = gestion
            .post_from(
                "/gestion/accueil",
                "/gestion/personnels/roles/retirer",
                &[("role", &deputy_role)],
            )
            .await;
        assert_eq!(page.status, 403, "{} revokes", who.staff.login);
        assert_eq!(
            snapshot(&op).await,
            before,
            "{} changed something",
            who.staff.login
        );
    }
    assert!(store
        .staff_credentials("h.nouvelle")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .roles_of(&cast.head.staff.id)
        .await
        .unwrap()
        .iter()
        .all(|r| r.kind != RoleKind::Operator));
    // An operator with the password alone: the second factor first.
    let password_only = signed_in(&op, &cast.operator, false).await;
    assert_eq!(
        password_only.get(PATH).await.path,
        "/gestion/second-facteur"
    );
    let page = password_only
        .post_from("/gestion/accueil", PATH, &fields(&new_head("h.nouvelle")))
        .await;
    assert_eq!(page.path, "/gestion/second-facteur");
    assert_eq!(snapshot(&op).await, before);

    let operator = signed_in(&op, &cast.operator, true).await;
    let page = operator.get(PATH).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "m.bernard",
        "a.rectorat",
        "académie de Lyon",
        "UAI 0699990J",
        "enrôlé",
    ] {
        assert!(page.body.contains(shown), "{shown}");
    }
    // A head for the lycée, with the initial password shown once.
    let page = operator
        .post_from(PATH, PATH, &fields(&new_head("h.nouvelle")))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let password = text_of(&page.body, "mot-de-passe-initial").expect("the password");
    assert!(!operator.get(PATH).await.body.contains(&password));
    let created = store
        .staff_credentials("h.nouvelle")
        .await
        .unwrap()
        .unwrap();
    let roles = store.roles_of(&created.staff.id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].kind, RoleKind::Head);
    assert_eq!(roles[0].granted_by, "staff:o.national");
    // An assistance agent for an académie chosen in the list.
    let page = operator
        .post_from(
            PATH,
            PATH,
            &[
                ("login", "g.assistance"),
                ("given_name", "Gaël"),
                ("family_name", "Assistance"),
                ("email", "g.assistance@ac-lyon.example"),
                ("role", "assistance"),
                ("academy", "Grenoble"),
            ],
        )
        .await;
    assert_eq!(page.status, 200);
    let agent = store
        .staff_credentials("g.assistance")
        .await
        .unwrap()
        .unwrap();
    let roles = store.roles_of(&agent.staff.id).await.unwrap();
    assert_eq!(
        roles[0].scope,
        educonnect::staff::RoleScope::Academy("Grenoble")
    );

    // Mistakes are said on their field, and nothing is created.
    let cases: Vec<FormCase> = vec![
        (
            vec![
                ("login", "x.y"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("email", "x@y.example"),
                ("role", "head"),
            ],
            400,
            "inscrire-uai-erreur",
        ),
        (
            vec![
                ("login", "x.y"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("email", "x@y.example"),
                ("role", "head"),
                ("uai", "0699990A"),
            ],
            400,
            "inscrire-uai-erreur",
        ),
        (
            vec![
                ("login", "x.y"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("email", "x@y.example"),
                ("role", "assistance"),
            ],
            400,
            "inscrire-academie-erreur",
        ),
        (
            vec![
                ("login", "x.y"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("email", "x@y.example"),
                ("role", "delegate"),
                ("uai", COLLEGE),
            ],
            400,
            "inscrire-role-erreur",
        ),
        (
            vec![
                ("login", "m.bernard"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("email", "x@y.example"),
                ("role", "operator"),
            ],
            409,
            "inscrire-login-erreur",
        ),
        (
            vec![
                ("login", "x.y"),
                ("given_name", ""),
                ("family_name", "Y"),
                ("email", "x@y.example"),
                ("role", "operator"),
            ],
            400,
            "inscrire-prenom-erreur",
        ),
    ];
    for (form, status, id) in cases {
        let page = operator.post_from(PATH, PATH, &form).await;
        assert_eq!(page.status, status, "{form:?}: {}", page.body);
        assert!(page.body.contains(&format!("id=\"{id}\"")), "{form:?}");
        assert!(
            page.body.contains(&format!("aria-describedby=\"{id}")),
            "{form:?}"
        );
        assert!(page.body.contains("<title>Erreur : "));
    }
    assert!(store.staff_credentials("x.y").await.unwrap().is_none());

    // A deputy role given to an existing staff member, then revoked.
    let page = operator
        .post_from(
            PATH,
            "/gestion/personnels/roles",
            &[
                ("login", "a.rectorat"),
                ("role", "deputy"),
                ("uai", "0699991k"),
            ],
        )
        .await;
    assert!(page.body.contains("Le rôle est attribué"), "{}", page.body);
    let roles = store.roles_of(&cast.agent.staff.id).await.unwrap();
    let deputy = roles.iter().find(|r| r.kind == RoleKind::Deputy).unwrap();
    assert_eq!(
        deputy.scope,
        educonnect::staff::RoleScope::Establishment(Uai::parse(LYCEE).unwrap())
    );
    let page = operator
        .post_from(
            PATH,
            "/gestion/personnels/roles",
            &[("login", "personne"), ("role", "operator")],
        )
        .await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("attribuer-login-erreur"));
    let page = operator
        .post_from(
            PATH,
            "/gestion/personnels/roles/retirer",
            &[("role", &deputy.id)],
        )
        .await;
    assert!(page.body.contains("Le rôle est retiré"), "{}", page.body);
    assert!(store
        .role(&deputy.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    // The operator's journal says who did it.
    let page = operator.get("/gestion/journal").await;
    for shown in [
        "Personnel créé",
        "Rôle attribué",
        "Rôle retiré",
        "Opération refusée",
    ] {
        assert!(page.body.contains(shown), "{shown}");
    }
}

async fn the_api_designates_revokes_and_creates_staff_and_the_domain_refuses_scoped_actors(
    backend: Backend,
) {
    let (op, token) = crate::admin::admin_op(backend).await;
    let cast = cast(&op).await;
    let store = &*op.app.durable;
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = http.request(method, op.url(path)).bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    use reqwest::Method;

    // A new staff member by the API: the initial password answered once.
    let (status, body) = call(
        Method::POST,
        "/admin/staff",
        Some(
            json!({"login": "d.adjointe", "given_name": "Dana", "family_name": "Adjointe",
                    "email": "d@etab.example", "role": "deputy", "uai": LYCEE}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["initial_password"].as_str().unwrap().len(), 16);
    assert_eq!(body["roles"][0]["role"], "deputy");
    assert_eq!(body["roles"][0]["uai"], LYCEE);
    let (status, _) = call(
        Method::POST,
        "/admin/staff",
        Some(
            json!({"login": "d.adjointe", "given_name": "D", "family_name": "A",
                    "email": "d@etab.example", "role": "operator"}),
        ),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = call(
        Method::POST,
        "/admin/staff",
        Some(json!({"login": "z", "given_name": "D", "family_name": "A",
                    "email": "d@etab.example", "role": "assistance", "academy": "Atlantis"})),
    )
    .await;
    assert_eq!(status, 400);

    // Delegations: a new staff member, an existing one, mistakes.
    let (status, body) = call(
        Method::POST,
        "/admin/establishments/0699990J/delegations",
        Some(
            json!({"login": "c.durand", "given_name": "Claire", "family_name": "Durand",
                    "email": "c@etab.example", "pupils": true, "ends_at": "2199-12-31"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["initial_password"].is_string());
    assert_eq!(body["role"]["pupils"], true);
    assert_eq!(body["role"]["guardians"], false);
    let new_role = body["role"]["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        Method::POST,
        "/admin/establishments/0699990J/delegations",
        Some(json!({"login": "d.adjointe", "guardians": true})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["initial_password"].is_null());
    for (wrong, expected) in [
        (
            json!({"login": "d.adjointe", "pupils": true, "email": "x@y.example"}),
            400,
        ),
        (json!({"login": "nobody.here", "pupils": true}), 404),
        (
            json!({"login": "e.x", "given_name": "E", "family_name": "X", "email": "e@x.example"}),
            400,
        ),
        (
            json!({"login": "e.x", "given_name": "E", "family_name": "X", "email": "e@x.example", "pupils": true, "ends_at": 5}),
            400,
        ),
        (
            json!({"login": "e.x", "given_name": "E", "family_name": "X", "email": "e@x.example", "pupils": true, "ends_at": "demain"}),
            400,
        ),
    ] {
        let (status, body) = call(
            Method::POST,
            "/admin/establishments/0699990J/delegations",
            Some(wrong.clone()),
        )
        .await;
        assert_eq!(status, expected, "{wrong}: {body}");
    }
    assert!(store.staff_credentials("e.x").await.unwrap().is_none());
    let (status, body) = call(Method::GET, "/admin/establishments/0699990J/staff", None).await;
    assert_eq!(status, 200);
    let logins: Vec<&str> = body["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["staff"]["login"].as_str().unwrap())
        .collect();
    for login in [
        "m.bernard",
        "j.adjoint",
        "s.secretariat",
        "c.durand",
        "d.adjointe",
    ] {
        assert!(logins.contains(&login), "{login}: {logins:?}");
    }
    let (status, _) = call(Method::DELETE, &format!("/admin/roles/{new_role}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(Method::DELETE, &format!("/admin/roles/{new_role}"), None).await;
    assert_eq!(status, 404);
    let (status, body) = call(Method::GET, "/admin/establishments/0699990J/audit", None).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"delegation.granted") && actions.contains(&"delegation.revoked"));

    // The same domain functions refuse scoped actors, and change nothing.
    let before = snapshot(&op).await;
    let now = op.app.now_ms();
    let actor_of = |who: &crate::common::staff::TestStaff, strong: bool| {
        let who = who.staff.clone();
        async move {
            let roles = store.roles_of(&who.id).await.unwrap();
            educonnect::staff::actor(&who, &roles, strong, now)
        }
    };
    let college = Uai::parse(COLLEGE).unwrap();
    let designation = Designation {
        designee: Designee::New(NewStaff {
            login: "f.refus".into(),
            given_name: "F".into(),
            family_name: "Refus".into(),
            email: "f@etab.example".into(),
        }),
        pupils: true,
        guardians: false,
        ends_at: None,
    };
    let dir = directory(&op);
    let delegate_role = store.roles_of(&cast.delegate.staff.id).await.unwrap()[0]
        .id
        .clone();
    let scoped: Vec<(Actor, bool)> = vec![
        (actor_of(&cast.deputy, true).await, false),
        (actor_of(&cast.delegate, true).await, false),
        (actor_of(&cast.other_head, true).await, false),
        (actor_of(&cast.agent, true).await, false),
        (actor_of(&cast.head, false).await, true),
    ];
    for (actor, step_up) in &scoped {
        let expected = |error: &OperationError| {
            if *step_up {
                matches!(error, OperationError::SecondFactorRequired)
            } else {
                matches!(error, OperationError::OutOfScope)
            }
        };
        let error = delegations::designate(actor, &dir, &college, &designation, now)
            .await
            .unwrap_err();
        assert!(expected(&error), "{actor}: {error:?}");
        let error = delegations::delegations(actor, &dir, &college, now)
            .await
            .unwrap_err();
        assert!(expected(&error), "{actor}: {error:?}");
        let error = delegations::revoke_delegation(actor, &dir, &college, &delegate_role, now)
            .await
            .unwrap_err();
        assert!(expected(&error), "{actor}: {error:?}");
        // Staff management is the operators': a head is out of scope even when strong.
        let request = delegations::staff_role(RoleKind::Operator, None, None).unwrap();
        let error = staff_directory::grant_role(actor, &dir, "m.bernard", &request, now)
            .await
            .unwrap_err();
        assert!(
            matches!(error, OperationError::OutOfScope),
            "{actor}: {error:?}"
        );
        assert!(matches!(
            delegations::staff_overview(actor, &dir, now).await,
            Err(OperationError::OutOfScope)
        ));
        assert_eq!(snapshot(&op).await, before, "{actor} changed something");
    }
    let strong_head = actor_of(&cast.head, true).await;
    let error = staff_directory::revoke_role(
        &strong_head,
        &dir,
        &store.roles_of(&cast.head.staff.id).await.unwrap()[0].id,
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, OperationError::OutOfScope), "{error:?}");
    assert_eq!(snapshot(&op).await, before);
}
