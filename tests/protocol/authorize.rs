//! Authorization endpoint, login page, sessions (OpenID Connect Core §3.1.2, RFC 7636, RFC 9207).

use std::time::Duration;

use openidconnect::{AccessTokenHash, OAuth2TokenResponse, TokenResponse};

use crate::common::browser::{hidden, param, Browser, Step};
use crate::common::{Backend, REDIRECT_URI};
use crate::fixture::{access, Fixture, LOGIN, PASSWORD};
use crate::on_both_backends;

on_both_backends!(
    discovery_is_complete_and_jwks_publishes_kid_alg_use,
    code_flow_issues_a_valid_id_token_to_a_certified_rp,
    unknown_client_or_unregistered_redirect_uri_gets_an_error_page,
    errors_after_the_redirect_uri_is_trusted_go_back_with_state_and_iss,
    pkce_s256_is_required,
    prompt_none_without_session_is_login_required,
    second_rp_gets_its_code_without_a_form,
    prompt_login_forces_a_new_auth_time,
    max_age_forces_a_new_auth_time,
    id_token_hint_of_another_person_requires_login,
    unknown_parameters_are_ignored,
    post_to_the_authorization_endpoint_works,
    oversized_or_unreadable_parameters_are_refused_and_never_parked,
    new_transactions_per_address_are_bounded,
    registered_redirect_uris_are_kept_character_for_character,
    form_post_response_mode_posts_the_code,
    failed_logins_are_throttled_without_revealing_the_login,
    session_id_is_renewed_at_login,
    consent_is_asked_for_offline_access_and_refusal_is_access_denied,
);

async fn discovery_is_complete_and_jwks_publishes_kid_alg_use(backend: Backend) {
    let f = Fixture::new(backend).await;
    let meta: serde_json::Value = f
        .http
        .get(f.op.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], f.issuer());
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        let url = meta[endpoint]
            .as_str()
            .unwrap_or_else(|| panic!("{endpoint} missing"));
        assert!(url.starts_with(f.issuer()), "{endpoint}: {url}");
    }
    assert_eq!(
        meta["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    let jwks: serde_json::Value = f
        .http
        .get(meta["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(keys.len() >= 2, "an RS256 and an ES256 key");
    for key in keys {
        assert!(key["kid"].is_string() && key["use"] == "sig", "{key}");
        assert!(key["alg"] == "RS256" || key["alg"] == "ES256", "{key}");
        assert!(key.get("d").is_none(), "no private part in the JWKS");
    }
}

async fn code_flow_issues_a_valid_id_token_to_a_certified_rp(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (tokens, pending) = f.login(&["profile", "email"]).await;
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = f.rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &pending.nonce)
        .expect("ID token validates");
    assert_eq!(claims.subject().as_str(), f.sub);
    assert!(claims.auth_time().is_some());
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("eidas1")
    );
    assert_eq!(
        claims
            .auth_method_refs()
            .map(|a| a.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>()),
        Some(vec!["pwd".to_owned()])
    );
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    assert_eq!(
        claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Léa")
    );
    let raw: serde_json::Value =
        serde_json::from_slice(&base64_part(&id_token.to_string(), 1)).unwrap();
    assert!(raw["sid"].is_string(), "sid in the ID token");
    let header: serde_json::Value =
        serde_json::from_slice(&base64_part(&id_token.to_string(), 0)).unwrap();
    assert_eq!(header["alg"], "RS256");
    let userinfo: openidconnect::core::CoreUserInfoClaims =
        f.rp.user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&f.http)
            .await
            .expect("userinfo");
    assert_eq!(userinfo.subject().as_str(), f.sub);
    assert_eq!(
        userinfo.email().map(|e| e.as_str().to_owned()),
        Some(format!("{LOGIN}@example.invalid"))
    );
}

pub fn base64_part(jwt: &str, index: usize) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(index).unwrap())
        .unwrap()
}

