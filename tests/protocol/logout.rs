//! RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.

use std::time::Duration;

use axum::routing::post;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

use crate::common::browser::{hidden, param, Step};
use crate::common::{Backend, POST_LOGOUT_URI};
use crate::fixture::{access, refresh, Fixture};
use crate::on_both_backends;

on_both_backends!(
    logout_with_valid_hint_redirects_with_state_and_ends_the_session,
    logout_with_bad_or_modified_id_token_hint_does_not_redirect,
    logout_with_unregistered_post_logout_uri_does_not_redirect,
    logout_with_query_added_to_post_logout_uri_does_not_redirect,
    logout_with_only_state_asks_for_confirmation,
    logout_without_hint_asks_for_confirmation,
    an_id_token_of_an_ended_session_asks_for_confirmation,
    logout_refuses_repeated_or_unreadable_parameters,
    logout_revokes_session_tokens_but_not_offline_ones,
    logout_revokes_access_tokens_of_clients_without_refresh_tokens,
    backchannel_logout_posts_a_signed_logout_token_to_each_rp,
);

fn logout_url(f: &Fixture, hint: Option<&str>, post_logout: Option<&str>) -> String {
    let mut url = url::Url::parse(&f.op.url("/logout")).unwrap();
    if let Some(hint) = hint {
        url.query_pairs_mut().append_pair("id_token_hint", hint);
    }
    if let Some(uri) = post_logout {
        url.query_pairs_mut()
            .append_pair("post_logout_redirect_uri", uri);
    }
    url.query_pairs_mut().append_pair("state", "bye & see you");
    url.to_string()
}

/// The browser asks to log out with `hint` and the registered post-logout URI.
async fn logout_with(f: &Fixture, hint: &str) -> Step {
    f.browser
        .get(
            f.issuer(),
            &logout_url(f, Some(hint), Some(POST_LOGOUT_URI)),
        )
        .await
}

/// Whether the browser's SSO session still answers `prompt=none` with a code.
async fn still_signed_in(f: &Fixture) -> bool {
    let pending = f.request(&[], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!("prompt=none always goes back to the RP")
    };
    param(&back, "code").is_some()
}

async fn logged_in(f: &Fixture) -> String {
    let (tokens, _) = f.login(&[]).await;
    tokens.id_token().unwrap().to_string()
}

async fn logout_with_valid_hint_redirects_with_state_and_ends_the_session(backend: Backend) {
    let f = Fixture::new(backend).await;
    let hint = logged_in(&f).await;
    let Step::Left(back) = f
        .browser
        .get(
            f.issuer(),
            &logout_url(&f, Some(&hint), Some(POST_LOGOUT_URI)),
        )
        .await
    else {
        panic!("a valid hint and a registered URI redirect")
    };
    assert!(back.as_str().starts_with(POST_LOGOUT_URI));
    assert_eq!(param(&back, "state").as_deref(), Some("bye & see you"));
    // The SSO session is over: prompt=none now needs a login.
    let pending = f.request(&[], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!()
    };
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
}

/// Review #13.6 (RP-Initiated Logout 1.0 §2): a hint of the same person but of a session that has
/// ended does not end the current session without asking.
async fn an_id_token_of_an_ended_session_asks_for_confirmation(backend: Backend) {
    let f = Fixture::new(backend).await;
    let old_hint = logged_in(&f).await;
    let Step::Left(_) = logout_with(&f, &old_hint).await else {
        panic!("the hint of the current session logs out at once")
    };
    // Logged in again: a new session, of the same person.
    let _current_hint = logged_in(&f).await;
    let Step::Page { status, body, .. } = logout_with(&f, &old_hint).await else {
        panic!("an old session's hint must not redirect")
    };
    assert_eq!(status, 200);
    assert!(body.contains("Se déconnecter d'EduConnect"), "{body}");
    assert!(
        still_signed_in(&f).await,
        "the current session is still there"
    );
}

