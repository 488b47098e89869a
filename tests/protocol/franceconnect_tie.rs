//! Tying a FranceConnect identity to an account, the first time it arrives (issue #18), over
//! HTTP through the fake FranceConnect on both backends: by the account's password, then
//! straight through; by the self-registration's proof (SMS code, birth dates, new password);
//! names that disagree, a pupil's account and a wrong password refused with nothing changed.
//! In Chromium: tests/browser/franceconnect.rs.

use reqwest::StatusCode;
use url::Url;

use crate::common::browser::{param, Step};
use crate::common::sms::SmsOperator;
use crate::common::{Backend, TestOp};
use crate::contacts::signed_in_to_mon_compte;
use crate::federation::op_with_fake;
use crate::franceconnect_login::{
    account_id, browser, demo_authorize, location, through_franceconnect,
};
use crate::registration::{hidden, E164, NUMBER};
use educonnect::accounts::AccountState;
use educonnect::federation::fake::{FakeFranceConnect, IDENTITIES};
use educonnect::maintenance::deliver_once;
use educonnect::oidc::session;

crate::on_both_backends!(
    a_first_login_ties_by_password_then_goes_straight_through,
    names_that_disagree_refuse_the_tie_and_change_nothing,
    a_pupils_account_cannot_be_tied,
    a_wrong_password_is_refused_like_the_login_page,
    a_guardian_without_an_account_ties_by_sms_and_birth_dates,
    a_registration_whose_names_disagree_ends_with_nothing_changed,
    mon_compte_shows_the_tie_and_undoes_it,
    a_temporary_password_is_not_a_tie_and_points_to_the_other_ways,
);

const GUARDIAN: (&str, &str) = ("c.martin02", "Parent-Demo-2026");
const PUPIL: (&str, &str) = ("l.martin01", "Eleve-Demo-2026");
const NEW_PASSWORD: &str = "Tournesol-Bleu-42";

async fn seeded(backend: Backend, operator: Option<&SmsOperator>) -> (TestOp, FakeFranceConnect) {
    let (op, fake) = op_with_fake(backend, |c| {
        if let Some(operator) = operator {
            operator.configure(c);
        }
        c.selfservice.response_floor_ms = 50;
    })
    .await;
    educonnect::demo::seed_directory(&op.app).await.unwrap();
    (op, fake)
}

/// A browser at the demo RP, through FranceConnect as `who`, at the tie page: the browser,
/// the page's flow and CSRF token.
async fn at_the_tie_page(
    op: &TestOp,
    fake: &FakeFranceConnect,
    who: &str,
) -> (reqwest::Client, String, String) {
    let http = browser();
    let (login, _) = demo_authorize(op, &http).await;
    let back = through_franceconnect(&http, op, fake, &login, who).await;
    let tie = location(&back);
    assert_eq!(tie.path(), "/franceconnect/rattachement", "{tie}");
    let page = http.get(tie).send().await.unwrap().text().await.unwrap();
    let (flow, csrf) = (hidden(&page, "flow"), hidden(&page, "csrf"));
    (http, flow, csrf)
}