async fn unknown_client_or_unregistered_redirect_uri_gets_an_error_page(backend: Backend) {
    let f = Fixture::new(backend).await;
    let hostile = "https://attacker.example/cb";
    for url in [
        f.request(&[], &[])
            .url
            .as_str()
            .replace(&urlencode(REDIRECT_URI), &urlencode(hostile)),
        f.request(&[], &[])
            .url
            .as_str()
            .replace("client_id=ent-hdf", "client_id=unknown"),
        f.request(&[], &[]).url.as_str().replace(
            &urlencode(REDIRECT_URI),
            &urlencode(&format!("{REDIRECT_URI}/")),
        ),
    ] {
        let response = f.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 400, "{url}");
        assert!(
            response.headers().get("location").is_none(),
            "never a redirect: {url}"
        );
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("Connexion impossible"));
    }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn errors_after_the_redirect_uri_is_trusted_go_back_with_state_and_iss(backend: Backend) {
    let f = Fixture::new(backend).await;
    let url = f
        .request(&[], &[])
        .url
        .as_str()
        .replace("response_type=code", "response_type=token");
    let back = redirect_of(&f, &url).await;
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert!(param(&back, "state").is_some());
    assert_eq!(param(&back, "iss").as_deref(), Some(f.issuer()));
    let url = f.request(&[], &[("request", "eyJ")]).url;
    assert_eq!(
        param(&redirect_of(&f, url.as_str()).await, "error").as_deref(),
        Some("request_not_supported")
    );
    let url = format!("{}&state=again", f.request(&[], &[]).url);
    assert_eq!(
        param(&redirect_of(&f, &url).await, "error").as_deref(),
        Some("invalid_request")
    );
}

/// The authorization URL of a fresh request with `name` set to the raw (already encoded) `value`.
fn with_raw(f: &Fixture, name: &str, value: &str) -> String {
    let mut url = f.request(&[], &[]).url;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&kept);
    format!("{url}&{name}={value}")
}

/// Review #13.5 and #13.13: each parked parameter has a bound; a `state` that is too long or
/// not UTF-8 is refused and not echoed (it could not come back untouched).
async fn oversized_or_unreadable_parameters_are_refused_and_never_parked(backend: Backend) {
    let f = Fixture::new(backend).await;
    for (name, value, state_back) in [
        ("state", "%FF%FEabc".to_owned(), false),
        ("state", "s".repeat(2049), false),
        ("nonce", "n".repeat(513), true),
        ("login_hint", "l".repeat(257), true),
        ("acr_values", "a".repeat(257), true),
        ("ui_locales", "%C3%28".to_owned(), true),
    ] {
        let url = with_raw(&f, name, &value);
        let back = redirect_of(&f, &url).await;
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{name}"
        );
        assert_eq!(
            param(&back, "state").is_some(),
            state_back,
            "{name}: {back}"
        );
        assert_eq!(param(&back, "iss").as_deref(), Some(f.issuer()));
    }
    // At the bound, accepted.
    let url = with_raw(&f, "state", &"s".repeat(2048));
    let Step::Page { status, body, .. } = f.browser.get(f.issuer(), &url).await else {
        panic!("expected the login page")
    };
    assert_eq!(status, 200);
    assert!(body.contains("name=\"password\""));
}

async fn new_transactions_per_address_are_bounded(backend: Backend) {
    let f = Fixture::with(backend, |c| {
        c.tokens.transactions_per_address_per_minute = 5
    })
    .await;
    for _ in 0..5 {
        let step = f
            .browser
            .get(f.issuer(), f.request(&[], &[]).url.as_str())
            .await;
        let Step::Page { status, .. } = step else {
            panic!()
        };
        assert_eq!(status, 200);
    }
    let response = f
        .http
        .get(f.request(&[], &[]).url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.text().await.unwrap().contains("Trop de demandes"));
}

async fn redirect_of(f: &Fixture, url: &str) -> url::Url {
    let response = f.http.get(url).send().await.unwrap();
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

async fn pkce_s256_is_required(backend: Backend) {
    let f = Fixture::new(backend).await;
    let with_pkce = f.request(&[], &[]).url;
    let without: Vec<(String, String)> = with_pkce
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    let mut url = with_pkce.clone();
    url.query_pairs_mut().clear().extend_pairs(&without);
    let back = redirect_of(&f, url.as_str()).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    let plain = with_pkce
        .as_str()
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    assert_eq!(
        param(&redirect_of(&f, &plain).await, "error").as_deref(),
        Some("invalid_request")
    );
}

async fn prompt_none_without_session_is_login_required(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pending = f.request(&[], &[("prompt", "none")]);
    let back = redirect_of(&f, pending.url.as_str()).await;
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(pending.state.secret().as_str())
    );
    assert_eq!(param(&back, "iss").as_deref(), Some(f.issuer()));
}

