//! Token endpoint and the endpoints around tokens (RFC 6749 §4.1.3, §5, §6; RFC 7662; RFC 7009).

use std::sync::Arc;
use std::time::Duration;

use openidconnect::{AuthType, RefreshToken};

use crate::common::browser::param;
use crate::common::{Backend, REDIRECT_URI};
use crate::fixture::{access, refresh, Fixture, CLIENT_ID};
use crate::on_both_backends;

on_both_backends!(
    replayed_code_is_refused_and_revokes_issued_tokens,
    code_reuse_after_30_seconds_is_refused_and_revokes_issued_tokens,
    code_is_bound_to_client_redirect_uri_and_verifier,
    client_secret_post_authenticates,
    the_secret_is_accepted_only_the_way_the_client_registered,
    introspection_answers_only_the_token_s_client_or_a_resource_server,
    private_key_jwt_refuses_unadvertised_algorithms_and_early_assertions,
    bad_client_credentials_are_invalid_client_401,
    refresh_rotates_and_reuse_revokes_the_grant,
    refresh_token_is_bound_to_its_client,
    refused_refresh_leaves_the_token_usable,
    refresh_reuse_within_grace_keeps_one_valid_child,
    concurrent_code_redemptions_yield_exactly_one_success,
    concurrent_refresh_redemptions_yield_exactly_one_success,
    client_credentials_token_introspects_active,
    introspection_requires_client_authentication,
    revoked_and_expired_tokens_are_inactive,
    private_key_jwt_authenticates_and_assertions_are_single_use,
    es256_id_tokens_per_client,
    tokens_signed_before_rotation_stay_verifiable,
    a_second_rotation_within_the_window_retires_every_older_key,
    userinfo_answers_get_and_post_with_header_or_body,
);

async fn userinfo_answers_get_and_post_with_header_or_body(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (tokens, _) = f.login(&["profile"]).await;
    let token = access(&tokens);
    let url = f.op.url("/userinfo");
    let get: serde_json::Value = f
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post_header: serde_json::Value = f
        .http
        .post(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post_body: serde_json::Value = f
        .http
        .post(&url)
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["sub"], f.sub);
    assert_eq!(get, post_header);
    assert_eq!(get, post_body);
    assert_eq!(get["family_name"], "Martin");
    let response = f.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let response = f.http.get(&url).bearer_auth("forged").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    // A client_credentials token designates no person: no userinfo.
    let (_, body) = f.token_raw(&[("grant_type", "client_credentials")]).await;
    assert_eq!(
        f.userinfo_status(body["access_token"].as_str().unwrap())
            .await,
        401
    );
}

pub(crate) async fn code_of(f: &Fixture) -> (String, crate::fixture::Pending) {
    let pending = f.request(&["offline_access"], &[]);
    let mut step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    if let crate::common::browser::Step::Page { ref body, .. } = step {
        if body.contains("name=\"password\"") {
            step = f
                .browser
                .submit_login(
                    f.issuer(),
                    step,
                    crate::fixture::LOGIN,
                    crate::fixture::PASSWORD,
                )
                .await;
        }
    }
    if let crate::common::browser::Step::Page { ref body, .. } = step {
        if body.contains("name=\"decision\"") {
            step = f.browser.submit_consent(f.issuer(), step, true).await;
        }
    }
    let crate::common::browser::Step::Left(back) = step else {
        panic!("no code")
    };
    (param(&back, "code").unwrap(), pending)
}

async fn replayed_code_is_refused_and_revokes_issued_tokens(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    assert_eq!(f.userinfo_status(&access(&tokens)).await, 200);
    let replay = f.exchange(&code, &pending).await.unwrap_err();
    assert!(replay.contains("invalid_grant"), "{replay}");
    assert_eq!(
        f.userinfo_status(&access(&tokens)).await,
        401,
        "access token revoked"
    );
    assert_eq!(
        f.introspect(&refresh(&tokens)).await["active"],
        false,
        "refresh token revoked"
    );
    let (status, body) = f
        .token_raw(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens)),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

async fn code_reuse_after_30_seconds_is_refused_and_revokes_issued_tokens(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    f.op.clock.advance(Duration::from_secs(30));
    assert!(f
        .exchange(&code, &pending)
        .await
        .unwrap_err()
        .contains("invalid_grant"));
    assert_eq!(f.introspect(&access(&tokens)).await["active"], false);
    assert_eq!(f.introspect(&refresh(&tokens)).await["active"], false);
}

