//! Assistance requests (issue #16): filed by an establishment's staff (or a national operator
//! on a guardian's behalf), routed to the académie of the UAI, handled there — comments, status
//! changes, closing — with the requester told by e-mail at each change through a real SMTP
//! server; who may file, read, comment and handle, over the pages and the administration API,
//! each refusal changing nothing; validation answered in French, writing nothing. Both backends.

use educonnect::accounts::Profile;
use educonnect::assistance::{self, Change, Desk, QueueFilter, Status};
use educonnect::establishments::{Actor, OperationError};
use educonnect::maintenance::deliver_once;
use educonnect::secrets::{admin_token, digest};
use educonnect::staff::directory::RoleRequest;
use educonnect::staff::{RoleKind, RoleScope};
use educonnect::store::{AssistanceQuery, AuditQuery};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::smtp::{Received, SmtpServer};
use crate::common::staff::{self, Gestion, TestStaff};
use crate::common::{Backend, TestOp};
use crate::demo::{COLLEGE, LYCEE};

crate::on_both_backends!(
    a_lyon_request_reaches_the_lyon_assistance_only_and_the_requester_hears_of_each_change,
    an_operator_files_on_behalf_of_a_guardian_on_the_page_and_through_the_api,
    a_refused_request_is_answered_in_french_and_writes_nothing,
    the_establishment_files_reads_and_comments_but_only_the_assistance_handles,
    another_establishment_and_another_academie_learn_nothing_and_change_nothing,
);

const SENDER: &str = "ne-pas-repondre@educonnect.test";

/// The demo provider (the collège and the lycée of the académie de Lyon, named), with an
/// administration token and, when given, an SMTP server to send through.
async fn provider(backend: Backend, smtp: Option<&SmtpServer>) -> (TestOp, String) {
    let token = admin_token();
    let token_digest = digest(token.as_bytes());
    let url = smtp.map(SmtpServer::url);
    let op = TestOp::start_with(backend, |config| {
        config.demo = Some(true);
        config.admin.token_digests = vec![token_digest];
        if let Some(url) = url {
            config.smtp.url = url;
            config.smtp.from_address = SENDER.into();
            config.smtp.timeout_seconds = 5;
        }
    })
    .await;
    educonnect::demo::seed(&op.app).await.expect("demo seed");
    (op, token)
}

fn desk(op: &TestOp) -> Desk<'_> {
    let store = &*op.app.durable;
    Desk {
        requests: store,
        accounts: store,
        directory: store,
        staff: store,
        audit: store,
        kek: op.app.keys.kek(),
        service_url: &op.issuer,
    }
}

/// The actor a staff member is in the back-office (as `Signed` makes it).
async fn actor_of(op: &TestOp, who: &TestStaff, second_factor: bool) -> Actor {
    let roles = op.app.durable.roles_of(&who.staff.id).await.unwrap();
    educonnect::staff::actor(&who.staff, &roles, second_factor, op.app.now_ms())
}

/// A login of a pupil enrolled at `uai`.
async fn pupil_of(op: &TestOp, uai: &str) -> String {
    let targets = op
        .app
        .durable
        .notification_targets(uai, Profile::Pupil)
        .await
        .unwrap();
    targets[0].account.login.clone()
}

async fn requests_of(op: &TestOp, uai: &str) -> Vec<assistance::AssistanceRequest> {
    let query = AssistanceQuery {
        uai: Some(uai.into()),
        limit: 100,
        ..AssistanceQuery::default()
    };
    op.app.durable.assistance_requests(&query).await.unwrap()
}

async fn outbox_size(op: &TestOp) -> usize {
    op.app.durable.recent_messages(1000).await.unwrap().len()
}

/// Delivers what is due, then the messages received so far.
async fn delivered(op: &TestOp, smtp: &SmtpServer, expected: usize) -> Vec<Received> {
    deliver_once(&op.app)
        .await
        .unwrap()
        .expect("an SMTP server is configured");
    smtp.wait_for(expected).await
}

/// The request's number, from the page filing landed on.
fn filed_number(page: &staff::Page) -> String {
    assert!(
        page.path.starts_with("/gestion/assistance/DA-"),
        "{} {}",
        page.path,
        page.body
    );
    page.path
        .trim_start_matches("/gestion/assistance/")
        .to_owned()
}

