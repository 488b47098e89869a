//! Mon compte's own sign-in (issue #17), over HTTP on both backends: `/compte` without a session
//! leads to the login page "pour accéder à Mon compte" and back to `/compte`; a notified account
//! goes through the activation and lands on Mon compte; wrong passwords are throttled as at any
//! login; "Se déconnecter" ends the session.

use crate::common::browser::{hidden, Browser, Step};
use crate::common::{Backend, TestOp};
use crate::contacts::{post, signed_in_to_mon_compte, unescaped};
use crate::on_both_backends;
use educonnect::accounts::lifecycle::issue_temporary_password;
use educonnect::accounts::Profile;

on_both_backends!(
    mon_compte_signs_in_without_a_relying_party_and_signs_out,
    a_notified_account_goes_through_activation_to_mon_compte,
    mon_compte_sign_in_is_throttled_like_the_login,
    a_password_change_needs_the_current_one_and_ends_every_session,
);

const PASSWORD: &str = "Famille-Mot-2026";
const NEW_PASSWORD: &str = "Tournesol-Bleu-42";

async fn mon_compte_signs_in_without_a_relying_party_and_signs_out(backend: Backend) {
    let op = TestOp::start(backend).await;
    let guardian = op.account("c.durand3", PASSWORD, Profile::Guardian).await;
    let browser = Browser::new();
    let Step::Page { body, url, .. } = browser.get(&op.issuer, &op.url("/compte")).await else {
        panic!("expected the login page")
    };
    assert_eq!(url.path(), "/login");
    assert!(
        body.contains("pour accéder à <strong>Mon compte</strong>"),
        "{body}"
    );

    let (browser, body) = signed_in_to_mon_compte(&op, &guardian.login, PASSWORD).await;
    assert!(body.contains("id=\"identifiant\">c.durand3<"), "{body}");
    assert!(body.contains("représentant légal"), "{body}");
    let body = unescaped(&body);
    assert!(body.contains("demandez-le à son établissement"), "{body}");
    let csrf = hidden(&body, "csrf").unwrap();
    let (status, body) = post(&browser, &op, "/compte/deconnexion", &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(body.contains("Vous êtes déconnecté"), "{body}");
    let Step::Page { url, .. } = browser.get(&op.issuer, &op.url("/compte")).await else {
        panic!("expected the login page")
    };
    assert_eq!(url.path(), "/login", "the session is over");
}

async fn a_notified_account_goes_through_activation_to_mon_compte(backend: Backend) {
    let op = TestOp::start(backend).await;
    let pupil = op.account("l.bernard5", PASSWORD, Profile::Pupil).await;
    let app = &op.app;
    let until = app.now_ms() + 92 * 86_400_000;
    let temporary = issue_temporary_password(
        &*app.durable,
        &app.passwords,
        app,
        &pupil,
        until,
        app.now_ms(),
        |_| Ok(None),
    )
    .await
    .unwrap();
    let browser = Browser::new();
    let step = browser.get(&op.issuer, &op.url("/compte")).await;
    let step = browser
        .submit_login(&op.issuer, step, &pupil.login, temporary.shown().expose())
        .await;
    let Step::Page { url, body, .. } = step else {
        panic!("expected the activation")
    };
    assert_eq!(url.path(), "/activation", "{body}");
    let tx = hidden(&body, "tx").unwrap();
    let csrf = hidden(&body, "csrf").unwrap();
    let form = [
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("action", "password"),
        ("password", NEW_PASSWORD),
        ("confirm", NEW_PASSWORD),
    ];
    let step = browser
        .post(&op.issuer, &op.url("/activation"), &form)
        .await;
    let Step::Page { body, .. } = step else {
        panic!("expected the address step")
    };
    let csrf = hidden(&body, "csrf").unwrap();
    let skip = [
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("action", "skip_email"),
    ];
    let step = browser
        .post(&op.issuer, &op.url("/activation"), &skip)
        .await;
    let Step::Page { url, body, .. } = step else {
        panic!("expected Mon compte")
    };
    assert_eq!(url.path(), "/compte", "{body}");
    assert!(body.contains("id=\"identifiant\">l.bernard5<"), "{body}");
}

async fn mon_compte_sign_in_is_throttled_like_the_login(backend: Backend) {
    let op = TestOp::start_with(backend, |config| {
        config.throttle.failures_per_account = 3;
    })
    .await;
    let pupil = op.account("l.petit8", PASSWORD, Profile::Pupil).await;
    let browser = Browser::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let step = browser.get(&op.issuer, &op.url("/compte")).await;
        let step = browser
            .submit_login(&op.issuer, step, &pupil.login, "Pas-le-bon-1")
            .await;
        let Step::Page { status, .. } = step else {
            panic!("expected the login page")
        };
        statuses.push(status);
    }
    assert_eq!(statuses, vec![401, 401, 401, 429]);
    // Even the right password waits now.
    let step = browser.get(&op.issuer, &op.url("/compte")).await;
    let step = browser
        .submit_login(&op.issuer, step, &pupil.login, PASSWORD)
        .await;
    let Step::Page { status, .. } = step else {
        panic!("expected the login page")
    };
    assert_eq!(status, 429);
}

async fn a_password_change_needs_the_current_one_and_ends_every_session(backend: Backend) {
    let op = TestOp::start(backend).await;
    let guardian = op.account("c.durand4", PASSWORD, Profile::Guardian).await;
    let (browser, body) = signed_in_to_mon_compte(&op, &guardian.login, PASSWORD).await;
    let (elsewhere, _) = signed_in_to_mon_compte(&op, &guardian.login, PASSWORD).await;
    let csrf = hidden(&body, "csrf").unwrap();
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let csrf = csrf.clone();
        let (browser, op) = (&browser, &op);
        async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("current", current),
                ("new", new),
                ("confirm", confirm),
            ];
            post(browser, op, "/compte/mot-de-passe", &form).await
        }
    };
    let (status, body) = change("Pas-le-bon-1", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 401);
    assert!(
        body.contains("Le mot de passe actuel est incorrect."),
        "{body}"
    );
    let (status, body) = change(PASSWORD, NEW_PASSWORD, "Autre-Chose-42").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("Les deux mots de passe saisis sont différents."),
        "{body}"
    );
    let (status, body) = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(body.contains("Votre mot de passe est changé"), "{body}");
    // Every session ended, this browser's and the other one's.
    for b in [&browser, &elsewhere] {
        let Step::Page { url, .. } = b.get(&op.issuer, &op.url("/compte")).await else {
            panic!("expected the login page")
        };
        assert_eq!(url.path(), "/login");
    }
    signed_in_to_mon_compte(&op, &guardian.login, NEW_PASSWORD).await;
}
