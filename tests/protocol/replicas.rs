//! Several replicas against the same PostgreSQL and Redis behave as one provider: every step of
//! every flow may land on any replica.

use std::time::Duration;

use openidconnect::TokenResponse;

use crate::common::browser::{hidden, param, Step};
use crate::common::{Backend, REDIRECT_URI};
use crate::fixture::{access, Fixture, CLIENT_ID, LOGIN, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_every_step_of_every_flow() {
    let f = Fixture::new(Backend::Production).await;
    let b = f.op.replica().await;
    // Authorize on A, log in on B: the login transaction is shared.
    let pending = f.request(&["offline_access"], &[]);
    let Step::Page { body, .. } = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!()
    };
    let (tx, csrf) = (hidden(&body, "tx").unwrap(), hidden(&body, "csrf").unwrap());
    let form = [
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("login", LOGIN),
        ("password", PASSWORD),
    ];
    let step = f.browser.post(&b.base, &b.url("/login"), &form).await;
    let Step::Page { body, .. } = step else {
        panic!("consent expected")
    };
    // Consent answered on A.
    let (tx, csrf) = (hidden(&body, "tx").unwrap(), hidden(&body, "csrf").unwrap());
    let step = f
        .browser
        .post(
            f.issuer(),
            &f.op.url("/consent"),
            &[("tx", &tx), ("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    let Step::Left(back) = step else {
        panic!("a code expected")
    };
    let code = param(&back, "code").unwrap();
    // The SSO session made on B is seen by B and A.
    let silent = f.request(&[], &[("prompt", "none")]);
    let mut on_b = url::Url::parse(&b.url("/authorize")).unwrap();
    on_b.set_query(silent.url.query());
    let Step::Left(back) = f.browser.get(&b.base, on_b.as_str()).await else {
        panic!()
    };
    assert!(param(&back, "code").is_some());
    // Code redeemed on B, tokens used on A and B.
    let verifier = pending.verifier.secret().clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens: serde_json::Value = f
        .http
        .post(b.url("/token"))
        .basic_auth(CLIENT_ID, Some(f.secret.expose()))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(f.userinfo_status(access_token).await, 200);
    let refreshed: serde_json::Value = f
        .http
        .post(b.url("/token"))
        .basic_auth(CLIENT_ID, Some(f.secret.expose()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        f.introspect(refreshed["access_token"].as_str().unwrap())
            .await["active"],
        true
    );
    // Replaying the code on A revokes what B issued.
    let (status, _) = f.token_raw(&form).await;
    assert_eq!(status, 400);
    assert_eq!(
        f.introspect(refreshed["refresh_token"].as_str().unwrap())
            .await["active"],
        false
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_on_one_replica_is_seen_by_the_others() {
    let f = Fixture::new(Backend::Production).await;
    let b = f.op.replica().await;
    // B has loaded the key set; A rotates.
    b.app.keys.jwks().await.unwrap();
    f.op.app
        .keys
        .rotate(
            educonnect::tokens::SigningAlg::RS256,
            Duration::ZERO,
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    let (tokens, _) = f.login(&[]).await;
    let hint = tokens.id_token().unwrap().to_string();
    // B reloads on an unknown kid at most every 100 ms: past that since its last load (a fast
    // machine logs in within it), B verifies a token signed with the new key.
    f.op.clock.advance(Duration::from_secs(1));
    let mut logout = url::Url::parse(&b.url("/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &hint)
        .append_pair("post_logout_redirect_uri", crate::common::POST_LOGOUT_URI);
    let Step::Left(back) = f.browser.get(&b.base, logout.as_str()).await else {
        panic!("B must accept A's new key")
    };
    assert!(back.as_str().starts_with(crate::common::POST_LOGOUT_URI));
    // The logout on B ended the session for A too.
    assert_eq!(f.userinfo_status(&access(&tokens)).await, 401);
}