async fn submit(op: &TestOp, http: &reqwest::Client, fields: &[(&str, &str)]) -> reqwest::Response {
    http.post(op.url("/franceconnect/rattachement"))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn tie_by_password(
    op: &TestOp,
    fake: &FakeFranceConnect,
    who: &str,
    credentials: (&str, &str),
) -> reqwest::Response {
    tie_by_password_in(op, fake, who, credentials).await.1
}

/// `tie_by_password`, with the browser it happened in.
async fn tie_by_password_in(
    op: &TestOp,
    fake: &FakeFranceConnect,
    who: &str,
    (login, password): (&str, &str),
) -> (reqwest::Client, reqwest::Response) {
    let (http, flow, csrf) = at_the_tie_page(op, fake, who).await;
    let response = submit(
        op,
        &http,
        &[
            ("flow", &flow),
            ("csrf", &csrf),
            ("action", "password"),
            ("login", login),
            ("password", password),
        ],
    )
    .await;
    (http, response)
}

async fn tied_account(op: &TestOp, fake: &FakeFranceConnect, who: &str) -> Option<String> {
    let identity = IDENTITIES.iter().find(|i| i.key == who).unwrap();
    op.app
        .durable
        .account_of_upstream(&fake.issuer, &fake.subject_of(identity))
        .await
        .unwrap()
}

/// The audit trail's events on the account.
async fn events_of(op: &TestOp, account_id: &str) -> Vec<educonnect::audit::Event> {
    op.app
        .durable
        .events(&educonnect::store::AuditQuery {
            subject: Some(format!("account:{account_id}")),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// The account's SSO sessions still open.
async fn live_sessions(op: &TestOp, account_id: &str) -> usize {
    let mut live = 0;
    for sid in session::of_account(&op.app, account_id).await.unwrap() {
        live += usize::from(session::by_sid(&op.app, &sid).await.unwrap().is_some());
    }
    live
}

/// Whether the browser's SSO session opens Mon compte.
async fn in_mon_compte(op: &TestOp, http: &reqwest::Client) -> bool {
    let page = http.get(op.url("/compte")).send().await.unwrap();
    match page.status() {
        StatusCode::OK => true,
        status if status.is_redirection() => {
            assert_eq!(location(&page).path(), "/compte/connexion");
            false
        }
        status => panic!("Mon compte answered {status}"),
    }
}

fn at_the_demo_rp(op: &TestOp, url: &Url) -> bool {
    url.as_str().starts_with(&op.url("/demo/callback")) && param(url, "code").is_some()
}

async fn a_first_login_ties_by_password_then_goes_straight_through(backend: Backend) {
    let (op, fake) = seeded(backend, None).await;
    let claire = account_id(&op, GUARDIAN.0).await;
    let back = tie_by_password(&op, &fake, "claire-martin", GUARDIAN).await;
    assert!(back.status().is_redirection(), "{}", back.status());
    assert!(at_the_demo_rp(&op, &location(&back)), "{}", location(&back));
    assert_eq!(
        tied_account(&op, &fake, "claire-martin").await,
        Some(claire.clone())
    );
    let events = events_of(&op, &claire).await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "account.franceconnect_tied" && e.outcome == "ok"),
        "{events:?}"
    );

    // The next time, in another browser: straight through to the relying party.
    let http = browser();
    let (login, _) = demo_authorize(&op, &http).await;
    let back = through_franceconnect(&http, &op, &fake, &login, "claire-martin").await;
    assert!(at_the_demo_rp(&op, &location(&back)), "{}", location(&back));
}

async fn names_that_disagree_refuse_the_tie_and_change_nothing(backend: Backend) {
    let (op, fake) = seeded(backend, None).await;
    let claire = account_id(&op, GUARDIAN.0).await;
    let before = op.app.durable.account(&claire).await.unwrap().unwrap();
    // Sandrine Durand's FranceConnect identity, with Claire Martin's right password.
    let refused = tie_by_password(&op, &fake, "sandrine-durand", GUARDIAN).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = refused.text().await.unwrap().replace("&#39;", "'");
    assert!(page.contains("ne correspondent pas"), "{page}");
    assert!(page.contains("rien n'a été modifié"), "{page}");
    assert_eq!(tied_account(&op, &fake, "sandrine-durand").await, None);
    let upstream = op
        .app
        .durable
        .upstream_of_account(&claire, &fake.issuer)
        .await
        .unwrap();
    assert_eq!(upstream, None);
    let after = op.app.durable.account(&claire).await.unwrap().unwrap();
    assert_eq!(after, before);
}

async fn a_pupils_account_cannot_be_tied(backend: Backend) {
    let (op, fake) = seeded(backend, None).await;
    let refused = tie_by_password(&op, &fake, "claire-martin", PUPIL).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Les comptes élèves ne peuvent pas utiliser FranceConnect"),
        "{page}"
    );
    assert_eq!(tied_account(&op, &fake, "claire-martin").await, None);
}

async fn a_wrong_password_is_refused_like_the_login_page(backend: Backend) {
    let (op, fake) = seeded(backend, None).await;
    let refused = tie_by_password(&op, &fake, "claire-martin", (GUARDIAN.0, "Pas-le-bon-1")).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Identifiant ou mot de passe incorrect."),
        "{page}"
    );
    assert_eq!(tied_account(&op, &fake, "claire-martin").await, None);
}