/// Review #13.13: `/logout?state=a&state=b` or a value that is not UTF-8 is a malformed request.
async fn logout_refuses_repeated_or_unreadable_parameters(backend: Backend) {
    let f = Fixture::new(backend).await;
    let hint = logged_in(&f).await;
    let base = logout_url(&f, Some(&hint), Some(POST_LOGOUT_URI));
    for url in [
        format!("{base}&state=again"),
        format!("{base}&ui_locales=%FF"),
    ] {
        let Step::Page { status, .. } = f.browser.get(f.issuer(), &url).await else {
            panic!("{url} must not redirect")
        };
        assert_eq!(status, 400, "{url}");
    }
    assert!(still_signed_in(&f).await, "nothing was done");
}

async fn logout_with_bad_or_modified_id_token_hint_does_not_redirect(backend: Backend) {
    let f = Fixture::new(backend).await;
    let hint = logged_in(&f).await;
    let mut parts: Vec<String> = hint.split('.').map(str::to_owned).collect();
    let payload = crate::authorize::base64_part(&hint, 1);
    let mut claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    claims["sub"] = serde_json::json!("someone-else");
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    for bad in [parts.join("."), "not-a-jwt".to_owned()] {
        let step = f
            .browser
            .get(
                f.issuer(),
                &logout_url(&f, Some(&bad), Some(POST_LOGOUT_URI)),
            )
            .await;
        let Step::Page { status, body, .. } = step else {
            panic!("a bad hint must not redirect")
        };
        assert_eq!(status, 200);
        assert!(
            body.contains("Se déconnecter d&#39;EduConnect") || body.contains("déconnect"),
            "{body}"
        );
    }
    // Still logged in: nothing happened without confirmation.
    let pending = f.request(&[], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!()
    };
    assert!(param(&back, "code").is_some());
}

async fn logout_with_unregistered_post_logout_uri_does_not_redirect(backend: Backend) {
    let f = Fixture::new(backend).await;
    let hint = logged_in(&f).await;
    let step = f
        .browser
        .get(
            f.issuer(),
            &logout_url(&f, Some(&hint), Some("https://attacker.example/")),
        )
        .await;
    let Step::Page { body, .. } = step else {
        panic!("unregistered URI: no redirect")
    };
    assert!(body.contains("Vous êtes déconnecté"));
}

async fn logout_without_hint_asks_for_confirmation(backend: Backend) {
    let f = Fixture::new(backend).await;
    logged_in(&f).await;
    let step = f
        .browser
        .get(f.issuer(), &logout_url(&f, None, Some(POST_LOGOUT_URI)))
        .await;
    let Step::Page { body, .. } = step else {
        panic!("no hint: a confirmation page, no redirect")
    };
    let csrf = hidden(&body, "csrf").expect("confirmation form");
    // A forged confirmation does nothing.
    f.browser
        .post(
            f.issuer(),
            &f.op.url("/logout/confirm"),
            &[("csrf", "forged")],
        )
        .await;
    let Step::Page { body, .. } = f
        .browser
        .post(f.issuer(), &f.op.url("/logout/confirm"), &[("csrf", &csrf)])
        .await
    else {
        panic!()
    };
    assert!(body.contains("Vous êtes déconnecté"));
    let pending = f.request(&[], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!()
    };
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
}

async fn logout_revokes_session_tokens_but_not_offline_ones(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (online, _) = f.login(&[]).await;
    let pending = f.request(&["offline_access"], &[]);
    let step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    let Step::Left(back) = f.browser.submit_consent(f.issuer(), step, true).await else {
        panic!()
    };
    let offline = f
        .exchange(&param(&back, "code").unwrap(), &pending)
        .await
        .unwrap();
    let hint = online.id_token().unwrap().to_string();
    assert!(matches!(
        f.browser
            .get(
                f.issuer(),
                &logout_url(&f, Some(&hint), Some(POST_LOGOUT_URI))
            )
            .await,
        Step::Left(_)
    ));
    assert_eq!(f.introspect(&refresh(&online)).await["active"], false);
    assert_eq!(f.userinfo_status(&access(&online)).await, 401);
    assert_eq!(
        f.introspect(&refresh(&offline)).await["active"],
        true,
        "offline_access outlives the session"
    );
}

