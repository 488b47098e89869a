//! The account page (`/compte`) over HTTP, on both backends: what must be refused and how. The
//! paths a person follows are driven in Chromium by `tests/browser.rs`; here the CSRF token, a
//! pupil trying to attach, declining a candidate, confirming an account that is no candidate,
//! expired, throttled and raced attachment codes.

use crate::common::browser::{hidden, Browser, Step};
use crate::common::{registration, siecle_generated, Backend, TestOp};
use crate::fixture::{http, pending, rp_for};
use crate::on_both_backends;
use educonnect::accounts::linking::{self, LinkCandidate, Linker, Proof, Refusal};
use educonnect::accounts::{throttle, Account, AccountState};
use educonnect::secrets::Secret;
use educonnect::siecle::Export;

on_both_backends!(
    forms_need_the_session_and_its_csrf_token,
    a_pupil_cannot_attach_anyone,
    a_guardian_declines_a_candidate_and_cannot_confirm_an_account_never_proposed,
    codes_expire_are_throttled_and_serve_one_guardian_only,
);

const CLIENT: &str = "ent-compte";
const PASSWORD: &str = "Famille-Mot-2026";

struct Family {
    op: TestOp,
    exports: Vec<Export>,
    candidate: LinkCandidate,
    guardian: Account,
    secret: educonnect::secrets::Secret,
}

/// Generated establishments imported, the first candidate's account active, an RP to sign in.
async fn family(backend: Backend) -> Family {
    let op = TestOp::start(backend).await;
    let (_, secret) = op.register(registration(CLIENT)).await;
    let generated = siecle_generated(4, 150, 11);
    let exports = op.import_siecle(generated.path()).await;
    let candidate = op.candidates(&exports).await.into_iter().next().unwrap();
    let guardian = op.activate(&candidate.account.id, PASSWORD).await;
    Family {
        op,
        exports,
        candidate,
        guardian,
        secret: secret.unwrap(),
    }
}

/// A browser signed in as `login` through the RP, on `/compte`: its page body.
async fn signed_in(f: &Family, login: &str) -> (Browser, String) {
    let rp = rp_for(&f.op, &http(), CLIENT, Some(&f.secret)).await;
    let pending = pending(&rp, &["profile"], &[]);
    let browser = Browser::new();
    browser
        .authorize(&f.op.issuer, pending.url.as_str(), login, PASSWORD)
        .await;
    let body = page(&browser, &f.op, "/compte", 200).await;
    (browser, body)
}

async fn page(browser: &Browser, op: &TestOp, path: &str, expected: u16) -> String {
    match browser.get(&op.issuer, &op.url(path)).await {
        Step::Page { status, body, .. } => {
            assert_eq!(status, expected, "{body}");
            body
        }
        Step::Left(url) => panic!("left for {url}"),
    }
}

async fn post(browser: &Browser, op: &TestOp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    match browser.post(&op.issuer, &op.url(path), form).await {
        Step::Page { status, body, .. } => (status, body),
        Step::Left(url) => panic!("left for {url}"),
    }
}

