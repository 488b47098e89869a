//! The establishment's accounts in the back-office (issue #16): the dashboard, the account list
//! and the notification of a selection, the account page and its actions, the pupil
//! troubleshooting and the identifiers file, over the pages and the administration API, each
//! action recorded in the audit trail. The authorization matrix is `gestion_accounts_rights`.

use std::path::Path;

use educonnect::accounts::{throttle, Account, AccountState, Profile};
use educonnect::establishments::model::NotificationTarget;
use educonnect::staff::RoleKind;
use educonnect::store::AuditQuery;
use serde_json::{json, Value};

use crate::common::smtp::SmtpServer;
use crate::common::staff::{self, Gestion, Page, TestStaff};
use crate::common::{siecle_generated, Backend, TestOp};
use crate::on_both_backends;
use crate::temporary_passwords::checked;

pub(crate) const COLLEGE: &str = "0699990J";
pub(crate) const LYCEE: &str = "0699991K";

on_both_backends!(
    the_dashboard_says_when_siecle_was_imported_and_counts_accounts_by_class,
    a_notice_is_marked_read_and_candidates_need_the_second_factor,
    the_account_list_filters_sorts_and_paginates_like_the_api,
    a_delegate_prints_letters_for_the_pupils_not_activated_and_nothing_of_guardians,
    the_account_page_shows_relatives_contacts_and_history,
    disabling_ends_logins_and_enabling_restores_the_state,
    an_accounts_forms_are_refused_without_a_session_a_token_or_a_known_establishment,
    a_guardians_contact_details_are_checked_then_corrected_apart_from_the_confirmed_address,
    unblocking_clears_the_throttle_of_the_login,
    troubleshooting_finds_a_pupil_and_issues_a_letter_and_an_attachment_code,
    the_identifiers_page_downloads_each_file_and_records_it,
    a_deputy_notifies_one_guardian_by_email_and_it_is_delivered,
);

/// A provider whose administration API accepts the returned token, the demo export imported
/// (the collège and the lycée).
pub(crate) async fn imported(backend: Backend) -> (TestOp, String) {
    imported_with(backend, |_| {}).await
}

pub(crate) async fn imported_with(
    backend: Backend,
    configure: impl FnOnce(&mut educonnect::config::Config),
) -> (TestOp, String) {
    let token = educonnect::secrets::admin_token();
    let digest = educonnect::secrets::digest(token.as_bytes());
    let op = TestOp::start_with(backend, |config| {
        config.admin.token_digests = vec![digest];
        configure(config);
    })
    .await;
    op.import_siecle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle"))
        .await;
    (op, token)
}

/// The account of `given_name` among the establishment's `profile` targets.
pub(crate) async fn person(op: &TestOp, uai: &str, profile: Profile, given_name: &str) -> Account {
    let targets: Vec<NotificationTarget> = op
        .app
        .durable
        .notification_targets(uai, profile)
        .await
        .unwrap();
    targets
        .into_iter()
        .find(|t| t.account.given_name == given_name)
        .unwrap_or_else(|| panic!("no {given_name} at {uai}"))
        .account
}

pub(crate) async fn stored(op: &TestOp, id: &str) -> Account {
    op.app.durable.account(id).await.unwrap().unwrap()
}