/// A client not registered for refresh tokens has no durable grant: its access tokens die at the
/// logout all the same.
async fn logout_revokes_access_tokens_of_clients_without_refresh_tokens(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut registration = crate::common::registration("ent-short");
    registration
        .grant_types
        .retain(|g| *g != educonnect::clients::GrantType::RefreshToken);
    let (_, secret) = f.op.register(registration).await;
    let rp = crate::fixture::rp_for(&f.op, &f.http, "ent-short", secret.as_ref()).await;
    let (tokens, _) = f.login_as(&rp, &[]).await;
    assert!(tokens.refresh_token().is_none());
    let at = access(&tokens);
    assert_eq!(f.userinfo_status(&at).await, 200);
    let hint = tokens.id_token().unwrap().to_string();
    let Step::Left(_) = logout_with(&f, &hint).await else {
        panic!("logged out")
    };
    assert_eq!(f.userinfo_status(&at).await, 401);
}

async fn backchannel_logout_posts_a_signed_logout_token_to_each_rp(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = attempts.clone();
    // The RP answers its first delivery only once the browser's logout has returned: a logout
    // that waited for RPs would never return.
    let logout_returned = std::sync::Arc::new(tokio::sync::Notify::new());
    let released = logout_returned.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        post(
            move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let sender = sender.clone();
                let counter = counter.clone();
                let released = released.clone();
                async move {
                    // The first delivery fails: the provider must retry.
                    if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        released.notified().await;
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    sender.send(form["logout_token"].clone()).unwrap();
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut registration = crate::common::registration("ent-bcl");
    registration.backchannel_logout_uri = Some(receiver_url);
    let (_, secret) = f.op.register(registration).await;
    let rp = crate::fixture::rp_for(&f.op, &f.http, "ent-bcl", secret.as_ref()).await;
    // The person uses two RPs in one session; only ent-bcl registered for back-channel logout.
    let hint = logged_in(&f).await;
    let pending = crate::fixture::pending(&rp, &[], &[]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!()
    };
    let tokens = rp
        .exchange_code(openidconnect::AuthorizationCode::new(
            param(&back, "code").unwrap(),
        ))
        .unwrap()
        .set_pkce_verifier(pending.verifier)
        .request_async(&f.http)
        .await
        .unwrap();
    let sid = serde_json::from_slice::<serde_json::Value>(&crate::authorize::base64_part(
        &tokens.id_token().unwrap().to_string(),
        1,
    ))
    .unwrap()["sid"]
        .clone();
    let logout = tokio::time::timeout(
        Duration::from_secs(10),
        f.browser.get(
            f.issuer(),
            &logout_url(&f, Some(&hint), Some(POST_LOGOUT_URI)),
        ),
    )
    .await
    .expect("the logout does not wait for RPs");
    assert!(matches!(logout, Step::Left(_)));
    logout_returned.notify_one();
    let token = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("delivered")
        .unwrap();
    assert!(
        attempts.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "retried after a failure"
    );
    let header: serde_json::Value =
        serde_json::from_slice(&crate::authorize::base64_part(&token, 0)).unwrap();
    assert_eq!(header["typ"], "logout+jwt");
    let claims = educonnect::tokens::jwt::verify(
        &f.op.app.keys,
        f.issuer(),
        &token,
        Some(f.op.app.now_ms()),
    )
    .await
    .unwrap()
    .expect("signed by the provider");
    assert_eq!(claims["aud"], "ent-bcl");
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], f.sub);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(
        claims.get("nonce").is_none(),
        "Back-Channel Logout §2.4: no nonce"
    );
}

async fn logout_with_query_added_to_post_logout_uri_does_not_redirect(backend: Backend) {
    let f = Fixture::new(backend).await;
    let hint = logged_in(&f).await;
    let tampered = format!("{POST_LOGOUT_URI}?extra=1");
    let step = f
        .browser
        .get(f.issuer(), &logout_url(&f, Some(&hint), Some(&tampered)))
        .await;
    assert!(
        matches!(step, Step::Page { .. }),
        "exact match only: no redirect"
    );
}

async fn logout_with_only_state_asks_for_confirmation(backend: Backend) {
    let f = Fixture::new(backend).await;
    logged_in(&f).await;
    let step = f.browser.get(f.issuer(), &logout_url(&f, None, None)).await;
    let Step::Page { body, .. } = step else {
        panic!("no redirect without a hint")
    };
    assert!(hidden(&body, "csrf").is_some(), "confirmation form");
}