async fn code_is_bound_to_client_redirect_uri_and_verifier(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let verifier = pending.verifier.secret().clone();
    // Another client cannot redeem it (RFC 6749 §4.1.3).
    let (_, other_secret) = f.op.confidential_client("ent-other").await;
    let response = f
        .http
        .post(f.op.url("/token"))
        .basic_auth("ent-other", Some(other_secret.expose()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    for (redirect, verifier) in [
        ("https://rp.example/other", verifier.as_str()),
        (REDIRECT_URI, "A".repeat(43).as_str()),
    ] {
        let (code, _) = code_of(&f).await;
        let (status, body) = f
            .token_raw(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ])
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{redirect}"
        );
    }
    let (code, pending) = code_of(&f).await;
    f.op.clock.advance(Duration::from_secs(61));
    assert!(
        f.exchange(&code, &pending)
            .await
            .unwrap_err()
            .contains("invalid_grant"),
        "codes live at most 60 s"
    );
}

async fn client_secret_post_authenticates(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut registration = crate::common::registration("ent-post");
    registration.auth_method = educonnect::clients::AuthMethod::ClientSecretPost;
    let (_, secret) = f.op.register(registration).await;
    let rp = crate::fixture::rp_for(&f.op, &f.http, "ent-post", secret.as_ref())
        .await
        .set_auth_type(AuthType::RequestBody);
    let (tokens, _) = f.login_as(&rp, &["offline_access"]).await;
    assert!(!access(&tokens).is_empty());
}

