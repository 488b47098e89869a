//! Signing in to the back-office (issue #16): the password, the second factor enrolled at the
//! first sign-in from the secret the page shows, the step-up, throttling, the session's idle
//! timeout and absolute lifetime, sign-out, and what an EduConnect account cannot do there
//! (nor a staff member at the login page).

use std::time::Duration;

use educonnect::staff::{totp, RoleKind};

use crate::common::staff::{self, hidden, Gestion};
use crate::common::{Backend, TestOp};

const COLLEGE: &str = "0699990J";

crate::on_both_backends!(
    a_head_enrols_the_second_factor_at_the_first_sign_in_then_steps_up,
    wrong_passwords_and_codes_get_one_answer_and_are_throttled,
    a_session_ends_when_idle_and_after_its_lifetime,
    sign_out_ends_the_session_and_forms_need_their_csrf_token,
    an_account_cannot_sign_in_to_the_back_office_nor_staff_at_the_login_page,
    a_staff_member_replaces_the_initial_password,
);

async fn a_head_enrols_the_second_factor_at_the_first_sign_in_then_steps_up(backend: Backend) {
    let op = TestOp::start(backend).await;
    let head = staff::add(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let gestion = Gestion::new(&op);

    // A page of the back-office sends an unsigned browser to the sign-in, and back after.
    let page = gestion.get("/gestion/accueil").await;
    assert_eq!(page.path, "/gestion");
    assert!(page.body.contains("Connexion à l'espace de gestion"));

    // First sign-in: the enrolment, with a QR code and the secret in base32.
    let page = gestion.sign_in_password(&head).await;
    assert_eq!(page.path, "/gestion/second-facteur", "{}", page.body);
    assert!(page.body.contains("Enrôlez votre clé OTP"));
    let base32 = page
        .body
        .split("id=\"cle-otp\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret in base32")
        .to_owned();
    let qr = gestion
        .http
        .get(op.url("/gestion/second-facteur/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));
    // Nothing else of the back-office opens before the enrolment.
    assert_eq!(
        gestion.get("/gestion/accueil").await.path,
        "/gestion/second-facteur"
    );

    let secret = totp::from_base32(&base32).expect("base32");
    let now = (op.app.now_ms() / 1000) as u64;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let wrong = gestion
        .post("/gestion/second-facteur", &csrf, &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Code incorrect"));
    let code = totp::code_at(&secret, now).unwrap();
    let page = gestion
        .post("/gestion/second-facteur", &csrf, &[("code", &code)])
        .await;
    assert_eq!(page.path, "/gestion/accueil", "{}", page.body);
    assert!(page.body.contains("clé OTP validée"));
    let credentials = op
        .app
        .durable
        .staff_credentials("m.bernard")
        .await
        .unwrap()
        .unwrap();
    assert!(credentials.staff.totp_enrolled_at.is_some());
    let sealed = credentials.totp_sealed.expect("sealed secret stored");
    assert!(!sealed.contains(&code));
    assert_eq!(
        totp::open(op.app.keys.kek(), &credentials.staff.id, &sealed).unwrap(),
        secret
    );
    assert!(
        page.body.contains("<td>Chef d&#39;établissement</td>"),
        "{}",
        page.body
    );

    // A second sign-in, in another browser: the password alone, then a step-up. The code
    // already used is refused (one use per code).
    let other = Gestion::new(&op);
    let page = other.sign_in_password(&head).await;
    assert_eq!(page.path, "/gestion/accueil");
    assert!(page.body.contains("mot de passe seul"));
    let page = other
        .get("/gestion/second-facteur?suite=/gestion/accueil")
        .await;
    assert!(page.body.contains("Saisissez votre code OTP"));
    let csrf = hidden(&page.body, "csrf").unwrap();
    let replayed = other
        .post(
            "/gestion/second-facteur",
            &csrf,
            &[("code", &code), ("suite", "/gestion/accueil")],
        )
        .await;
    assert_eq!(replayed.status, 401, "a code is accepted once");
    op.clock.advance(Duration::from_secs(totp::STEP));
    let code = totp::code_at(&secret, (op.app.now_ms() / 1000) as u64).unwrap();
    let page = other
        .post(
            "/gestion/second-facteur",
            &csrf,
            &[("code", &code), ("suite", "https://elsewhere.example/")],
        )
        .await;
    assert_eq!(page.path, "/gestion/accueil", "never sent elsewhere");
    assert!(page.body.contains("clé OTP validée"));
}

async fn wrong_passwords_and_codes_get_one_answer_and_are_throttled(backend: Backend) {
    let op = TestOp::start(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let gestion = Gestion::new(&op);
    let wrong = gestion
        .post_from(
            "/gestion",
            "/gestion/connexion",
            &[("login", "m.bernard"), ("password", "faux")],
        )
        .await;
    let unknown = gestion
        .post_from(
            "/gestion",
            "/gestion/connexion",
            &[("login", "personne"), ("password", "faux")],
        )
        .await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert!(wrong
        .body
        .contains("Identifiant ou mot de passe incorrect."));
    assert!(unknown
        .body
        .contains("Identifiant ou mot de passe incorrect."));
    let limit = op.app.config.throttle.failures_per_account;
    for _ in 1..limit {
        gestion
            .post_from(
                "/gestion",
                "/gestion/connexion",
                &[("login", "m.bernard"), ("password", "faux")],
            )
            .await;
    }
    // Past the limit, even the right password is not checked.
    let page = gestion.sign_in_password(&head).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.body.contains("Trop de tentatives"));
    let events = op
        .app
        .durable
        .events(&educonnect::store::AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let failed = events
        .iter()
        .filter(|e| {
            e.action == "staff.sign_in" && e.outcome == "failed" && e.actor == "staff:m.bernard"
        })
        .count();
    assert_eq!(
        failed as u64,
        limit + 1,
        "each failure and the throttled attempt recorded"
    );
    assert!(events
        .iter()
        .all(|e| !e.detail.as_deref().unwrap_or("").contains("faux")));

    // Codes are throttled per staff member too. The password's window ends first, by the
    // service's clock: the same password is accepted again.
    op.clock.advance(std::time::Duration::from_secs(
        op.app.config.throttle.window_seconds,
    ));
    let gestion = Gestion::new(&op);
    gestion.sign_in(&head).await;
    let page = gestion.get("/gestion/second-facteur").await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let mut last = 0;
    for _ in 0..=limit {
        last = gestion
            .post("/gestion/second-facteur", &csrf, &[("code", "999999")])
            .await
            .status;
    }
    assert_eq!(last, 429);
}

async fn a_session_ends_when_idle_and_after_its_lifetime(backend: Backend) {
    let op = TestOp::start(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let gestion = Gestion::new(&op);
    gestion.sign_in(&head).await;
    let idle = op.app.config.backoffice.idle_seconds;
    // Used within the idle timeout, again and again: still signed in.
    for _ in 0..3 {
        op.clock.advance(Duration::from_secs(idle - 5));
        assert_eq!(
            gestion.get("/gestion/accueil").await.path,
            "/gestion/accueil"
        );
    }
    // Idle too long: signed out.
    op.clock.advance(Duration::from_secs(idle + 1));
    assert_eq!(gestion.get("/gestion/accueil").await.path, "/gestion");

    // However much it is used, a session ends after its lifetime.
    gestion.sign_in(&head).await;
    let lifetime = op.app.config.backoffice.lifetime_seconds;
    let mut elapsed = 0;
    while elapsed + idle - 5 < lifetime {
        op.clock.advance(Duration::from_secs(idle - 5));
        elapsed += idle - 5;
        assert_eq!(
            gestion.get("/gestion/accueil").await.path,
            "/gestion/accueil"
        );
    }
    op.clock
        .advance(Duration::from_secs(lifetime - elapsed + 1));
    assert_eq!(gestion.get("/gestion/accueil").await.path, "/gestion");
}

async fn sign_out_ends_the_session_and_forms_need_their_csrf_token(backend: Backend) {
    let op = TestOp::start(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let gestion = Gestion::new(&op);
    gestion.sign_in(&head).await;
    let refused = gestion
        .post("/gestion/deconnexion", "not-the-token", &[])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        gestion.get("/gestion/accueil").await.path,
        "/gestion/accueil"
    );
    // A form from another site is refused before anything.
    let cross = gestion
        .http
        .post(op.url("/gestion/connexion"))
        .header("origin", "https://evil.example")
        .form(&[("login", "m.bernard"), ("password", head.password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let page = gestion
        .post_from("/gestion/accueil", "/gestion/deconnexion", &[])
        .await;
    assert_eq!(page.path, "/gestion");
    assert_eq!(gestion.get("/gestion/accueil").await.path, "/gestion");
    // The cookie is the back-office's own: HttpOnly, SameSite=Strict, path /gestion.
    let response = Gestion::new(&op)
        .http
        .get(op.url("/gestion"))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/gestion"),
        "{cookie}"
    );
}

async fn an_account_cannot_sign_in_to_the_back_office_nor_staff_at_the_login_page(
    backend: Backend,
) {
    let op = TestOp::start(backend).await;
    let pupil = op
        .account(
            "l.martin01",
            "Eleve-Demo-2026",
            educonnect::accounts::Profile::Pupil,
        )
        .await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let gestion = Gestion::new(&op);
    let page = gestion
        .post_from(
            "/gestion",
            "/gestion/connexion",
            &[("login", &pupil.login), ("password", "Eleve-Demo-2026")],
        )
        .await;
    assert_eq!(page.status, 401);
    // The login page of relying parties knows no staff member.
    let verifier = op.app.credentials();
    let checked = educonnect::accounts::credentials::check(
        &verifier,
        &head.staff.login,
        &staff::secret(&head.password),
        "127.0.0.1",
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        checked,
        educonnect::accounts::credentials::Checked::Wrong { account_id: None }
    ));
}

async fn a_staff_member_replaces_the_initial_password(backend: Backend) {
    let op = TestOp::start(backend).await;
    let head = staff::add_enrolled(&op, "m.bernard", staff::at(RoleKind::Head, COLLEGE)).await;
    let gestion = Gestion::new(&op);
    gestion.sign_in(&head).await;
    let page = gestion.get("/gestion/mot-de-passe").await;
    assert!(page.body.contains("Mon mot de passe"));
    let initial = head.password.as_str();
    let change = |current: &str, new: &str, confirm: &str| {
        let form = [
            ("current", current),
            ("password", new),
            ("confirm", confirm),
        ];
        let form: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
        form
    };
    // Each refusal says why, and changes nothing.
    for (form, status, why) in [
        (
            change(initial, "Tournesol-Bleu-42", "Tournesol-Bleu-43"),
            400,
            "diffèrent",
        ),
        (change(initial, "court", "court"), 400, "8"),
        (
            change(initial, "Camille-Gestion-42", "Camille-Gestion-42"),
            400,
            "nom",
        ),
        (
            change("Pas-Le-Bon-42", "Tournesol-Bleu-42", "Tournesol-Bleu-42"),
            401,
            "actuel est incorrect",
        ),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = gestion
            .post_from("/gestion/mot-de-passe", "/gestion/mot-de-passe", &form)
            .await;
        assert_eq!(page.status, status, "{why}: {}", page.body);
        assert!(page.body.contains(why), "{why}: {}", page.body);
    }
    let other = Gestion::new(&op);
    other.sign_in(&head).await;
    let form = change(initial, "Tournesol-Bleu-42", "Tournesol-Bleu-42");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = gestion
        .post_from("/gestion/mot-de-passe", "/gestion/mot-de-passe", &form)
        .await;
    assert!(
        page.body.contains("Votre mot de passe est changé"),
        "{}",
        page.body
    );
    // The other session ended; this one goes on.
    assert_eq!(other.get("/gestion/accueil").await.path, "/gestion");
    assert_eq!(
        gestion.get("/gestion/accueil").await.path,
        "/gestion/accueil"
    );
    // The initial password no longer signs in; the new one does.
    assert_eq!(Gestion::new(&op).sign_in_password(&head).await.status, 401);
    let renewed = staff::TestStaff {
        staff: head.staff.clone(),
        password: "Tournesol-Bleu-42".into(),
        totp: head.totp.clone(),
    };
    Gestion::new(&op).sign_in(&renewed).await;
    let events = op
        .app
        .durable
        .events(&educonnect::store::AuditQuery {
            subject: Some(format!("staff:{}", head.staff.id)),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.action == "staff.password_changed"));
}