async fn forms_need_the_session_and_its_csrf_token(backend: Backend) {
    let f = family(backend).await;
    let stranger = Browser::new();
    // Without a session, Mon compte's own sign-in.
    let body = page(&stranger, &f.op, "/compte", 200).await;
    assert!(
        body.contains("pour accéder à <strong>Mon compte</strong>"),
        "{body}"
    );
    let (status, body) = post(
        &stranger,
        &f.op,
        "/compte/rattacher",
        &[("csrf", "x"), ("proof", "code"), ("code", "ABCD-EFGH-JKMN")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("Je me connecte"), "{body}");

    let (browser, body) = signed_in(&f, &f.guardian.login).await;
    let csrf = hidden(&body, "csrf").unwrap();
    // Another session's token, or none, is refused before anything is checked.
    let (_, other_body) = signed_in(&f, &f.guardian.login).await;
    let foreign = hidden(&other_body, "csrf").unwrap();
    assert_ne!(csrf, foreign);
    for token in [foreign.as_str(), ""] {
        let (status, body) = post(
            &browser,
            &f.op,
            "/compte/rapprochement",
            &[
                ("csrf", token),
                ("action", "reject"),
                ("other_login", &f.candidate.other.login),
            ],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("Le formulaire a expiré"), "{body}");
    }
    let open =
        f.op.app
            .durable
            .candidates_of_account(&f.guardian.id)
            .await
            .unwrap();
    assert!(open.contains(&f.candidate), "nothing was declined");
}

async fn a_pupil_cannot_attach_anyone(backend: Backend) {
    let f = family(backend).await;
    let store = &f.op.app.durable;
    let ines: Vec<String> = f.exports[0]
        .pupils
        .iter()
        .take(2)
        .map(|p| p.ine.to_string())
        .collect();
    let pupil = store.pupil_account(&ines[0]).await.unwrap().unwrap();
    let pupil = f.op.activate(&pupil, PASSWORD).await;
    let sibling = store.pupil_account(&ines[1]).await.unwrap().unwrap();
    let sibling = f.op.activate(&sibling, PASSWORD).await;
    let (_, body) = signed_in(&f, &pupil.login).await;
    assert!(!body.contains("Rattacher un enfant"), "no form for a pupil");
    // Not even with the sibling's own password: the page offers no form, the rule holds below.
    let proof = Proof::Credentials {
        login: sibling.login.clone(),
        password: Secret::from_presented(PASSWORD),
    };
    let app = &f.op.app;
    let linker = Linker {
        verifier: app.credentials(),
        links: &*app.durable,
        sessions: app,
    };
    let refused = linking::attach_child(&linker, &pupil, proof, "127.0.0.1")
        .await
        .unwrap();
    assert_eq!(refused.unwrap_err(), Refusal::NotAGuardian);
    assert!(store
        .affiliations(&pupil.id)
        .await
        .unwrap()
        .children
        .is_empty());
}

async fn a_guardian_declines_a_candidate_and_cannot_confirm_an_account_never_proposed(
    backend: Backend,
) {
    let f = family(backend).await;
    let (browser, body) = signed_in(&f, &f.guardian.login).await;
    let csrf = hidden(&body, "csrf").unwrap();
    let other = &f.candidate.other.login;
    assert!(body.contains(&format!("rapprochement-{other}")));

    // An account never proposed: refused before any password is checked (no counter moves).
    let proposed: Vec<String> =
        f.op.app
            .durable
            .candidates_of_account(&f.guardian.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.other.id)
            .collect();
    let mut unrelated = None;
    for person in &f.exports[3].persons {
        let id =
            f.op.app
                .durable
                .person_account(f.exports[3].uai.as_str(), &person.personne_id)
                .await
                .unwrap()
                .unwrap();
        if id != f.guardian.id && !proposed.contains(&id) {
            unrelated = Some(id);
            break;
        }
    }
    let unrelated = f.op.activate(&unrelated.unwrap(), PASSWORD).await;
    let (status, body) = post(
        &browser,
        &f.op,
        "/compte/rapprochement",
        &[
            ("csrf", &csrf),
            ("action", "confirm"),
            ("other_login", &unrelated.login),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("ne fait pas partie des rapprochements"),
        "{body}"
    );
    let unrelated_now =
        f.op.app
            .durable
            .account(&unrelated.id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(unrelated_now.state, AccountState::Active);
    assert!(!throttle::exhausted(
        &*f.op.app.ephemeral,
        &f.op.app.config.throttle,
        f.op.app.now_ms(),
        &throttle::login(&f.op.app.config.throttle, &unrelated.login, "127.0.0.1")
    )
    .await
    .unwrap());

    // "Ce n'est pas moi": no password needed; the candidate is closed and both accounts stay.
    let (status, body) = post(
        &browser,
        &f.op,
        "/compte/rapprochement",
        &[
            ("csrf", &csrf),
            ("action", "reject"),
            ("other_login", other),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("reste distinct du vôtre"), "{body}");
    assert!(!body.contains(&format!("rapprochement-{other}")));
    let store = &f.op.app.durable;
    assert!(store
        .candidates_of_account(&f.guardian.id)
        .await
        .unwrap()
        .iter()
        .all(|c| c.other.id != f.candidate.other.id));
    let other_now = store.account(&f.candidate.other.id).await.unwrap().unwrap();
    assert_ne!(
        other_now.state,
        AccountState::Disabled,
        "declined, not merged"
    );
    // Declined once: a second time finds nothing to decline.
    let (status, _) = post(
        &browser,
        &f.op,
        "/compte/rapprochement",
        &[
            ("csrf", &csrf),
            ("action", "reject"),
            ("other_login", other),
        ],
    )
    .await;
    assert_eq!(status, 403);
}

async fn codes_expire_are_throttled_and_serve_one_guardian_only(backend: Backend) {
    let f = family(backend).await;
    let store = &f.op.app.durable;
    let pupil_of = |i: usize| f.exports[2].pupils[i].ine.to_string();
    let (browser, body) = signed_in(&f, &f.guardian.login).await;
    let csrf = hidden(&body, "csrf").unwrap();
    let attach = |code: String| {
        let csrf = csrf.clone();
        let browser = &browser;
        let op = &f.op;
        async move {
            post(
                browser,
                op,
                "/compte/rattacher",
                &[("csrf", &csrf), ("proof", "code"), ("code", &code)],
            )
            .await
        }
    };

    // Expired: a code handed out 31 days ago no longer works.
    let pupil = store.pupil_account(&pupil_of(0)).await.unwrap().unwrap();
    let month_ago = f.op.app.now_ms() - 31 * 24 * 3600 * 1000;
    let (code, stored) = linking::new_code(&pupil, month_ago);
    store.insert_attachment_code(&stored).await.unwrap();
    let (status, body) = attach(code).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("pas valable"), "{body}");

    // Raced by two guardians: exactly one gets the child, and only once.
    let pupil = store.pupil_account(&pupil_of(1)).await.unwrap().unwrap();
    let (code, stored) = linking::new_code(&pupil, f.op.app.now_ms());
    store.insert_attachment_code(&stored).await.unwrap();
    let rival = f.op.activate(&f.candidate.other.id, PASSWORD).await;
    let digest = linking::code_digest(&code);
    let now = f.op.app.now_ms();
    let (a, b) = tokio::join!(
        store.attach_with_code(&digest, &f.guardian.id, now),
        store.attach_with_code(&digest, &rival.id, now),
    );
    let digest_attempts = [a.unwrap(), b.unwrap()];
    let attached = digest_attempts
        .iter()
        .filter(|o| matches!(o, linking::CodeOutcome::Attached(_)))
        .count();
    assert_eq!(attached, 1, "{digest_attempts:?}");

    // Wrong codes: after throttle.failures_per_account of them (the expired one above counted),
    // 429 even for a right one.
    let pupil = store.pupil_account(&pupil_of(2)).await.unwrap().unwrap();
    let (good, stored) = linking::new_code(&pupil, f.op.app.now_ms());
    store.insert_attachment_code(&stored).await.unwrap();
    for _ in 1..f.op.app.config.throttle.failures_per_account {
        let (status, _) = attach("AAAA-BBBB-CCCC".into()).await;
        assert_eq!(status, 400);
    }
    let (status, body) = attach(good).await;
    assert_eq!(status, 429, "{body}");
    assert!(throttle::exhausted(
        &*f.op.app.ephemeral,
        &f.op.app.config.throttle,
        f.op.app.now_ms(),
        &throttle::subject(
            &f.op.app.config.throttle,
            &format!("code:{}", f.guardian.id),
            "127.0.0.1"
        )
    )
    .await
    .unwrap());
}
