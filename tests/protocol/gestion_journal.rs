//! The journal (issue #16): the establishment's audit trail for its head (second factor) and
//! the operators, never a deputy, a delegate, another head or an assistance agent; an
//! account's history that stays within the establishment (an account elsewhere answers as an
//! unknown one); the national journal; pages that never skip nor repeat an event.

use std::collections::HashSet;
use std::path::Path;

use educonnect::audit::{self, Action, Event, Outcome};
use educonnect::establishments::audit::{trail, Journal, TrailRequest};
use educonnect::establishments::OperationError;
use educonnect::siecle::{Export, Uai};
use serde_json::Value;

use crate::common::{Backend, TestOp};
use crate::gestion_delegations::{cast, signed_in, COLLEGE, LYCEE};

crate::on_both_backends!(
    the_journal_is_the_heads_and_the_operators_only,
    an_account_history_stays_within_the_establishment,
    journal_pages_never_skip_nor_repeat_an_event_within_one_millisecond,
);

fn journal_path(uai: &str) -> String {
    format!("/gestion/etablissements/{uai}/journal")
}

async fn demo_import(op: &TestOp) -> Vec<Export> {
    op.import_siecle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle"))
        .await
}

/// The login of the first pupil of `uai`.
async fn pupil_login(op: &TestOp, exports: &[Export], uai: &str) -> (String, String) {
    let export = exports.iter().find(|e| e.uai.as_str() == uai).unwrap();
    let store = &op.app.durable;
    let id = store
        .pupil_account(export.pupils[0].ine.as_str())
        .await
        .unwrap()
        .unwrap();
    let account = store.account(&id).await.unwrap().unwrap();
    (id, account.login)
}

fn rows(body: &str) -> usize {
    body.split("id=\"evenements\"")
        .nth(1)
        .map(|table| {
            table
                .split("</table>")
                .next()
                .unwrap()
                .matches("<tr>")
                .count()
                - 1
        })
        .unwrap_or(0)
}