/// Logs in once, then runs another request in the same browser without any form.
async fn silent(f: &Fixture, extra: &[(&str, &str)]) -> Step {
    f.browser
        .get(f.issuer(), f.request(&[], extra).url.as_str())
        .await
}

async fn second_rp_gets_its_code_without_a_form(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.login(&[]).await;
    let (_, other_secret) = f.op.confidential_client("ent-other").await;
    let other = crate::fixture::rp_for(&f.op, &f.http, "ent-other", Some(&other_secret)).await;
    let pending = crate::fixture::pending(&other, &[], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!("a form was shown")
    };
    let code = param(&back, "code").expect("a code without a form");
    let tokens = other
        .exchange_code(openidconnect::AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pending.verifier)
        .request_async(&f.http)
        .await
        .unwrap();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&other.id_token_verifier(), &pending.nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), f.sub);
}

async fn auth_time_of(f: &Fixture, back: &url::Url, pending: &crate::fixture::Pending) -> i64 {
    let code = param(back, "code").expect("a code");
    let tokens = f.exchange(&code, pending).await.unwrap();
    tokens
        .id_token()
        .unwrap()
        .claims(&f.rp.id_token_verifier(), &pending.nonce)
        .unwrap()
        .auth_time()
        .unwrap()
        .timestamp()
}

async fn prompt_login_forces_a_new_auth_time(backend: Backend) {
    let f = Fixture::new(backend).await;
    let first = f.request(&[], &[]);
    let back = f.authorize(&first).await;
    let first_time = auth_time_of(&f, &back, &first).await;
    f.op.clock.advance(Duration::from_secs(5));
    let again = f.request(&[], &[("prompt", "login")]);
    let step = f.browser.get(f.issuer(), again.url.as_str()).await;
    let Step::Page { ref body, .. } = step else {
        panic!("prompt=login must show the login form")
    };
    assert!(body.contains("name=\"password\""));
    let Step::Left(back) = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await
    else {
        panic!("login failed")
    };
    assert!(auth_time_of(&f, &back, &again).await >= first_time + 5);
}

async fn max_age_forces_a_new_auth_time(backend: Backend) {
    let f = Fixture::new(backend).await;
    let first = f.request(&[], &[]);
    let back = f.authorize(&first).await;
    let first_time = auth_time_of(&f, &back, &first).await;
    // Within max_age: no form.
    assert!(matches!(
        silent(&f, &[("max_age", "60")]).await,
        Step::Left(_)
    ));
    f.op.clock.advance(Duration::from_secs(61));
    let again = f.request(&[], &[("max_age", "60")]);
    let step = f.browser.get(f.issuer(), again.url.as_str()).await;
    assert!(
        matches!(step, Step::Page { ref body, .. } if body.contains("name=\"password\"")),
        "max_age exceeded: login again"
    );
    let Step::Left(back) = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await
    else {
        panic!()
    };
    assert!(auth_time_of(&f, &back, &again).await >= first_time + 61);
}

async fn id_token_hint_of_another_person_requires_login(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (tokens, _) = f.login(&[]).await;
    let hint = tokens.id_token().unwrap().to_string();
    // Same person: prompt=none answers with a code.
    let Step::Left(back) = silent(&f, &[("prompt", "none"), ("id_token_hint", &hint)]).await else {
        panic!()
    };
    assert!(param(&back, "code").is_some());
    // Another person's hint: prompt=none must not hand out a code for the wrong person.
    f.op.account(
        "k.bernard03",
        PASSWORD,
        educonnect::accounts::Profile::Guardian,
    )
    .await;
    let other_browser = Browser::new();
    let pending = f.request(&[], &[]);
    let back = other_browser
        .authorize(f.issuer(), pending.url.as_str(), "k.bernard03", PASSWORD)
        .await;
    let other_tokens = f
        .exchange(&param(&back, "code").unwrap(), &pending)
        .await
        .unwrap();
    let other_hint = other_tokens.id_token().unwrap().to_string();
    let Step::Left(back) = silent(&f, &[("prompt", "none"), ("id_token_hint", &other_hint)]).await
    else {
        panic!()
    };
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    // A forged hint is refused.
    let forged = format!("{}x", &hint[..hint.len() - 1]);
    let Step::Left(back) = silent(&f, &[("id_token_hint", &forged)]).await else {
        panic!()
    };
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
}