pub(crate) async fn api(
    op: &TestOp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let request = match method {
        "GET" => client.get(op.url(path)),
        _ => client.post(op.url(path)),
    };
    let request = request.bearer_auth(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The audit events on `subject`, newest first.
pub(crate) async fn events(op: &TestOp, subject: &str) -> Vec<educonnect::audit::Event> {
    op.app
        .durable
        .events(&AuditQuery {
            subject: Some(subject.to_owned()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

/// Signs `who` in, with the second factor when `strong`, in a browser of its own.
pub(crate) async fn signed_in<'a>(op: &'a TestOp, who: &TestStaff, strong: bool) -> Gestion<'a> {
    let gestion = Gestion::new(op);
    if strong {
        // A code is accepted once: the next one is the next period's.
        op.clock.advance(std::time::Duration::from_secs(
            educonnect::staff::totp::STEP,
        ));
        gestion.sign_in_strong(who).await;
    } else {
        gestion.sign_in(who).await;
    }
    gestion
}

/// Posts a form with the CSRF token of the home page and keeps the raw answer (a download).
pub(crate) async fn post_raw(
    op: &TestOp,
    gestion: &Gestion<'_>,
    action: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let home = gestion.get("/gestion/accueil").await;
    let csrf = staff::hidden(&home.body, "csrf").unwrap();
    let mut fields = form.to_vec();
    fields.push(("csrf", &csrf));
    gestion
        .http
        .post(op.url(action))
        .header("origin", &op.issuer)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn post(gestion: &Gestion<'_>, action: &str, form: &[(&str, &str)]) -> Page {
    gestion.post_from("/gestion/accueil", action, form).await
}

async fn the_dashboard_says_when_siecle_was_imported_and_counts_accounts_by_class(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    // Before any import: the establishment is unknown.
    let gestion = signed_in(&op, &head, false).await;
    let page = gestion
        .get(&format!("/gestion/etablissements/{COLLEGE}"))
        .await;
    assert_eq!(page.status, 404, "{}", page.body);

    op.import_siecle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle"))
        .await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    op.activate(&clement.id, "Tournesol-Bleu-42").await;
    let page = gestion
        .get(&format!("/gestion/etablissements/{COLLEGE}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("apparaissent ici une fois l'export Siècle"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Dernier import : le "), "{}", page.body);
    assert!(page.body.contains("export Siècle du "), "{}", page.body);
    // Five pupils, one of them active; the class of Clément (5B, two pupils) half active.
    let pupils = page.body.split("id=\"chiffres-eleves\"").nth(1).unwrap();
    assert!(
        pupils.contains("<p class=\"fr-tile__figure\">5</p>"),
        "{pupils}"
    );
    assert!(
        pupils.contains("4 créé(s), 0 notifié(s), 1 activé(s), 0 désactivé(s)"),
        "{pupils}"
    );
    assert!(page.body.contains("<th scope=\"row\">5B</th>\n      <td class=\"fr-cell--number\">2</td>\n      <td class=\"fr-cell--number\">1</td>\n      <td class=\"fr-cell--number\">50 %</td>"), "{}", page.body);
}

async fn a_notice_is_marked_read_and_candidates_need_the_second_factor(backend: Backend) {
    let (op, token) = imported(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let base = format!("/gestion/etablissements/{COLLEGE}");
    let notices = op.app.durable.notices(COLLEGE).await.unwrap().unwrap();
    let notice = notices
        .iter()
        .find(|n| n.kind == "new_identifiers")
        .expect("the import says new identifiers are available");

    let gestion = signed_in(&op, &head, false).await;
    let page = gestion.get(&base).await;
    assert!(
        page.body.contains(&format!("{base}/identifiants")),
        "the notice leads to the identifiers page"
    );
    assert!(page.body.contains("Marquer comme lue"));
    // Password only: the candidates need the second factor, offered as a step-up.
    assert!(
        page.body.contains("Présenter ma clé OTP pour les examiner"),
        "{}",
        page.body
    );
    let page = post(
        &gestion,
        &format!("{base}/notifications/{}/lue", notice.id),
        &[],
    )
    .await;
    assert_eq!(page.path, base);
    assert!(page.body.contains("La notification est marquée comme lue."));
    let read = op.app.durable.notices(COLLEGE).await.unwrap().unwrap();
    assert!(read
        .iter()
        .find(|n| n.id == notice.id)
        .unwrap()
        .read_at
        .is_some());
    let recorded = events(&op, &format!("notice:{}", notice.id)).await;
    assert_eq!(recorded[0].action, "notice.read");
    assert_eq!(recorded[0].actor, "staff:m.bernard");
    assert_eq!(recorded[0].uai.as_deref(), Some(COLLEGE));

    // Resolving a candidate with the password alone: the step-up, nothing resolved.
    let claire = person(&op, COLLEGE, Profile::Guardian, "Claire").await;
    let nadia = person(&op, COLLEGE, Profile::Guardian, "Nadia").await;
    let page = post(
        &gestion,
        &format!("{base}/rapprochements"),
        &[
            ("account", &claire.id),
            ("other", &nadia.id),
            ("decision", "distincts"),
        ],
    )
    .await;
    assert_eq!(page.path, "/gestion/second-facteur", "{}", page.body);
    let refused = events(&op, &format!("account:{}", claire.id)).await;
    assert_eq!(refused[0].action, "refused");
    assert_eq!(refused[0].outcome, "refused");
    assert!(refused[0]
        .detail
        .as_deref()
        .unwrap()
        .starts_with("candidate.resolved"));
    // With it: the list (the demo has none open), and no candidate to resolve between these two.
    let strong = signed_in(&op, &head, true).await;
    let page = strong.get(&base).await;
    assert!(
        page.body.contains("Aucun rapprochement en attente."),
        "{}",
        page.body
    );
    let page = post(
        &strong,
        &format!("{base}/rapprochements"),
        &[
            ("account", &claire.id),
            ("other", &nadia.id),
            ("decision", "distincts"),
        ],
    )
    .await;
    assert_eq!(page.status, 404);

    // The API's dashboard says the same.
    let (status, body) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{COLLEGE}/dashboard"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pupils"]["created"], 5);
    assert_eq!(body["establishment"]["uai"], COLLEGE);
    assert!(body["last_import"]["imported_at"].is_i64());
    assert_eq!(body["candidates"], json!([]));
    assert!(body["classes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["class"] == "5B" && c["pupils"] == 2));
}

async fn the_account_list_filters_sorts_and_paginates_like_the_api(backend: Backend) {
    let token = educonnect::secrets::admin_token();
    let digest = educonnect::secrets::digest(token.as_bytes());
    let op = TestOp::start_with(backend, |config| config.admin.token_digests = vec![digest]).await;
    let dir = siecle_generated(1, 70, 16);
    let exports = op.import_siecle(dir.path()).await;
    let uai = exports[0].uai.as_str().to_owned();
    let secretary =
        staff::add_enrolled(&op, "s.secretaire", staff::delegate(&uai, true, false)).await;
    let gestion = signed_in(&op, &secretary, false).await;
    let list = format!("/gestion/etablissements/{uai}/comptes");

    // Guardians are listed too (acting on them is another matter): more than one page.
    let (_, everything) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{uai}/accounts"),
        None,
    )
    .await;
    let total = everything["total"].as_u64().unwrap();
    assert!(total > 100, "{everything}");
    assert_eq!(everything["accounts"].as_array().unwrap().len(), 50);
    let page = gestion.get(&list).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains(&format!("{total} compte(s) correspondent")));
    assert!(page
        .body
        .contains("aria-current=\"page\"><span class=\"fr-sr-only\">Page </span>1</a>"));
    let last = everything["pages"].as_u64().unwrap();
    let page = gestion.get(&format!("{list}?page={last}")).await;
    let (_, last_page) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{uai}/accounts?page={last}"),
        None,
    )
    .await;
    for row in last_page["accounts"].as_array().unwrap() {
        assert!(page.body.contains(row["login"].as_str().unwrap()));
    }

    // A class's pupils, sorted by name descending; the API agrees.
    let class = everything["classes"][0].as_str().unwrap().to_owned();
    let (_, pupils) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{uai}/accounts?class={class}&profile=pupils&sort=name&order=desc"),
        None,
    )
    .await;
    let rows = pupils["accounts"].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["profile"] == "pupil" && r["classes"] == json!([class])));
    let fold = |v: &Value| deunicode::deunicode(v.as_str().unwrap()).to_lowercase();
    let names: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                fold(&r["family_name"]),
                fold(&r["given_name"]),
                fold(&r["login"]),
            )
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(names, sorted);
    let page = gestion
        .get(&format!(
            "{list}?classe={class}&profil=eleves&tri=nom&ordre=desc"
        ))
        .await;
    let positions: Vec<usize> = rows
        .iter()
        .map(|r| {
            page.body
                .find(&format!(">{}</td>", r["login"].as_str().unwrap()))
                .unwrap()
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the page shows the API's order"
    );
    assert!(page.body.contains("aria-sort=\"descending\""));

    // Not activated: one pupil activated drops out; by name, without accents or case.
    let first = &rows[0];
    let id = first["id"].as_str().unwrap();
    op.activate(id, "Tournesol-Bleu-42").await;
    let (_, waiting) = api(
        &op,
        &token,
        "GET",
        &format!(
            "/admin/establishments/{uai}/accounts?class={class}&profile=pupils&state=not_activated"
        ),
        None,
    )
    .await;
    assert_eq!(waiting["total"].as_u64().unwrap() as usize, rows.len() - 1);
    let family = first["family_name"].as_str().unwrap();
    let typed = deunicode::deunicode(family).to_lowercase();
    let page = gestion
        .get(&format!("{list}?nom={}", typed.replace(' ', "+")))
        .await;
    assert!(
        page.body.contains(first["login"].as_str().unwrap()),
        "{typed}: {}",
        page.body
    );
    // E-mail present or not: the two parts make the whole.
    let (_, with) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{uai}/accounts?email=true"),
        None,
    )
    .await;
    let (_, without) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{uai}/accounts?email=false"),
        None,
    )
    .await;
    assert_eq!(
        with["total"].as_u64().unwrap() + without["total"].as_u64().unwrap(),
        total
    );
    assert!(with["total"].as_u64().unwrap() > 0 && without["total"].as_u64().unwrap() > 0);
    let (status, _) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{uai}/accounts?state=sleeping"),
        None,
    )
    .await;
    assert_eq!(status, 400);
}