/// Julien Martin (no EduConnect account yet) through FranceConnect as `who`, then the
/// registration's steps up to the birth dates answered: the browser and the page.
async fn registered_through_sms(
    op: &TestOp,
    fake: &FakeFranceConnect,
    operator: &SmsOperator,
    who: &str,
) -> (reqwest::Client, String, String) {
    let (http, flow, csrf) = at_the_tie_page(op, fake, who).await;
    let page = submit(
        op,
        &http,
        &[
            ("flow", &flow),
            ("csrf", &csrf),
            ("action", "register"),
            ("mobile", NUMBER),
        ],
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let (reg_flow, reg_csrf) = (hidden(&page, "flow"), hidden(&page, "csrf"));
    deliver_once(&op.app).await.unwrap();
    let code = operator.last_code_sent_to(E164).expect("an SMS code");
    let step = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("flow", reg_flow.clone()), ("csrf", reg_csrf.clone())];
        form.extend(fields);
        let http = http.clone();
        let url = op.url("/inscription/etape");
        async move {
            let response = http.post(url).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, page) = step(vec![("action", "code".into()), ("code", code)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let julien = op
        .app
        .durable
        .guardians_by_siecle_mobile("0639980103")
        .await
        .unwrap()
        .remove(0);
    let mut fields = vec![("action", "dates".to_owned())];
    fields.extend(
        op.birth_dates(&julien.id)
            .await
            .into_iter()
            .map(|d| ("date", d)),
    );
    let (status, page) = step(fields).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    if !page.contains("Choisissez votre mot de passe") {
        return (http, julien.id, page);
    }
    let (status, page) = step(vec![
        ("action", "password".into()),
        ("password", NEW_PASSWORD.into()),
        ("confirm", NEW_PASSWORD.into()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    (http, julien.id, page)
}

async fn a_guardian_without_an_account_ties_by_sms_and_birth_dates(backend: Backend) {
    let operator = SmsOperator::start().await;
    let (op, fake) = seeded(backend, Some(&operator)).await;
    let (http, julien, page) = registered_through_sms(&op, &fake, &operator, "julien-martin").await;
    let page = page.replace("&#39;", "'");
    assert!(
        page.contains("rattaché à votre identité FranceConnect"),
        "{page}"
    );
    assert_eq!(
        tied_account(&op, &fake, "julien-martin").await,
        Some(julien.clone())
    );
    let account = op.app.durable.account(&julien).await.unwrap().unwrap();
    assert_eq!(account.state, AccountState::Active);
    assert_eq!(account.verified_phone.as_deref(), Some("0639980103"));
    // « Continuer vers le service »: the login goes on to the relying party.
    let tie_form = page.split("id=\"continuer-franceconnect\"").nth(1).unwrap();
    let (tie_flow, tie_csrf) = (hidden(tie_form, "flow"), hidden(tie_form, "csrf"));
    let back = submit(
        &op,
        &http,
        &[
            ("flow", &tie_flow),
            ("csrf", &tie_csrf),
            ("action", "continue"),
        ],
    )
    .await;
    assert!(at_the_demo_rp(&op, &location(&back)), "{}", location(&back));
    // Once only: the tie flow is spent.
    let again = submit(
        &op,
        &http,
        &[
            ("flow", &tie_flow),
            ("csrf", &tie_csrf),
            ("action", "continue"),
        ],
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

async fn a_registration_whose_names_disagree_ends_with_nothing_changed(backend: Backend) {
    let operator = SmsOperator::start().await;
    let (op, fake) = seeded(backend, Some(&operator)).await;
    let (_, julien, page) = registered_through_sms(&op, &fake, &operator, "sandrine-durand").await;
    assert!(page.contains("id=\"noms-differents\""), "{page}");
    assert_eq!(tied_account(&op, &fake, "sandrine-durand").await, None);
    let account = op.app.durable.account(&julien).await.unwrap().unwrap();
    assert_ne!(account.state, AccountState::Active, "not registered");
    assert_eq!(account.verified_phone, None);
}

async fn mon_compte_shows_the_tie_and_undoes_it(backend: Backend) {
    let (op, fake) = seeded(backend, None).await;
    let claire = account_id(&op, GUARDIAN.0).await;
    let (http, back) = tie_by_password_in(&op, &fake, "claire-martin", GUARDIAN).await;
    assert!(at_the_demo_rp(&op, &location(&back)));
    // The same browser's SSO session opens Mon compte.
    let page = http.get(op.url("/compte")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap().replace("&#39;", "'");
    assert!(
        page.contains("Votre compte est rattaché à votre identité FranceConnect"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    // Two other sessions of the account: one opened through FranceConnect in another
    // browser, one with the password.
    let other = browser();
    let (login, _) = demo_authorize(&op, &other).await;
    let back = through_franceconnect(&other, &op, &fake, &login, "claire-martin").await;
    assert!(at_the_demo_rp(&op, &location(&back)));
    assert!(in_mon_compte(&op, &other).await);
    let (by_password, _) = signed_in_to_mon_compte(&op, GUARDIAN.0, GUARDIAN.1).await;
    assert_eq!(live_sessions(&op, &claire).await, 3);
    let undone = http
        .post(op.url("/compte/franceconnect/defaire"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(undone.status(), StatusCode::SEE_OTHER);
    assert_eq!(tied_account(&op, &fake, "claire-martin").await, None);
    // The other FranceConnect session has ended; this one and the password's go on.
    assert!(!in_mon_compte(&op, &other).await, "ended with the tie");
    assert!(in_mon_compte(&op, &http).await, "where the tie was undone");
    match by_password.get(&op.issuer, &op.url("/compte")).await {
        Step::Page { url, .. } => assert_eq!(url.path(), "/compte", "the password's session"),
        Step::Left(url) => panic!("left for {url}"),
    }
    assert_eq!(live_sessions(&op, &claire).await, 2);
    let page = http
        .get(op.url("/compte?fait=franceconnect-defait"))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap().replace("&#39;", "'");
    assert!(
        page.contains("rattaché à aucune identité FranceConnect"),
        "{page}"
    );
    let events = events_of(&op, &claire).await;
    assert!(events
        .iter()
        .any(|e| e.action == "account.franceconnect_untied"));
    // A forged form (no session's token) undoes nothing.
    tie_by_password(&op, &fake, "claire-martin", GUARDIAN).await;
    let forged = http
        .post(op.url("/compte/franceconnect/defaire"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        tied_account(&op, &fake, "claire-martin").await,
        Some(claire)
    );
    // Undone: the next FranceConnect login asks for the account again.
    assert!(http
        .post(op.url("/compte/franceconnect/defaire"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .status()
        .is_redirection());
    at_the_tie_page(&op, &fake, "claire-martin").await;
}

async fn a_temporary_password_is_not_a_tie_and_points_to_the_other_ways(backend: Backend) {
    let (op, fake) = seeded(backend, None).await;
    // Julien Paul Martin was sent a letter: his account is `notified`, with a temporary password.
    let julien = op
        .app
        .durable
        .guardians_by_siecle_mobile("0639980103")
        .await
        .unwrap()
        .remove(0);
    let app = &op.app;
    let temporary = educonnect::accounts::lifecycle::issue_temporary_password(
        &*app.durable,
        &app.passwords,
        app,
        &julien,
        app.now_ms() + 86_400_000,
        app.now_ms(),
        |_| Ok(None),
    )
    .await
    .unwrap();
    let typed = temporary.shown();
    let refused =
        tie_by_password(&op, &fake, "julien-martin", (&julien.login, typed.expose())).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = refused.text().await.unwrap();
    assert!(page.contains("pas encore activé"), "{page}");
    assert!(
        page.contains("Je n&#39;ai pas") || page.contains("Je n'ai pas"),
        "{page}"
    );
    assert_eq!(tied_account(&op, &fake, "julien-martin").await, None);
    let after = op.app.durable.account(&julien.id).await.unwrap().unwrap();
    assert_eq!(after.state, AccountState::Notified, "still to be activated");
}