async fn unknown_parameters_are_ignored(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pending = f.request(
        &["profile"],
        &[
            ("extra_thing", "1"),
            ("ui_locales", "fr-FR"),
            ("acr_values", "eidas1"),
            ("login_hint", LOGIN),
            ("claims_locales", "fr"),
        ],
    );
    let step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    let Step::Page { ref body, .. } = step else {
        panic!()
    };
    assert!(hidden(body, "tx").is_some());
    assert!(
        body.contains(&format!("value=\"{LOGIN}\"")),
        "login_hint prefills the form"
    );
    let Step::Left(back) = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await
    else {
        panic!()
    };
    assert!(f
        .exchange(&param(&back, "code").unwrap(), &pending)
        .await
        .is_ok());
}

async fn post_to_the_authorization_endpoint_works(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pending = f.request(&[], &[]);
    let form: Vec<(String, String)> = pending.url.query_pairs().into_owned().collect();
    let response = f
        .browser
        .http
        .post(f.op.url("/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let step = f.browser.follow(f.issuer(), response).await;
    let Step::Left(back) = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await
    else {
        panic!()
    };
    assert!(f
        .exchange(&param(&back, "code").unwrap(), &pending)
        .await
        .is_ok());
}

/// Review #13.8: a redirect URI is compared, stored with the code and redirected to exactly as
/// registered; a normalized form (`…:9999/`, no `:80`) would give a code the RP cannot redeem.
async fn registered_redirect_uris_are_kept_character_for_character(backend: Backend) {
    let f = Fixture::new(backend).await;
    let registered = ["http://127.0.0.1:9999", "http://localhost:80/cb"];
    let mut registration = crate::common::registration("ent-exact");
    registration.redirect_uris = registered.map(String::from).to_vec();
    let (_, secret) = f.op.register(registration).await;
    let secret = secret.unwrap();
    let browser = Browser::new();
    for redirect_uri in registered {
        let (challenge, verifier) = openidconnect::PkceCodeChallenge::new_random_sha256();
        let mut url = url::Url::parse(&f.op.url("/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", "ent-exact")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid")
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256")
            .append_pair("prompt", "login");
        let Step::Page { body, .. } = browser.get(f.issuer(), url.as_str()).await else {
            panic!("expected the login page")
        };
        let response = browser
            .http
            .post(f.op.url("/login"))
            .form(&[
                ("tx", hidden(&body, "tx").unwrap().as_str()),
                ("csrf", hidden(&body, "csrf").unwrap().as_str()),
                ("login", LOGIN),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let prefix = format!("{redirect_uri}?code=");
        assert!(location.starts_with(&prefix), "{location}");
        let code = param(&url::Url::parse(&location).unwrap(), "code").unwrap();
        let response = f
            .http
            .post(f.op.url("/token"))
            .basic_auth("ent-exact", Some(secret.expose()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier.secret().as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
}

async fn form_post_response_mode_posts_the_code(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pending = f.request(&[], &[("response_mode", "form_post")]);
    let step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    let Step::Page { body, status, .. } = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await
    else {
        panic!()
    };
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!("action=\"{REDIRECT_URI}\"")),
        "{body}"
    );
    let code = hidden(&body, "code").expect("code field");
    assert_eq!(hidden(&body, "iss").as_deref(), Some(f.issuer()));
    assert_eq!(
        hidden(&body, "state").as_deref(),
        Some(pending.state.secret().as_str())
    );
    assert!(f.exchange(&code, &pending).await.is_ok());
}

async fn failed_logins_are_throttled_without_revealing_the_login(backend: Backend) {
    let f = Fixture::with(backend, |c| c.throttle.failures_per_account = 3).await;
    // The failures start a second into a window of the service's clock, so that the whole test
    // runs inside it.
    let window_ms = f.op.app.config.throttle.window_seconds as i64 * 1000;
    let now = f.op.app.now_ms();
    let next_window = (now.div_euclid(window_ms) + 1) * window_ms;
    f.op.clock.advance(std::time::Duration::from_millis(
        (next_window - now + 1000) as u64,
    ));
    for login in [LOGIN, "nobody.here"] {
        let step = f
            .browser
            .get(f.issuer(), f.request(&[], &[]).url.as_str())
            .await;
        let mut step = f
            .browser
            .submit_login(f.issuer(), step, login, "wrong-password")
            .await;
        for _ in 0..2 {
            let Step::Page {
                status, ref body, ..
            } = step
            else {
                panic!()
            };
            assert_eq!(status, 401);
            assert!(body.contains("Identifiant ou mot de passe incorrect."));
            step = f
                .browser
                .submit_login(f.issuer(), step, login, "wrong-password")
                .await;
        }
        // The bound is reached: even the right password (for the real login) is refused.
        let step = f
            .browser
            .submit_login(f.issuer(), step, login, PASSWORD)
            .await;
        let Step::Page { status, body, .. } = step else {
            panic!("throttled login must not pass")
        };
        assert_eq!(status, 429, "{login}");
        assert!(body.contains("Trop de tentatives"));
    }
    // Another account from the same address is not blocked by these failures.
    f.op.account(
        "k.bernard03",
        PASSWORD,
        educonnect::accounts::Profile::Guardian,
    )
    .await;
    let pending = f.request(&[], &[]);
    let back = Browser::new()
        .authorize(f.issuer(), pending.url.as_str(), "k.bernard03", PASSWORD)
        .await;
    assert!(param(&back, "code").is_some());
    // The window ends by the service's clock (not the store's): a second short of its end it
    // still holds, at its end the right password is checked again.
    let now = f.op.app.now_ms();
    let to_end = (now.div_euclid(window_ms) + 1) * window_ms - now;
    let f = &f;
    let throttled_login = |browser: Browser| async move {
        let pending = f.request(&[], &[]);
        let step = browser.get(f.issuer(), pending.url.as_str()).await;
        browser
            .submit_login(f.issuer(), step, LOGIN, PASSWORD)
            .await
    };
    f.op.clock
        .advance(std::time::Duration::from_millis(to_end as u64 - 1000));
    let Step::Page { status, .. } = throttled_login(Browser::new()).await else {
        panic!("still throttled")
    };
    assert_eq!(status, 429);
    f.op.clock.advance(std::time::Duration::from_secs(1));
    let step = throttled_login(Browser::new()).await;
    assert!(
        matches!(step, Step::Left(ref back) if param(back, "code").is_some()),
        "the window passed"
    );
}

async fn session_id_is_renewed_at_login(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (first, _) = f.login(&[]).await;
    let sid = |tokens: &openidconnect::core::CoreTokenResponse| {
        let raw: serde_json::Value =
            serde_json::from_slice(&base64_part(&tokens.id_token().unwrap().to_string(), 1))
                .unwrap();
        raw["sid"].as_str().unwrap().to_owned()
    };
    let again = f.request(&[], &[("prompt", "login")]);
    let step = f.browser.get(f.issuer(), again.url.as_str()).await;
    let Step::Left(back) = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await
    else {
        panic!()
    };
    let second = f
        .exchange(&param(&back, "code").unwrap(), &again)
        .await
        .unwrap();
    assert_ne!(sid(&first), sid(&second));
    assert!(
        educonnect::oidc::session::by_sid(&f.op.app, &sid(&first))
            .await
            .unwrap()
            .is_none(),
        "old session ended"
    );
    // Access tokens still work: the session id is not what they hang on.
    assert_eq!(f.userinfo_status(&access(&second)).await, 200);
}

async fn consent_is_asked_for_offline_access_and_refusal_is_access_denied(backend: Backend) {
    let f = Fixture::new(backend).await;
    let pending = f.request(&["offline_access"], &[]);
    let step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    let step = f
        .browser
        .submit_login(f.issuer(), step, LOGIN, PASSWORD)
        .await;
    let Step::Page { ref body, .. } = step else {
        panic!("consent page expected")
    };
    assert!(
        body.contains("un accès qui dure après votre déconnexion"),
        "{body}"
    );
    let Step::Left(back) = f.browser.submit_consent(f.issuer(), step, false).await else {
        panic!()
    };
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    // Approved once, not asked again; prompt=none then works.
    let pending = f.request(&["offline_access"], &[]);
    let step = f.browser.get(f.issuer(), pending.url.as_str()).await;
    let Step::Left(back) = f.browser.submit_consent(f.issuer(), step, true).await else {
        panic!()
    };
    assert!(f
        .exchange(&param(&back, "code").unwrap(), &pending)
        .await
        .unwrap()
        .refresh_token()
        .is_some());
    let pending = f.request(&["offline_access"], &[("prompt", "none")]);
    let Step::Left(back) = f.browser.get(f.issuer(), pending.url.as_str()).await else {
        panic!()
    };
    assert!(param(&back, "code").is_some());
}