async fn file_as(
    gestion: &Gestion<'_>,
    uai: &str,
    category: &str,
    accounts: &str,
    description: &str,
) -> staff::Page {
    let path = format!("/gestion/etablissements/{uai}/assistance");
    gestion
        .post_from(
            &path,
            &path,
            &[
                ("category", category),
                ("accounts", accounts),
                ("description", description),
            ],
        )
        .await
}

fn api(op: &TestOp, token: &str) -> impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder {
    let token = token.to_owned();
    let issuer = op.issuer.clone();
    move |method, path| {
        reqwest::Client::new()
            .request(method, format!("{issuer}{path}"))
            .bearer_auth(&token)
    }
}

async fn a_lyon_request_reaches_the_lyon_assistance_only_and_the_requester_hears_of_each_change(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let (op, _) = provider(backend, Some(&smtp)).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let lyon = staff::add_enrolled(&op, "r.garnier", staff::assistance("Lyon")).await;
    let paris = staff::add_enrolled(&op, "p.lefevre", staff::assistance("Paris")).await;
    let pupil = pupil_of(&op, COLLEGE).await;

    // The head files with the password alone: filing needs no second factor.
    let at_school = Gestion::new(&op);
    at_school.sign_in(&head).await;
    let page = file_as(
        &at_school,
        COLLEGE,
        "cannot_activate",
        &format!("{pupil}\n"),
        "L'élève ne parvient pas à activer son compte :\nle mot de passe provisoire est refusé.",
    )
    .await;
    assert_eq!(page.status, 200);
    let id = filed_number(&page);
    assert!(page.body.contains("est déposée"), "{}", page.body);
    assert!(page.body.contains("académie de Lyon"));
    assert!(page.body.contains(&pupil));
    let request = op.app.durable.assistance(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            request.academy.as_str(),
            request.status,
            request.accounts.len()
        ),
        ("Lyon", Status::Open, 1)
    );
    assert_eq!(request.filed_by.as_deref(), Some(head.staff.id.as_str()));

    // The académie de Lyon's agent is told; the agent of Paris is not.
    let mail = delivered(&op, &smtp, 1).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].rcpt_tos, std::slice::from_ref(&lyon.staff.email));
    assert!(mail[0].subject.contains(&id), "{}", mail[0].subject);
    assert!(mail[0].subject.contains("Collège de démonstration"));
    let text = mail[0].text.as_deref().unwrap();
    assert!(
        text.contains(&op.url(&format!("/gestion/assistance/{id}"))),
        "{text}"
    );
    assert!(text.contains("Activation impossible"));

    // The Lyon agent's queue has it; the Paris agent's does not, nor may they open it.
    let agent = Gestion::new(&op);
    agent.sign_in(&lyon).await;
    let queue = agent.get("/gestion/assistance").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains(&id), "{}", queue.body);
    assert!(queue.body.contains("Collège de démonstration"));
    let elsewhere = Gestion::new(&op);
    elsewhere.sign_in(&paris).await;
    let queue = elsewhere.get("/gestion/assistance").await;
    assert_eq!(queue.status, 200);
    assert!(!queue.body.contains(&id));
    let page = elsewhere.get(&format!("/gestion/assistance/{id}")).await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("mot de passe provisoire est refusé"));
    let csrf = staff::hidden(&queue.body, "csrf").unwrap();
    let tried = elsewhere
        .post(
            &format!("/gestion/assistance/{id}/commentaire"),
            &csrf,
            &[("comment", "Depuis Paris")],
        )
        .await;
    assert_eq!(tried.status, 403);
    let tried = elsewhere
        .post(
            &format!("/gestion/assistance/{id}/statut"),
            &csrf,
            &[("status", "closed")],
        )
        .await;
    assert_eq!(tried.status, 403);
    // A request that does not exist answers the same.
    let unknown = elsewhere.get("/gestion/assistance/DA-AAAA-AAAA").await;
    assert_eq!((unknown.status, unknown.body), (403, page.body));
    // The same functions the API calls, as the Paris agent: refused alike.
    let as_paris = actor_of(&op, &paris, true).await;
    let desk = desk(&op);
    assert!(matches!(
        assistance::request(&as_paris, &desk, &id, op.app.now_ms()).await,
        Err(OperationError::OutOfScope)
    ));
    let comment = Change {
        comment: Some("Depuis Paris".into()),
        status: None,
    };
    assert!(matches!(
        assistance::update(
            &as_paris,
            &desk,
            Some(&paris.staff),
            &id,
            &comment,
            op.app.now_ms()
        )
        .await,
        Err(OperationError::OutOfScope)
    ));
    let lyon_only = QueueFilter {
        academy: Some("Lyon"),
        status: None,
    };
    assert!(matches!(
        assistance::queue(&as_paris, &desk, &lyon_only).await,
        Err(OperationError::OutOfScope)
    ));
    assert!(op
        .app
        .durable
        .assistance_events(&id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        op.app
            .durable
            .assistance(&id)
            .await
            .unwrap()
            .unwrap()
            .status,
        Status::Open
    );
    let refused = op
        .app
        .durable
        .events(&AuditQuery {
            subject: Some(format!("request:{id}")),
            limit: 50,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let by_paris = refused
        .iter()
        .filter(|e| e.actor == "staff:p.lefevre" && e.outcome == "refused")
        .count();
    assert!(by_paris >= 4, "{refused:?}");

    // The Lyon agent comments: the head is told, with the comment and the link.
    let detail = format!("/gestion/assistance/{id}");
    let page = agent
        .post_from(
            &detail,
            &format!("{detail}/commentaire"),
            &[("comment", "Nous regardons le compte de cet élève.")],
        )
        .await;
    assert_eq!(page.path, detail);
    assert!(page.body.contains("Votre commentaire est enregistré"));
    let mail = delivered(&op, &smtp, 2).await;
    assert_eq!(mail[1].rcpt_tos, std::slice::from_ref(&head.staff.email));
    assert!(mail[1].subject.contains(&id) && mail[1].subject.contains("commentée"));
    let text = mail[1].text.as_deref().unwrap();
    assert!(
        text.contains("Nous regardons le compte de cet élève."),
        "{text}"
    );
    assert!(text.contains(&op.url(&detail)));

    // Taken in hand, then closed: the head hears of each.
    let page = agent
        .post_from(
            &detail,
            &format!("{detail}/statut"),
            &[("status", "in_progress")],
        )
        .await;
    assert!(
        page.body.contains("« En cours de traitement »"),
        "{}",
        page.body
    );
    let page = agent
        .post_from(
            &detail,
            &format!("{detail}/statut"),
            &[
                ("status", "closed"),
                ("comment", "Mot de passe réinitialisé."),
            ],
        )
        .await;
    assert!(page.body.contains("« Clôturée »"));
    let mail = delivered(&op, &smtp, 4).await;
    assert_eq!(mail.len(), 4);
    assert!(mail[2].subject.contains("prise en charge"));
    assert!(mail[3].subject.contains("clôturée"), "{}", mail[3].subject);
    let text = mail[3].text.as_deref().unwrap();
    assert!(
        text.contains("Nouveau statut : Clôturée") && text.contains("Mot de passe réinitialisé.")
    );
    assert!(mail[2..]
        .iter()
        .all(|m| m.rcpt_tos == [head.staff.email.clone()]));

    // The queue filters by status.
    let open = agent.get("/gestion/assistance?statut=open").await;
    assert!(!open.body.contains(&id));
    let closed = agent.get("/gestion/assistance?statut=closed").await;
    assert!(closed.body.contains(&id));

    // The head reads the follow-up; the agent reopens.
    let page = at_school.get(&detail).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Nous regardons le compte de cet élève."));
    assert!(page.body.contains("En cours de traitement → Clôturée"));
    let page = agent
        .post_from(&detail, &format!("{detail}/statut"), &[("status", "open")])
        .await;
    assert!(page.body.contains("« Ouverte »"));
    let events = op.app.durable.assistance_events(&id).await.unwrap();
    assert_eq!(events.len(), 4);
    assert!(events
        .iter()
        .all(|e| e.by_assistance && e.author == "staff:r.garnier"));

    // The audit names each step.
    let trail = op
        .app
        .durable
        .events(&AuditQuery {
            subject: Some(format!("request:{id}")),
            limit: 50,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let ok: Vec<(&str, &str)> = trail
        .iter()
        .filter(|e| e.outcome == "ok")
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        ok.iter()
            .filter(|a| **a == ("staff:m.bernard", "assistance.filed"))
            .count(),
        1
    );
    assert_eq!(
        ok.iter()
            .filter(|a| **a == ("staff:r.garnier", "assistance.updated"))
            .count(),
        4
    );
    assert!(trail
        .iter()
        .all(|e| e.uai.as_deref() == Some(COLLEGE) || e.outcome == "refused"));
    assert!(trail
        .iter()
        .filter(|e| e.outcome == "ok")
        .all(|e| e.address.is_some()));
}

async fn an_operator_files_on_behalf_of_a_guardian_on_the_page_and_through_the_api(
    backend: Backend,
) {
    let (op, token) = provider(backend, None).await;
    let operator = staff::add_enrolled(
        &op,
        "o.national",
        RoleRequest {
            kind: RoleKind::Operator,
            scope: RoleScope::National,
            pupils: false,
            guardians: false,
            ends_at: None,
        },
    )
    .await;
    let lyon = staff::add_enrolled(&op, "r.garnier", staff::assistance("Lyon")).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;

    // The page: without saying for whom, the request is refused in French.
    let national = Gestion::new(&op);
    national.sign_in(&operator).await;
    let new = "/gestion/assistance/nouvelle";
    let form = |name: &'static str| {
        [
            ("uai", COLLEGE),
            ("on_behalf_name", name),
            ("on_behalf_contact", "06 12 34 56 78"),
            ("category", "account_missing"),
            ("accounts", ""),
            (
                "description",
                "Le compte de son fils n'apparaît pas depuis l'import.",
            ),
        ]
    };
    let page = national.post_from(new, new, &form("")).await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("indiquez le nom et le moyen de contacter")
            || page
                .body
                .contains("Indiquez le nom et le moyen de contacter"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"on_behalf-error\""));
    assert!(requests_of(&op, COLLEGE).await.is_empty());
    let page = national.post_from(new, new, &form("Claire Martin")).await;
    let id = filed_number(&page);
    assert!(
        page.body.contains("Claire Martin (06 12 34 56 78)"),
        "{}",
        page.body
    );
    let request = op.app.durable.assistance(&id).await.unwrap().unwrap();
    assert_eq!(request.on_behalf.unwrap().name, "Claire Martin");
    assert_eq!(
        request.filed_by.as_deref(),
        Some(operator.staff.id.as_str())
    );
    // The agent of Lyon sees it in the queue, marked as filed for a guardian.
    let agent = Gestion::new(&op);
    agent.sign_in(&lyon).await;
    let queue = agent.get("/gestion/assistance").await;
    assert!(queue.body.contains(&id) && queue.body.contains("pour un représentant légal"));
    // The establishment's head may not use the operators' form.
    let school = Gestion::new(&op);
    school.sign_in(&head).await;
    assert_eq!(school.get(new).await.status, 403);

    // The API: a national token files on a guardian's behalf, never without saying for whom.
    let call = api(&op, &token);
    let path = format!("/admin/establishments/{COLLEGE}/assistance-requests");
    let without = call(reqwest::Method::POST, &path)
        .json(&json!({"category": "cannot_link", "description": "Rattachement impossible."}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::BAD_REQUEST);
    let body: Value = without.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("représentant légal"));
    let guardian = op
        .app
        .durable
        .account_by_login("c.martin02")
        .await
        .unwrap()
        .unwrap();
    let filed = call(reqwest::Method::POST, &path)
        .json(&json!({
            "category": "cannot_link",
            "description": "Rattachement impossible.",
            "account_ids": [guardian.id],
            "on_behalf": {"name": "Claire Martin", "contact": "claire.martin@example.org"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), StatusCode::CREATED);
    let body: Value = filed.json().await.unwrap();
    let api_id = body["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["request"]["academy"], "Lyon");
    assert_eq!(body["request"]["status"], "open");
    assert_eq!(body["request"]["accounts"][0]["login"], "c.martin02");
    assert_eq!(body["request"]["filed_by"], Value::Null);

    let listed: Value = call(
        reqwest::Method::GET,
        "/admin/assistance-requests?academy=Lyon&status=open",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let ids: Vec<&str> = listed["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [api_id.as_str(), id.as_str()], "newest first");
    let paris: Value = call(
        reqwest::Method::GET,
        "/admin/assistance-requests?academy=Paris",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(paris["requests"], json!([]));
    let wrong = call(
        reqwest::Method::GET,
        "/admin/assistance-requests?status=fini",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

    let events = format!("/admin/assistance-requests/{api_id}/events");
    let taken = call(reqwest::Method::POST, &events)
        .json(&json!({"status": "in_progress", "comment": "Pris en charge par l'opérateur."}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CREATED);
    let again = call(reqwest::Method::POST, &events)
        .json(&json!({"status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let empty = call(reqwest::Method::POST, &events)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let shown: Value = call(
        reqwest::Method::GET,
        &format!("/admin/assistance-requests/{api_id}"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(shown["request"]["status"], "in_progress");
    assert_eq!(shown["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        shown["events"][0]["body"],
        "Pris en charge par l'opérateur."
    );
    let unknown = call(
        reqwest::Method::GET,
        "/admin/assistance-requests/DA-AAAA-AAAA",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown = call(
        reqwest::Method::POST,
        "/admin/assistance-requests/DA-AAAA-AAAA/events",
    )
    .json(&json!({"comment": "?"}))
    .send()
    .await
    .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn a_refused_request_is_answered_in_french_and_writes_nothing(backend: Backend) {
    let (op, token) = provider(backend, None).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    staff::add_enrolled(&op, "r.garnier", staff::assistance("Lyon")).await;
    let pupil = pupil_of(&op, COLLEGE).await;
    let lycee_pupil = pupil_of(&op, LYCEE).await;
    let gestion = Gestion::new(&op);
    gestion.sign_in(&head).await;
    let not_here = |login: &str| {
        format!("Le compte « {login} » ne fait pas partie des comptes de cet établissement")
    };
    let choose = "Choisissez la nature de la demande".to_owned();
    let describe = "Décrivez la demande : 1 à 4000 caractères".to_owned();
    let cases: [(&str, String, String, &str, String); 6] = [
        (
            "",
            pupil.clone(),
            "Décrit.".into(),
            "category",
            choose.clone(),
        ),
        (
            "other",
            pupil.clone(),
            "   ".into(),
            "description",
            describe.clone(),
        ),
        (
            "other",
            pupil.clone(),
            "é".repeat(4001),
            "description",
            describe,
        ),
        (
            "other",
            lycee_pupil.clone(),
            "Décrit.".into(),
            "accounts",
            not_here(&lycee_pupil),
        ),
        (
            "other",
            "x.inconnu99".into(),
            "Décrit.".into(),
            "accounts",
            not_here("x.inconnu99"),
        ),
        ("perdu", pupil.clone(), "Décrit.".into(), "category", choose),
    ];
    for (category, accounts, description, field, message) in &cases {
        let page = file_as(&gestion, COLLEGE, category, accounts, description).await;
        assert_eq!(page.status, 400, "{field}: {}", page.body);
        assert!(
            page.body.contains(message.as_str()),
            "{field}: {}",
            page.body
        );
        assert!(
            page.body.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"{field}-error\""
            )),
            "{field}"
        );
        assert!(page.body.contains("<title>Erreur : "));
        // What was typed is kept.
        if *field != "description" {
            assert!(page.body.contains(description.as_str()));
        }
        assert!(requests_of(&op, COLLEGE).await.is_empty());
        assert_eq!(outbox_size(&op).await, 0);
    }
    // 4000 characters are accepted.
    let page = file_as(&gestion, COLLEGE, "other", "", &"é".repeat(4000)).await;
    filed_number(&page);
    assert_eq!(requests_of(&op, COLLEGE).await.len(), 1);
    assert_eq!(outbox_size(&op).await, 1, "the agent of Lyon is told");

    // A UAI of no académie cannot file.
    let refused = api(&op, &token)(
        reqwest::Method::POST,
        "/admin/establishments/2530829B/assistance-requests",
    )
    .json(&json!({
        "category": "other",
        "description": "Décrit.",
        "on_behalf": {"name": "Claire Martin", "contact": "0612345678"}
    }))
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("ne relève d'aucune académie"));
    // The API names an unknown category.
    let refused = api(&op, &token)(
        reqwest::Method::POST,
        &format!("/admin/establishments/{COLLEGE}/assistance-requests"),
    )
    .json(&json!({"category": "perdu", "description": "Décrit.",
                  "on_behalf": {"name": "Claire Martin", "contact": "0612345678"}}))
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(requests_of(&op, COLLEGE).await.len(), 1);
}

async fn the_establishment_files_reads_and_comments_but_only_the_assistance_handles(
    backend: Backend,
) {
    let (op, _) = provider(backend, None).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let deputy = staff::add_enrolled(&op, "a.durand", staff::at(RoleKind::Deputy, COLLEGE)).await;
    let pupils_only =
        staff::add_enrolled(&op, "s.petit", staff::delegate(COLLEGE, true, false)).await;
    let guardians_only =
        staff::add_enrolled(&op, "e.roux", staff::delegate(COLLEGE, false, true)).await;
    let lyon = staff::add_enrolled(&op, "r.garnier", staff::assistance("Lyon")).await;
    let pupil = pupil_of(&op, COLLEGE).await;

    // Whoever administers the establishment's accounts files, with the password alone.
    let mut ids = Vec::new();
    for who in [&head, &deputy, &pupils_only, &guardians_only] {
        let gestion = Gestion::new(&op);
        gestion.sign_in(who).await;
        let page = file_as(
            &gestion,
            COLLEGE,
            "cannot_link",
            &pupil,
            "Rattachement impossible.",
        )
        .await;
        ids.push(filed_number(&page));
    }
    assert_eq!(requests_of(&op, COLLEGE).await.len(), 4);

    // The assistance agent reads the establishment's requests but files nothing there.
    let agent = Gestion::new(&op);
    agent.sign_in(&lyon).await;
    let list = agent
        .get(&format!("/gestion/etablissements/{COLLEGE}/assistance"))
        .await;
    assert_eq!(list.status, 200);
    assert!(ids.iter().all(|id| list.body.contains(id)));
    assert!(
        !list.body.contains("Déposer la demande"),
        "no form for the agent"
    );
    let csrf = staff::hidden(&list.body, "csrf").unwrap();
    let tried = agent
        .post(
            &format!("/gestion/etablissements/{COLLEGE}/assistance"),
            &csrf,
            &[("category", "other"), ("description", "Par l'agent.")],
        )
        .await;
    assert_eq!(tried.status, 403);
    assert_eq!(requests_of(&op, COLLEGE).await.len(), 4);
    let as_agent = actor_of(&op, &lyon, true).await;
    let filing = assistance::Filing {
        uai: educonnect::siecle::Uai::parse(COLLEGE).unwrap(),
        category: Some(assistance::Category::Other),
        accounts: Vec::new(),
        description: "Par l'agent.".into(),
        on_behalf: None,
    };
    assert!(matches!(
        assistance::file(
            &as_agent,
            &desk(&op),
            Some(&lyon.staff),
            &filing,
            op.app.now_ms()
        )
        .await,
        Err(OperationError::OutOfScope)
    ));

    // The deputy reads the head's request and comments; the establishment changes no status.
    let head_request = format!("/gestion/assistance/{}", ids[0]);
    let deputy_gestion = Gestion::new(&op);
    deputy_gestion.sign_in(&deputy).await;
    let page = deputy_gestion.get(&head_request).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Traiter la demande"));
    assert!(page
        .body
        .contains(&format!("/gestion/etablissements/{COLLEGE}/comptes/")));
    let page = deputy_gestion
        .post_from(
            &head_request,
            &format!("{head_request}/commentaire"),
            &[("comment", "Précision : l'élève a changé de classe.")],
        )
        .await;
    assert!(
        page.body.contains("Votre commentaire est enregistré"),
        "{}",
        page.body
    );
    let before = op.app.durable.assistance_events(&ids[0]).await.unwrap();
    assert_eq!(before.len(), 1);
    assert!(!before[0].by_assistance);
    // Told: the head (who filed) and the académie's agent.
    let told: Vec<String> = op
        .app
        .durable
        .recent_messages(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.message.subject.contains(&ids[0]) && m.message.subject.contains("commentée"))
        .map(|m| m.message.recipient)
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(told.contains(&head.staff.email) && told.contains(&lyon.staff.email));
    for who in [&head, &deputy] {
        let gestion = Gestion::new(&op);
        gestion.sign_in_strong(who).await;
        let tried = gestion
            .post_from(
                &head_request,
                &format!("{head_request}/statut"),
                &[("status", "closed")],
            )
            .await;
        assert_eq!(tried.status, 403, "even with the second factor");
    }
    assert_eq!(
        op.app.durable.assistance_events(&ids[0]).await.unwrap(),
        before
    );
    assert_eq!(
        op.app
            .durable
            .assistance(&ids[0])
            .await
            .unwrap()
            .unwrap()
            .status,
        Status::Open
    );
    let as_head = actor_of(&op, &head, true).await;
    let close = Change {
        comment: None,
        status: Some(Status::Closed),
    };
    assert!(matches!(
        assistance::update(
            &as_head,
            &desk(&op),
            Some(&head.staff),
            &ids[0],
            &close,
            op.app.now_ms()
        )
        .await,
        Err(OperationError::OutOfScope)
    ));

    // A delegation that ended gives nothing any more.
    let ends_at = op.app.now_ms() + 60_000;
    let ended = staff::add_enrolled(
        &op,
        "t.moreau",
        RoleRequest {
            ends_at: Some(ends_at),
            ..staff::delegate(COLLEGE, true, false)
        },
    )
    .await;
    op.clock.advance(std::time::Duration::from_secs(120));
    let gestion = Gestion::new(&op);
    gestion.sign_in(&ended).await;
    let page = gestion
        .get(&format!("/gestion/etablissements/{COLLEGE}/assistance"))
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(gestion.get(&head_request).await.status, 403);
    let csrf = staff::hidden(&gestion.get("/gestion/accueil").await.body, "csrf").unwrap();
    let tried = gestion
        .post(
            &format!("/gestion/etablissements/{COLLEGE}/assistance"),
            &csrf,
            &[("category", "other"), ("description", "Après la fin.")],
        )
        .await;
    assert_eq!(tried.status, 403);
    let tried = gestion
        .post(
            &format!("{head_request}/commentaire"),
            &csrf,
            &[("comment", "Après la fin.")],
        )
        .await;
    assert_eq!(tried.status, 403);
    assert_eq!(requests_of(&op, COLLEGE).await.len(), 4);
    assert_eq!(
        op.app.durable.assistance_events(&ids[0]).await.unwrap(),
        before
    );
}

async fn another_establishment_and_another_academie_learn_nothing_and_change_nothing(
    backend: Backend,
) {
    let (op, _) = provider(backend, None).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let other_head = staff::add_enrolled(&op, "l.girard", staff::at(RoleKind::Head, LYCEE)).await;
    let paris = staff::add_enrolled(&op, "p.lefevre", staff::assistance("Paris")).await;
    let gestion = Gestion::new(&op);
    gestion.sign_in(&head).await;
    let page = file_as(&gestion, COLLEGE, "other", "", "Une question du collège.").await;
    let id = filed_number(&page);
    let detail = format!("/gestion/assistance/{id}");
    let list = format!("/gestion/etablissements/{COLLEGE}/assistance");

    for (who, strong) in [(&other_head, false), (&other_head, true), (&paris, false)] {
        let gestion = Gestion::new(&op);
        if strong {
            gestion.sign_in_strong(who).await;
        } else {
            gestion.sign_in(who).await;
        }
        let page = gestion.get(&detail).await;
        assert_eq!(page.status, 403, "{}", who.staff.login);
        assert!(!page.body.contains("Une question du collège."));
        assert_eq!(gestion.get(&list).await.status, 403);
        let csrf = staff::hidden(&gestion.get("/gestion/accueil").await.body, "csrf").unwrap();
        for (action, form) in [
            (format!("{detail}/commentaire"), vec![("comment", "Intrus")]),
            (format!("{detail}/statut"), vec![("status", "closed")]),
            (
                list.clone(),
                vec![("category", "other"), ("description", "Intrus")],
            ),
        ] {
            let tried = gestion.post(&action, &csrf, &form).await;
            assert_eq!(tried.status, 403, "{} {action}", who.staff.login);
        }
        let actor = actor_of(&op, who, strong).await;
        assert!(matches!(
            assistance::request(&actor, &desk(&op), &id, op.app.now_ms()).await,
            Err(OperationError::OutOfScope)
        ));
        assert!(matches!(
            assistance::establishment_requests(
                &actor,
                &desk(&op),
                &educonnect::siecle::Uai::parse(COLLEGE).unwrap()
            )
            .await,
            Err(OperationError::OutOfScope)
        ));
    }
    // The other head's own list does not show it.
    let gestion = Gestion::new(&op);
    gestion.sign_in(&other_head).await;
    let own = gestion
        .get(&format!("/gestion/etablissements/{LYCEE}/assistance"))
        .await;
    assert_eq!(own.status, 200);
    assert!(!own.body.contains(&id));
    // Nothing changed.
    assert!(op
        .app
        .durable
        .assistance_events(&id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(requests_of(&op, COLLEGE).await.len(), 1);
    assert!(requests_of(&op, LYCEE).await.is_empty());
    assert_eq!(
        op.app
            .durable
            .assistance(&id)
            .await
            .unwrap()
            .unwrap()
            .status,
        Status::Open
    );
}