async fn the_journal_is_the_heads_and_the_operators_only(backend: Backend) {
    let op = TestOp::start(backend).await;
    let cast = cast(&op).await;
    let store = &*op.app.durable;
    let now = op.app.now_ms();
    audit::record(
        store,
        Event::new("staff:p.lycee", Action::Import, Outcome::Ok, now).at_establishment(LYCEE),
    )
    .await;

    // The head designates a delegate: in the collège's journal, with the head's sign-in.
    let head = signed_in(&op, &cast.head, true).await;
    let page = head
        .post_from(
            "/gestion/accueil",
            "/gestion/etablissements/0699990J/delegations",
            &[
                ("qui", "existant"),
                ("login", "a.rectorat"),
                ("pupils", "1"),
            ],
        )
        .await;
    assert!(
        page.body.contains("La délégation est accordée"),
        "{}",
        page.body
    );
    let before = store
        .events(&educonnect::store::AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();

    // Refused: a deputy, a delegate with both rights, another head, an assistance agent
    // (now also a delegate of the collège, pupils only).
    for who in [&cast.deputy, &cast.delegate, &cast.other_head, &cast.agent] {
        let gestion = signed_in(&op, who, true).await;
        let page = gestion.get(&journal_path(COLLEGE)).await;
        assert_eq!(page.status, 403, "{}", who.staff.login);
        assert!(!page.body.contains("Délégation accordée"));
        let page = gestion.get("/gestion/journal").await;
        assert_eq!(
            page.status, 403,
            "{} reads the national journal",
            who.staff.login
        );
    }
    // A head with the password alone is asked for the second factor first.
    let password_only = signed_in(&op, &cast.head, false).await;
    let page = password_only.get(&journal_path(COLLEGE)).await;
    assert_eq!(page.path, "/gestion/second-facteur");
    // Reading changes nothing but the refusals recorded (sign-ins and two per refused reader).
    let events = store
        .events(&educonnect::store::AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let added: Vec<&str> = events[..events.len() - before]
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert!(
        added
            .iter()
            .all(|a| ["refused", "staff.sign_in", "staff.second_factor"].contains(a)),
        "{added:?}"
    );

    let page = head.get(&journal_path(COLLEGE)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "Délégation accordée",
        "Camille Test m.bernard (m.bernard)",
        "Camille Test a.rectorat (a.rectorat)",
        "Connexion à la gestion",
        "Opération refusée : consultation du journal",
        "Camille Test j.adjoint (j.adjoint)",
        "127.0.0.1",
        "fr-badge--error",
    ] {
        assert!(page.body.contains(shown), "{shown} missing: {}", page.body);
    }
    assert!(!page.body.contains("Import Siècle"), "the lycée's event");

    // The operators' national journal: everything.
    let operator = signed_in(&op, &cast.operator, true).await;
    let page = operator.get("/gestion/journal").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Import Siècle") && page.body.contains("Délégation accordée"));
    let page = operator.get("/gestion/journal?uai=0699991K").await;
    assert!(page.body.contains("Import Siècle") && !page.body.contains("Délégation accordée"));
    let page = operator.get("/gestion/journal?uai=12345").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("uai-erreur") && page.body.contains("UAI invalide"));
    assert_eq!(operator.get(&journal_path(COLLEGE)).await.status, 200);
    // A head never reads it, even strong.
    assert_eq!(head.get("/gestion/journal").await.status, 403);
    // An operator with the password alone is asked for the second factor.
    let page = signed_in(&op, &cast.operator, false)
        .await
        .get("/gestion/journal")
        .await;
    assert_eq!(page.path, "/gestion/second-facteur");
}

async fn an_account_history_stays_within_the_establishment(backend: Backend) {
    let op = TestOp::start(backend).await;
    let exports = demo_import(&op).await;
    let cast = cast(&op).await;
    let store = &*op.app.durable;
    let (pupil, login) = pupil_login(&op, &exports, COLLEGE).await;
    let (_, elsewhere) = pupil_login(&op, &exports, LYCEE).await;
    let now = op.app.now_ms();
    let events = [
        Event::new(
            &format!("account:{pupil}"),
            Action::AccountSignIn,
            Outcome::Ok,
            now,
        )
        .on_account(&pupil)
        .from_address(Some("192.0.2.7")),
        Event::new("staff:m.bernard", Action::AccountNotified, Outcome::Ok, now)
            .on_account(&pupil)
            .at_establishment(COLLEGE),
        // The same account, acted on at another establishment: not the collège's.
        Event::new("staff:p.lycee", Action::AccountDisabled, Outcome::Ok, now)
            .on_account(&pupil)
            .at_establishment(LYCEE),
    ];
    for event in events {
        audit::record(store, event).await;
    }
    let head = signed_in(&op, &cast.head, true).await;
    let page = head
        .get(&format!("{}?compte={login}", journal_path(COLLEGE)))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Historique du compte"));
    assert!(page.body.contains("Connexion du compte") && page.body.contains("192.0.2.7"));
    assert!(page.body.contains("Notification (mot de passe provisoire)"));
    assert!(
        !page.body.contains("Compte désactivé"),
        "the lycée's action"
    );
    assert_eq!(rows(&page.body), 2);
    // The subject links to the history.
    assert!(page
        .body
        .contains(&format!("?compte={}\"", login.replace('.', "%2E"))));
    // Without the filter, the account's sign-in (at no establishment) is not listed.
    let page = head.get(&journal_path(COLLEGE)).await;
    assert!(!page.body.contains("Connexion du compte"));

    // An account of the lycée answers as one that does not exist.
    let outside = head
        .get(&format!("{}?compte={elsewhere}", journal_path(COLLEGE)))
        .await;
    let unknown = head
        .get(&format!("{}?compte=x.inconnu99", journal_path(COLLEGE)))
        .await;
    assert_eq!((outside.status, unknown.status), (404, 404));
    for (page, who) in [
        (&outside, &elsewhere),
        (&unknown, &"x.inconnu99".to_owned()),
    ] {
        assert!(
            page.body
                .contains(&format!("Aucun compte d&#39;identifiant {who} parmi")),
            "{}",
            page.body
        );
        assert!(page.body.contains("aria-describedby=\"compte-erreur\""));
        assert_eq!(rows(&page.body), 0);
    }
    assert_eq!(
        outside.body.replace(elsewhere.as_str(), "?"),
        unknown.body.replace("x.inconnu99", "?")
    );

    // The domain says the same to the lycée's head, and the operators see all.
    let journal = Journal {
        events: store,
        audit: store,
        accounts: store,
        staff: store,
        directory: store,
    };
    let roles = store.roles_of(&cast.other_head.staff.id).await.unwrap();
    let other = educonnect::staff::actor(&cast.other_head.staff, &roles, true, now);
    let request = TrailRequest {
        account: Some(login.clone()),
        ..Default::default()
    };
    let college = Uai::parse(COLLEGE).unwrap();
    let lycee = Uai::parse(LYCEE).unwrap();
    assert!(matches!(
        trail(&other, &journal, &college, &request, now).await,
        Err(OperationError::OutOfScope)
    ));
    assert!(matches!(
        trail(&other, &journal, &lycee, &request, now).await,
        Err(OperationError::UnknownAccount(_))
    ));
    let operator = signed_in(&op, &cast.operator, true).await;
    let page = operator
        .get(&format!("/gestion/journal?compte={login}"))
        .await;
    assert_eq!(rows(&page.body), 3, "{}", page.body);
}

async fn journal_pages_never_skip_nor_repeat_an_event_within_one_millisecond(backend: Backend) {
    let (op, token) = crate::admin::admin_op(backend).await;
    let store = &*op.app.durable;
    let now = op.app.now_ms();
    let mut recorded = Vec::new();
    for i in 0..23 {
        // Most of them within the same millisecond.
        let event = Event::new("cli", Action::Import, Outcome::Ok, now - (i % 3))
            .at_establishment(COLLEGE)
            .detail(format!("n{i}"));
        recorded.push(event.id.clone());
        audit::record(store, event).await;
    }
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = op.url("/admin/establishments/0699990J/audit?limit=5");
        if let Some(cursor) = &next {
            url.push_str(&format!("&before={cursor}"));
        }
        let body: Value = http
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = body["events"].as_array().unwrap();
        assert!(events.len() <= 5);
        let ats: Vec<i64> = events.iter().map(|e| e["at"].as_i64().unwrap()).collect();
        assert!(ats.windows(2).all(|w| w[0] >= w[1]), "newest first");
        seen.extend(events.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match body["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event repeated");
    assert_eq!(
        unique,
        recorded.iter().collect::<HashSet<_>>(),
        "an event skipped"
    );
    let refused = http
        .get(op.url("/admin/establishments/0699990J/audit?limit=900"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let national: Value = http
        .get(op.url("/admin/audit?uai=0699990J&limit=50"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(national["events"].as_array().unwrap().len(), 23);
    assert_eq!(
        national["events"][0]["actor_name"],
        "Ligne de commande (opérateur)"
    );
}