/// Review #13.10: a client authenticates by the method it registered (OpenID Connect Core §9),
/// and the `Basic` scheme is case-insensitive (RFC 7235 §2.1).
async fn the_secret_is_accepted_only_the_way_the_client_registered(backend: Backend) {
    let f = Fixture::new(backend).await;
    let in_body = |client_id: &str, secret: &str| {
        f.http.post(f.op.url("/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
    };
    // ent-hdf registered client_secret_basic: its secret in the body is refused.
    let response = in_body(CLIENT_ID, f.secret.expose()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_client"
    );
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        use base64::Engine;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{}", f.secret.expose()));
        let response = f
            .http
            .post(f.op.url("/token"))
            .header("authorization", format!("{scheme} {credentials}"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    // A client_secret_post client: the body works, Basic does not.
    let mut registration = crate::common::registration("ent-post");
    registration.auth_method = educonnect::clients::AuthMethod::ClientSecretPost;
    let (_, secret) = f.op.register(registration).await;
    let secret = secret.unwrap();
    let response = in_body("ent-post", secret.expose()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = f
        .http
        .post(f.op.url("/token"))
        .basic_auth("ent-post", Some(secret.expose()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// Review #13.7 (RFC 7662 §2.2, §4): a refresh token is introspected only by its client, an
/// access token by its client or a resource server; anyone else learns `active: false`.
async fn introspection_answers_only_the_token_s_client_or_a_resource_server(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    let (at, rt) = (access(&tokens), refresh(&tokens));
    let (_, other) = f.op.confidential_client("ent-other").await;
    let mut registration = crate::common::registration("scolarite");
    registration.resource_server = true;
    let (_, service) = f.op.register(registration).await;
    let service = service.unwrap();
    let introspect = |client: &'static str, secret: String, token: String| {
        let f = &f;
        async move {
            f.http
                .post(f.op.url("/introspect"))
                .basic_auth(client, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let inactive = serde_json::json!({ "active": false });
    let other_secret = other.expose().to_owned();
    assert_eq!(
        introspect("ent-other", other_secret.clone(), at.clone()).await,
        inactive
    );
    assert_eq!(
        introspect("ent-other", other_secret, rt.clone()).await,
        inactive
    );
    let seen = introspect("scolarite", service.expose().to_owned(), at.clone()).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["sub"], f.sub.as_str());
    assert_eq!(
        introspect("scolarite", service.expose().to_owned(), rt.clone()).await,
        inactive
    );
    // Its own client sees both.
    assert_eq!(f.introspect(&at).await["active"], true);
    assert_eq!(f.introspect(&rt).await["active"], true);
    // A client credentials token has no resource owner: no `sub` member at all.
    let (_, body) = f.token_raw(&[("grant_type", "client_credentials")]).await;
    let info = f.introspect(body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);
    assert!(info.get("sub").is_none(), "{info}");
}

async fn bad_client_credentials_are_invalid_client_401(backend: Backend) {
    let f = Fixture::new(backend).await;
    let response = f
        .http
        .post(f.op.url("/token"))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("www-authenticate").is_some());
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let response = f
        .http
        .post(f.op.url("/token"))
        .basic_auth(CLIENT_ID, Some(f.secret.expose()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", f.secret.expose()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request",
        "two methods at once"
    );
    let (status, body) = f.token_raw(&[("grant_type", "password")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

async fn refresh_rotates_and_reuse_revokes_the_grant(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    let first = refresh(&tokens);
    let rotated =
        f.rp.exchange_refresh_token(&RefreshToken::new(first.clone()))
            .unwrap()
            .request_async(&f.http)
            .await
            .unwrap();
    let second = refresh(&rotated);
    assert_ne!(first, second);
    assert_eq!(f.userinfo_status(&access(&rotated)).await, 200);
    // The rotated token again: theft suspected, the whole grant goes.
    assert!(f
        .rp
        .exchange_refresh_token(&RefreshToken::new(first))
        .unwrap()
        .request_async(&f.http)
        .await
        .is_err());
    assert_eq!(f.introspect(&second).await["active"], false);
    assert_eq!(f.userinfo_status(&access(&rotated)).await, 401);
}

/// Review #13.3: a refresh that will be refused (a wider scope) does not consume the token, so
/// the next legitimate refresh is not taken for a reuse that revokes the grant.
async fn refused_refresh_leaves_the_token_usable(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    let token = refresh(&tokens);
    let (status, body) = f
        .token_raw(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &token),
            ("scope", "openid scolarite email"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = f
        .token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
        .await;
    assert_eq!(status, 200, "{body}");
    let successor = body["refresh_token"].as_str().unwrap();
    assert_eq!(f.introspect(successor).await["active"], true);
    assert_eq!(f.userinfo_status(&access(&tokens)).await, 200);
}

async fn refresh_token_is_bound_to_its_client(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    let (_, other_secret) = f.op.confidential_client("ent-other").await;
    let response = f
        .http
        .post(f.op.url("/token"))
        .basic_auth("ent-other", Some(other_secret.expose()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // Untouched for its own client.
    let (status, _) = f
        .token_raw(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens)),
        ])
        .await;
    assert_eq!(status, 200);
}

async fn refresh_reuse_within_grace_keeps_one_valid_child(backend: Backend) {
    let f = Fixture::with(backend, |c| c.tokens.refresh_reuse_grace_seconds = 10).await;
    let (code, pending) = code_of(&f).await;
    let parent = refresh(&f.exchange(&code, &pending).await.unwrap());
    let (_, lost) = f
        .token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &parent)])
        .await;
    let (status, retried) = f
        .token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &parent)])
        .await;
    assert_eq!(
        status, 200,
        "a retry within the grace window is a lost response, not a theft"
    );
    assert_eq!(
        f.introspect(lost["refresh_token"].as_str().unwrap()).await["active"],
        false,
        "the lost child is replaced"
    );
    let child = retried["refresh_token"].as_str().unwrap();
    assert_eq!(f.introspect(child).await["active"], true);
    // Once the child is used, the parent is a reuse again: the grant is revoked.
    let (status, _) = f
        .token_raw(&[("grant_type", "refresh_token"), ("refresh_token", child)])
        .await;
    assert_eq!(status, 200);
    let (status, _) = f
        .token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &parent)])
        .await;
    assert_eq!(status, 400);
}

async fn concurrent_code_redemptions_yield_exactly_one_success(backend: Backend) {
    let f = Arc::new(Fixture::new(backend).await);
    let (code, pending) = code_of(&f).await;
    let verifier = pending.verifier.secret().clone();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (f, code, verifier) = (f.clone(), code.clone(), verifier.clone());
            tokio::spawn(async move {
                f.token_raw(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", &verifier),
                ])
                .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
    // The 63 others were replays: what the winner received is revoked.
    let (_, winner) = results.iter().find(|r| r.0 == 200).unwrap();
    assert_eq!(
        f.introspect(winner["access_token"].as_str().unwrap()).await["active"],
        false
    );
    assert_eq!(
        f.introspect(winner["refresh_token"].as_str().unwrap())
            .await["active"],
        false
    );
}

async fn concurrent_refresh_redemptions_yield_exactly_one_success(backend: Backend) {
    let f = Arc::new(Fixture::new(backend).await);
    let (code, pending) = code_of(&f).await;
    let token = refresh(&f.exchange(&code, &pending).await.unwrap());
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (f, token) = (f.clone(), token.clone());
            tokio::spawn(async move {
                f.token_raw(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let successes: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(
        successes.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|(s, _)| *s == 200 || *s == 400));
}

async fn client_credentials_token_introspects_active(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (status, body) = f
        .token_raw(&[("grant_type", "client_credentials"), ("scope", "scolarite")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let info = f.introspect(body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], CLIENT_ID);
    assert_eq!(info["scope"], "scolarite");
    let (status, body) = f
        .token_raw(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

async fn introspection_requires_client_authentication(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (_, body) = f.token_raw(&[("grant_type", "client_credentials")]).await;
    let response = f
        .http
        .post(f.op.url("/introspect"))
        .form(&[("token", body["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A public client names itself but proves nothing: refused too.
    let mut registration = crate::common::registration("spa");
    registration.auth_method = educonnect::clients::AuthMethod::None;
    registration
        .grant_types
        .retain(|g| *g != educonnect::clients::GrantType::ClientCredentials);
    f.op.register(registration).await;
    let response = f
        .http
        .post(f.op.url("/introspect"))
        .form(&[
            ("token", body["access_token"].as_str().unwrap()),
            ("client_id", "spa"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

async fn revoked_and_expired_tokens_are_inactive(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    let revoke = |token: String| {
        let f = &f;
        async move {
            f.http
                .post(f.op.url("/revoke"))
                .basic_auth(CLIENT_ID, Some(f.secret.expose()))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(revoke(access(&tokens)).await, 200);
    assert_eq!(
        f.introspect(&access(&tokens)).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(f.introspect(&refresh(&tokens)).await["active"], true);
    assert_eq!(revoke(refresh(&tokens)).await, 200);
    assert_eq!(
        f.introspect(&refresh(&tokens)).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(revoke("never-issued".into()).await, 200, "RFC 7009 §2.2");
    let (_, body) = f.token_raw(&[("grant_type", "client_credentials")]).await;
    f.op.clock.advance(Duration::from_secs(601));
    assert_eq!(
        f.introspect(body["access_token"].as_str().unwrap()).await["active"],
        false,
        "expired"
    );
}

async fn private_key_jwt_authenticates_and_assertions_are_single_use(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pair = aws_lc_rs::signature::EcdsaKeyPair::generate(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    )
    .unwrap();
    let der = pair.to_pkcs8v1().unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_ref());
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("k1".into());
    let mut registration = crate::common::registration("ent-pkj");
    registration.auth_method = educonnect::clients::AuthMethod::PrivateKeyJwt;
    registration.jwks = Some(serde_json::json!({ "keys": [jwk] }));
    f.op.register(registration).await;
    let now = chrono_now();
    let claims = serde_json::json!({"iss": "ent-pkj", "sub": "ent-pkj", "aud": f.op.url("/token"), "exp": now + 60, "jti": "one"});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".into());
    let assertion = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    assert_eq!(f.assertion_status(&assertion).await, 200);
    assert_eq!(f.assertion_status(&assertion).await, 401, "jti replay");
    let wrong_aud = serde_json::json!({"iss": "ent-pkj", "sub": "ent-pkj", "aud": "https://elsewhere.example", "exp": now + 60, "jti": "two"});
    assert_eq!(
        f.assertion_status(&jsonwebtoken::encode(&header, &wrong_aud, &key).unwrap())
            .await,
        401
    );
}

/// Review #13.9 (RFC 7523 §3, RFC 8725 §3.1): only the advertised algorithms, and not before
/// `nbf`.
async fn private_key_jwt_refuses_unadvertised_algorithms_and_early_assertions(backend: Backend) {
    use aws_lc_rs::encoding::AsDer;
    let f = Fixture::new(backend).await;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
    use base64::Engine;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der.as_ref())
    );
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let public = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(
        aws_lc_rs::signature::KeyPair::public_key(&pair),
    );
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk =
        serde_json::json!({"kty": "RSA", "kid": "r1", "n": b64(&public.n), "e": b64(&public.e)});
    let mut registration = crate::common::registration("ent-rsa");
    registration.auth_method = educonnect::clients::AuthMethod::PrivateKeyJwt;
    registration.jwks = Some(serde_json::json!({ "keys": [jwk] }));
    f.op.register(registration).await;
    let now = chrono_now();
    let send = |alg: jsonwebtoken::Algorithm, claims: serde_json::Value| {
        let (f, key) = (&f, &key);
        async move {
            let mut header = jsonwebtoken::Header::new(alg);
            header.kid = Some("r1".into());
            let assertion = jsonwebtoken::encode(&header, &claims, key).unwrap();
            f.assertion_status(&assertion).await
        }
    };
    let claims = |jti: &str, nbf: Option<i64>| {
        let mut c = serde_json::json!({"iss": "ent-rsa", "sub": "ent-rsa", "aud": f.op.url("/token"), "exp": now + 300, "jti": jti});
        if let Some(nbf) = nbf {
            c["nbf"] = serde_json::json!(nbf);
        }
        c
    };
    use jsonwebtoken::Algorithm::{PS256, RS256, RS384, RS512};
    assert_eq!(send(RS512, claims("a", None)).await, 401, "RS512");
    assert_eq!(send(RS384, claims("b", None)).await, 401, "RS384");
    assert_eq!(
        send(RS256, claims("c", Some(now + 120))).await,
        401,
        "nbf ahead"
    );
    assert_eq!(send(RS256, claims("d", Some(now - 5))).await, 200);
    assert_eq!(send(PS256, claims("e", None)).await, 200);
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn es256_id_tokens_per_client(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut registration = crate::common::registration("ent-ec");
    registration.id_token_alg = educonnect::tokens::SigningAlg::ES256;
    let (_, secret) = f.op.register(registration).await;
    let rp = crate::fixture::rp_for(&f.op, &f.http, "ent-ec", secret.as_ref()).await;
    let (tokens, pending) = f.login_as(&rp, &[]).await;
    let id_token = openidconnect::TokenResponse::id_token(&tokens).unwrap();
    let verifier = rp.id_token_verifier().set_allowed_algs(vec![
        openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    id_token
        .claims(&verifier, &pending.nonce)
        .expect("ES256 ID token validates");
}

async fn tokens_signed_before_rotation_stay_verifiable(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (before, pending) = f.login(&[]).await;
    let old_kid = kid_of(&before);
    f.op.app
        .keys
        .rotate(
            educonnect::tokens::SigningAlg::RS256,
            Duration::ZERO,
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    // A fresh RP discovers the JWKS after the rotation: old and new keys are both published.
    let rp = crate::fixture::rp_for(&f.op, &f.http, CLIENT_ID, Some(&f.secret)).await;
    openidconnect::TokenResponse::id_token(&before)
        .unwrap()
        .claims(&rp.id_token_verifier(), &pending.nonce)
        .expect("old token still verifies");
    let (after, _) = f.login(&[]).await;
    assert_ne!(kid_of(&after), old_kid, "the new key signs");
    // After the longest token lifetime the old key leaves the JWKS.
    f.op.clock.advance(Duration::from_secs(601));
    f.op.app.keys.reload().await.unwrap();
    let jwks: serde_json::Value = f
        .http
        .get(f.op.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!jwks.to_string().contains(&old_kid));
}

/// Two `keys rotate` inside the publish-ahead window: the first new key (never signing, or
/// briefly) must not stay published forever.
async fn a_second_rotation_within_the_window_retires_every_older_key(backend: Backend) {
    let f = Fixture::new(backend).await;
    let alg = educonnect::tokens::SigningAlg::RS256;
    let keys = &f.op.app.keys;
    let ahead = Duration::from_secs(60);
    let longest = Duration::from_secs(600);
    let first = keys.rotate(alg, ahead, longest).await.unwrap();
    let second = keys.rotate(alg, ahead, longest).await.unwrap();
    assert_ne!(first, second);
    // Past the window and the longest token: only the newest RS256 key is published.
    f.op.clock.advance(ahead + longest + Duration::from_secs(1));
    keys.reload().await.unwrap();
    let described = keys.describe().await.unwrap();
    let published: Vec<&String> = described
        .iter()
        .filter(|(_, a, state, _, _)| *a == alg && *state != "retired")
        .map(|(kid, ..)| kid)
        .collect();
    assert_eq!(published, vec![&second], "{described:?}");
}

fn kid_of(tokens: &openidconnect::core::CoreTokenResponse) -> String {
    let jwt = openidconnect::TokenResponse::id_token(tokens)
        .unwrap()
        .to_string();
    let header: serde_json::Value =
        serde_json::from_slice(&crate::authorize::base64_part(&jwt, 0)).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}