async fn a_delegate_prints_letters_for_the_pupils_not_activated_and_nothing_of_guardians(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    let dir = siecle_generated(1, 60, 7);
    let exports = op.import_siecle(dir.path()).await;
    let uai = exports[0].uai.as_str().to_owned();
    let secretary =
        staff::add_enrolled(&op, "s.secretaire", staff::delegate(&uai, true, false)).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, &uai)).await;
    let store = &*op.app.durable;
    let pupils = store
        .notification_targets(&uai, Profile::Pupil)
        .await
        .unwrap();
    // The class with the most pupils; one of them already active keeps its password.
    let mut classes: Vec<String> = pupils.iter().filter_map(|t| t.class.clone()).collect();
    classes.sort();
    let class = classes
        .iter()
        .max_by_key(|c| classes.iter().filter(|x| x == c).count())
        .unwrap()
        .clone();
    let in_class: Vec<&NotificationTarget> = pupils
        .iter()
        .filter(|t| t.class.as_deref() == Some(&class))
        .collect();
    assert!(in_class.len() >= 3, "{class}");
    op.activate(&in_class[0].account.id, "Tournesol-Bleu-42")
        .await;
    let waiting: Vec<&NotificationTarget> = in_class[1..].to_vec();

    let gestion = signed_in(&op, &secretary, false).await;
    let mut form: Vec<(&str, String)> = waiting
        .iter()
        .map(|t| ("compte", format!("pupil:{}", t.account.login)))
        .collect();
    form.push(("support", "pdf".into()));
    form.push(("reinitialiser", "1".into()));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = post_raw(
        &op,
        &gestion,
        &format!("/gestion/etablissements/{uai}/comptes/notifier"),
        &fields,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"courriers-{uai}.pdf\"").as_str()
    );
    let text = crate::common::pdf::text(&response.bytes().await.unwrap());
    for target in &waiting {
        assert!(
            text.contains(&target.account.login),
            "{}: {text}",
            target.account.login
        );
        assert_eq!(
            stored(&op, &target.account.id).await.state,
            AccountState::Notified
        );
        let recorded = events(&op, &format!("account:{}", target.account.id)).await;
        assert_eq!(recorded[0].action, "account.notified");
        assert_eq!(recorded[0].actor, "staff:s.secretaire");
    }
    assert_eq!(
        stored(&op, &in_class[0].account.id).await.state,
        AccountState::Active
    );

    // A guardian in the selection: refused as a whole, nothing written, the refusal recorded.
    let guardian = store
        .notification_targets(&uai, Profile::Guardian)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.account.state == AccountState::Created)
        .unwrap();
    let pupil = pupils
        .iter()
        .find(|t| t.account.state == AccountState::Created && t.class.as_deref() != Some(&class))
        .unwrap();
    let mixed = [
        ("compte", format!("pupil:{}", pupil.account.login)),
        ("compte", format!("guardian:{}", guardian.account.login)),
        ("support", "pdf".into()),
    ];
    let mixed: Vec<(&str, &str)> = mixed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let notify = format!("/gestion/etablissements/{uai}/comptes/notifier");
    let page = post(&gestion, &notify, &mixed).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert_eq!(
        stored(&op, &pupil.account.id).await.state,
        AccountState::Created
    );
    assert_eq!(
        stored(&op, &guardian.account.id).await.state,
        AccountState::Created
    );
    let refusals = op
        .app
        .durable
        .events(&AuditQuery {
            uai: Some(uai.clone()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(refusals.iter().any(|e| e.action == "refused"
        && e.actor == "staff:s.secretaire"
        && e.detail
            .as_deref()
            .is_some_and(|d| d.starts_with("account.notified"))));
    // The head, password only: the step-up, nothing written either.
    let password_only = signed_in(&op, &head, false).await;
    let page = post(&password_only, &notify, &mixed).await;
    assert_eq!(page.path, "/gestion/second-facteur");
    assert_eq!(
        stored(&op, &pupil.account.id).await.state,
        AccountState::Created
    );
    // Nothing ticked: the list again, with the error.
    let page = post(&gestion, &notify, &[("support", "pdf")]).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("Cochez au moins un compte à notifier."));
}

async fn the_account_page_shows_relatives_contacts_and_history(backend: Backend) {
    let (op, token) = imported(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let deputy = staff::add_enrolled(&op, "a.adjoint", staff::at(RoleKind::Deputy, COLLEGE)).await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    let claire = person(&op, COLLEGE, Profile::Guardian, "Claire").await;
    let base = format!("/gestion/etablissements/{COLLEGE}/comptes");

    let gestion = signed_in(&op, &deputy, false).await;
    let page = gestion.get(&format!("{base}/{}", clement.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains(&format!("<dd id=\"identifiant\">{}</dd>", clement.login)));
    assert!(page
        .body
        .contains("<dd id=\"derniere-connexion\">jamais</dd>"));
    // His guardians, with the establishments that record them, linked when they are here.
    assert!(
        page.body.contains(&format!(
            "<a href=\"{base}/{}\">Claire Martin</a>",
            claire.id
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("<td>Représentant légal</td>"));
    // The journal is the head's (with the second factor).
    assert!(page.body.contains("réservé au chef d'établissement"));
    // The guardian's page needs the second factor.
    let page = gestion.get(&format!("{base}/{}", claire.id)).await;
    assert_eq!(page.path, "/gestion/second-facteur");

    // A sign-in recorded, a letter and an e-mail later: the history says so.
    let at = op.app.now_ms();
    educonnect::audit::record(
        &*op.app.durable,
        educonnect::audit::Event::new(
            "account",
            educonnect::audit::Action::AccountSignIn,
            educonnect::audit::Outcome::Ok,
            at,
        )
        .on_account(&claire.id),
    )
    .await;
    let strong = signed_in(&op, &head, true).await;
    let response = post_raw(
        &op,
        &strong,
        &format!("{base}/{}/notifier", claire.id),
        &[("support", "pdf")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = post(
        &strong,
        &format!("{base}/{}/notifier", claire.id),
        &[("support", "email"), ("reinitialiser", "1")],
    )
    .await;
    assert!(
        page.body
            .contains("Le courriel de notification est mis en file d&#39;envoi."),
        "{}",
        page.body
    );
    let page = strong.get(&format!("{base}/{}", claire.id)).await;
    assert!(!page
        .body
        .contains("<dd id=\"derniere-connexion\">jamais</dd>"));
    assert!(page
        .body
        .contains(&educonnect::notify::letters::wording::french_date(
            educonnect::siecle::Date::from_epoch_ms(at)
        )));
    // Children in both establishments; contact details labelled by where they come from.
    assert!(page.body.contains(&format!(
        "<a href=\"{base}/{}\">Clément Martin</a>",
        clement.id
    )));
    assert!(
        page.body.contains(&format!("<td>{LYCEE}</td>")),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("<dd id=\"courriel-siecle\">claire.martin@demo.educonnect.invalid</dd>"));
    assert!(page
        .body
        .contains("<dd id=\"adresse-confirmee\">aucune</dd>"));
    let notifications = page
        .body
        .split("id=\"historique-notifications\"")
        .nth(1)
        .unwrap();
    assert!(
        notifications.contains("<td>Courrier</td>") && notifications.contains("<td>Courriel</td>")
    );
    let messages = page
        .body
        .split("id=\"historique-messages\"")
        .nth(1)
        .unwrap();
    assert!(
        messages.contains("claire.martin@demo.educonnect.invalid")
            && messages.contains("En attente d&#39;envoi")
    );
    let journal = page
        .body
        .split("id=\"historique-journal\"")
        .nth(1)
        .expect("the head reads the journal");
    assert!(
        journal.contains("Notification (mot de passe provisoire)")
            && journal.contains("staff:m.bernard")
    );

    // The API's account.
    let (status, body) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{COLLEGE}/accounts/{}", claire.id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["login"], claire.login.as_str());
    assert_eq!(body["last_login_at"], at);
    assert_eq!(
        body["siecle_email"],
        "claire.martin@demo.educonnect.invalid"
    );
    assert_eq!(body["notifications"].as_array().unwrap().len(), 2);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    assert!(body["messages"][0].get("body").is_none(), "never a body");
    assert!(body["relatives"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["uai"] == LYCEE));
    // Léa is the lycée's: at the collège she answers like an account that does not exist.
    let lea = person(&op, LYCEE, Profile::Pupil, "Léa").await;
    let (status, body) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{COLLEGE}/accounts/{}", lea.id),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let (unknown, _) = api(
        &op,
        &token,
        "GET",
        &format!("/admin/establishments/{COLLEGE}/accounts/inconnu"),
        None,
    )
    .await;
    assert_eq!(unknown, 403);
}

/// The forms of an account's page share one extractor (`Posted`): each refusal before the
/// action, and the account left as it was.
async fn an_accounts_forms_are_refused_without_a_session_a_token_or_a_known_establishment(
    backend: Backend,
) {
    let (op, _) = imported(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    op.activate(&clement.id, "Tournesol-Bleu-42").await;
    let page_path = format!("/gestion/etablissements/{COLLEGE}/comptes/{}", clement.id);
    let disable = [("etat", "desactive")];
    // Nobody signed in: to the sign-in page, which comes back here.
    let nobody = Gestion::new(&op);
    let page = nobody
        .post(&format!("{page_path}/etat"), "any", &disable)
        .await;
    assert_eq!(page.path, "/gestion", "{}", page.body);
    // Signed in, but a token that is not the session's: the form has expired.
    let gestion = signed_in(&op, &head, false).await;
    let page = gestion
        .post(&format!("{page_path}/etat"), "forged", &disable)
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        page.body.contains("Le formulaire a expiré"),
        "{}",
        page.body
    );
    // An establishment code that is not a UAI.
    let page = post(
        &gestion,
        &format!(
            "/gestion/etablissements/nimporte/comptes/{}/etat",
            clement.id
        ),
        &disable,
    )
    .await;
    assert_eq!(page.status, 404, "{}", page.body);
    assert_eq!(stored(&op, &clement.id).await.state, AccountState::Active);
    // The same form with the session's token goes through.
    let page = post(&gestion, &format!("{page_path}/etat"), &disable).await;
    assert_eq!(page.path, page_path);
    assert_eq!(stored(&op, &clement.id).await.state, AccountState::Disabled);
}

async fn disabling_ends_logins_and_enabling_restores_the_state(backend: Backend) {
    let (op, token) = imported(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    op.activate(&clement.id, "Tournesol-Bleu-42").await;
    assert_eq!(
        checked(&op, &clement.login, "Tournesol-Bleu-42").await,
        "valid"
    );
    let page_path = format!("/gestion/etablissements/{COLLEGE}/comptes/{}", clement.id);

    // A pupil's account: the password is enough.
    let gestion = signed_in(&op, &head, false).await;
    let page = post(
        &gestion,
        &format!("{page_path}/etat"),
        &[("etat", "desactive")],
    )
    .await;
    assert_eq!(page.path, page_path);
    assert!(
        page.body.contains("Le compte est désactivé"),
        "{}",
        page.body
    );
    assert_eq!(stored(&op, &clement.id).await.state, AccountState::Disabled);
    assert_ne!(
        checked(&op, &clement.login, "Tournesol-Bleu-42").await,
        "valid"
    );
    // A disabled account is not notified.
    let page = post(
        &gestion,
        &format!("{page_path}/notifier"),
        &[("support", "pdf")],
    )
    .await;
    assert_eq!(page.status, 404);
    let page = post(
        &gestion,
        &format!("{page_path}/etat"),
        &[("etat", "active")],
    )
    .await;
    assert!(page.body.contains("Le compte est réactivé."));
    assert_eq!(stored(&op, &clement.id).await.state, AccountState::Active);
    assert_eq!(
        checked(&op, &clement.login, "Tournesol-Bleu-42").await,
        "valid"
    );
    let recorded = events(&op, &format!("account:{}", clement.id)).await;
    let actions: Vec<&str> = recorded.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(&actions[..2], ["account.enabled", "account.disabled"]);

    // The API: a never-notified account comes back `created`.
    let nadia = person(&op, COLLEGE, Profile::Guardian, "Nadia").await;
    let path = format!(
        "/admin/establishments/{COLLEGE}/accounts/{}/state",
        nadia.id
    );
    let (status, body) = api(
        &op,
        &token,
        "POST",
        &path,
        Some(json!({"state": "disabled"})),
    )
    .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("disabled")));
    let (_, body) = api(&op, &token, "POST", &path, Some(json!({"state": "active"}))).await;
    assert_eq!(body["state"], "created");
    let (status, _) = api(&op, &token, "POST", &path, Some(json!({"state": "asleep"}))).await;
    assert_eq!(status, 400);
    assert_eq!(stored(&op, &nadia.id).await.state, AccountState::Created);
}

async fn a_guardians_contact_details_are_checked_then_corrected_apart_from_the_confirmed_address(
    backend: Backend,
) {
    let (op, token) = imported(backend).await;
    let deputy = staff::add_enrolled(&op, "a.adjoint", staff::at(RoleKind::Deputy, COLLEGE)).await;
    let claire = person(&op, COLLEGE, Profile::Guardian, "Claire").await;
    op.app
        .durable
        .set_verified_email(&claire.id, "claire@famille.example", op.app.now_ms())
        .await
        .unwrap();
    let path = format!("/gestion/etablissements/{COLLEGE}/comptes/{}", claire.id);
    let gestion = signed_in(&op, &deputy, true).await;

    let page = post(
        &gestion,
        &format!("{path}/coordonnees"),
        &[("courriel", "claire.martin@"), ("mobile", "06 12 34 56 78")],
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("fr-input-group fr-input-group--error"));
    assert!(page
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"erreur-courriel\""));
    assert!(page.body.contains("Adresse électronique invalide"));
    assert!(
        page.body.contains("value=\"claire.martin@\""),
        "what was typed is shown again"
    );
    assert_eq!(stored(&op, &claire.id).await.email, claire.email);
    let page = post(
        &gestion,
        &format!("{path}/coordonnees"),
        &[
            ("courriel", "claire.martin@exemple.fr"),
            ("mobile", "06 12 3"),
        ],
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("aria-describedby=\"erreur-mobile\""));

    let page = post(
        &gestion,
        &format!("{path}/coordonnees"),
        &[
            ("courriel", " claire.martin@exemple.fr "),
            ("mobile", "06 12 34 56 78"),
        ],
    )
    .await;
    assert_eq!(page.path, path);
    assert!(page.body.contains("Les coordonnées sont corrigées."));
    let after = stored(&op, &claire.id).await;
    assert_eq!(after.email.as_deref(), Some("claire.martin@exemple.fr"));
    assert_eq!(after.phone.as_deref(), Some("0612345678"));
    assert_eq!(
        after.verified_email.as_deref(),
        Some("claire@famille.example"),
        "the confirmed address is the guardian's"
    );
    let recorded = events(&op, &format!("account:{}", claire.id)).await;
    assert_eq!(recorded[0].action, "account.contact_corrected");
    assert_eq!(recorded[0].detail.as_deref(), Some("courriel, mobile"));

    // A pupil has no Siècle contact to correct; the API checks alike.
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    let page = post(
        &gestion,
        &format!(
            "/gestion/etablissements/{COLLEGE}/comptes/{}/coordonnees",
            clement.id
        ),
        &[("courriel", "a@b.fr")],
    )
    .await;
    assert_eq!(page.status, 400);
    let api_path = format!(
        "/admin/establishments/{COLLEGE}/accounts/{}/contact",
        claire.id
    );
    let (status, body) = api(
        &op,
        &token,
        "POST",
        &api_path,
        Some(json!({"email": "pas une adresse"})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _) = api(
        &op,
        &token,
        "POST",
        &api_path,
        Some(json!({"email": "", "phone": "+33 6 12 34 56 79"})),
    )
    .await;
    assert_eq!(status, 204);
    let after = stored(&op, &claire.id).await;
    assert_eq!(
        (after.email, after.phone.as_deref()),
        (None, Some("+33612345679"))
    );
}

async fn unblocking_clears_the_throttle_of_the_login(backend: Backend) {
    let (op, token) =
        imported_with(backend, |config| config.throttle.failures_per_account = 3).await;
    let secretary =
        staff::add_enrolled(&op, "s.secretaire", staff::delegate(COLLEGE, true, false)).await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    op.activate(&clement.id, "Tournesol-Bleu-42").await;
    for _ in 0..3 {
        assert_eq!(checked(&op, &clement.login, "Mauvais-Mot-1").await, "wrong");
    }
    assert_eq!(
        checked(&op, &clement.login, "Tournesol-Bleu-42").await,
        "throttled"
    );
    let gestion = signed_in(&op, &secretary, false).await;
    let path = format!("/gestion/etablissements/{COLLEGE}/comptes/{}", clement.id);
    let page = gestion.get(&path).await;
    assert!(
        page.body.contains("oui, trop d'essais de mot de passe"),
        "{}",
        page.body
    );
    let page = post(&gestion, &format!("{path}/debloquer"), &[]).await;
    assert!(page.body.contains("La connexion est débloquée"));
    assert!(page.body.contains("<dd id=\"bloque\">non</dd>"));
    assert_eq!(
        checked(&op, &clement.login, "Tournesol-Bleu-42").await,
        "valid"
    );
    assert_eq!(
        events(&op, &format!("account:{}", clement.id)).await[0].action,
        "account.unblocked"
    );
    // The API too.
    for _ in 0..3 {
        checked(&op, &clement.login, "Mauvais-Mot-1").await;
    }
    let counters = throttle::login(&op.app.config.throttle, &clement.login, "");
    assert!(throttle::exhausted(
        &*op.app.ephemeral,
        &op.app.config.throttle,
        op.app.now_ms(),
        &counters[..1]
    )
    .await
    .unwrap());
    let (status, _) = api(
        &op,
        &token,
        "POST",
        &format!(
            "/admin/establishments/{COLLEGE}/accounts/{}/unblock",
            clement.id
        ),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(!throttle::exhausted(
        &*op.app.ephemeral,
        &op.app.config.throttle,
        op.app.now_ms(),
        &counters[..1]
    )
    .await
    .unwrap());
}

async fn troubleshooting_finds_a_pupil_and_issues_a_letter_and_an_attachment_code(
    backend: Backend,
) {
    let (op, _) = imported(backend).await;
    let secretary =
        staff::add_enrolled(&op, "s.secretaire", staff::delegate(COLLEGE, true, false)).await;
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    let gestion = signed_in(&op, &secretary, false).await;
    let base = format!("/gestion/etablissements/{COLLEGE}");
    // By name without accents, by login, by class.
    for search in ["clement", clement.login.as_str(), "5b"] {
        let page = gestion.get(&format!("{base}/depannage?q={search}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body
                .contains(&format!("id=\"eleve-{}\"", clement.login)),
            "{search}: {}",
            page.body
        );
    }
    let page = gestion.get(&format!("{base}/depannage?q=clement")).await;
    assert!(page.body.contains("1 élève(s) trouvé(s)"));
    assert!(page.body.contains("<td>aucun</td>"), "no letter yet");
    // A new temporary password: the letter, then the letter's date in the search.
    let response = post_raw(
        &op,
        &gestion,
        &format!("{base}/comptes/{}/notifier", clement.id),
        &[("support", "pdf"), ("reinitialiser", "1")],
    )
    .await;
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"courrier-{}.pdf\"", clement.login).as_str()
    );
    let text = crate::common::pdf::text(&response.bytes().await.unwrap());
    assert!(
        text.contains(&clement.login) && text.contains("Clément"),
        "{text}"
    );
    let page = gestion.get(&format!("{base}/depannage?q=clement")).await;
    assert!(!page.body.contains("<td>aucun</td>"), "{}", page.body);
    // An attachment code, shown once, never recorded.
    let page = post(
        &gestion,
        &format!("{base}/comptes/{}/code-rattachement", clement.id),
        &[("retour", "depannage"), ("q", "clement")],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let code = page
        .body
        .split("id=\"code\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 14, "{code}");
    let recorded = events(&op, &format!("account:{}", clement.id)).await;
    assert_eq!(recorded[0].action, "account.attachment_code");
    assert!(!recorded
        .iter()
        .any(|e| e.detail.as_deref().is_some_and(|d| d.contains(&code))));
    // Unblocking from here comes back here.
    let page = post(
        &gestion,
        &format!("{base}/comptes/{}/debloquer", clement.id),
        &[("retour", "depannage"), ("q", "clement")],
    )
    .await;
    assert_eq!(page.path, format!("{base}/depannage"));
    assert!(page.body.contains("La connexion est débloquée"));
}

async fn the_identifiers_page_downloads_each_file_and_records_it(backend: Backend) {
    let (op, _) = imported(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let path = format!("/gestion/etablissements/{COLLEGE}/identifiants");
    let password_only = signed_in(&op, &head, false).await;
    assert_eq!(
        password_only.get(&path).await.path,
        "/gestion/second-facteur"
    );
    let gestion = signed_in(&op, &head, true).await;
    let page = gestion.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("Chaque téléchargement produit un nouveau fichier"));
    let csv = post_raw(
        &op,
        &gestion,
        &format!("{path}/fichier"),
        &[("format", "csv")],
    )
    .await;
    assert_eq!(
        csv.headers()["content-disposition"],
        format!("attachment; filename=\"identifiants-{COLLEGE}.csv\"").as_str()
    );
    let clement = person(&op, COLLEGE, Profile::Pupil, "Clément").await;
    assert!(csv.text().await.unwrap().contains(&clement.login));
    // The next file lists only what came after: nobody.
    let pdf = post_raw(
        &op,
        &gestion,
        &format!("{path}/fichier"),
        &[("format", "pdf")],
    )
    .await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(!crate::common::pdf::text(&pdf.bytes().await.unwrap()).contains(&clement.login));
    let recorded = op
        .app
        .durable
        .events(&AuditQuery {
            uai: Some(COLLEGE.into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        recorded
            .iter()
            .filter(|e| e.action == "identifiers.file")
            .count(),
        2
    );
}

async fn a_deputy_notifies_one_guardian_by_email_and_it_is_delivered(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let (op, _) = imported_with(backend, move |config| {
        config.smtp.url = url;
        config.smtp.from_address = "ne-pas-repondre@educonnect.example".into();
        config.smtp.timeout_seconds = 5;
    })
    .await;
    let deputy = staff::add_enrolled(&op, "a.adjoint", staff::at(RoleKind::Deputy, COLLEGE)).await;
    let nadia = person(&op, COLLEGE, Profile::Guardian, "Nadia").await;
    let path = format!("/gestion/etablissements/{COLLEGE}/comptes/{}", nadia.id);
    let gestion = signed_in(&op, &deputy, true).await;
    let page = post(
        &gestion,
        &format!("{path}/notifier"),
        &[("support", "email")],
    )
    .await;
    assert_eq!(page.path, path);
    assert!(page
        .body
        .contains("Le courriel de notification est mis en file d&#39;envoi."));
    assert_eq!(stored(&op, &nadia.id).await.state, AccountState::Notified);
    educonnect::maintenance::deliver_once(&op.app)
        .await
        .unwrap()
        .expect("SMTP configured");
    let mail = smtp.wait_for(1).await;
    assert_eq!(mail[0].rcpt_tos, ["nadia.benali@demo.educonnect.invalid"]);
    let text = mail[0].text.clone().unwrap_or_default();
    assert!(text.contains(&nadia.login), "{text}");
    let recorded = events(&op, &format!("account:{}", nadia.id)).await;
    assert_eq!(recorded[0].action, "account.notified");
    assert!(recorded[0]
        .detail
        .as_deref()
        .unwrap()
        .starts_with("email temporary_password"));
}
