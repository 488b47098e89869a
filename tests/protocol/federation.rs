//! The upstream login through the fake FranceConnect (`federation::fake`), over real HTTP: the
//! authorization URL, the identity chosen on the fake's page, the callback's checks and the
//! typed failures (cancel, upstream error, down, slow); and what the fake itself checks, as
//! FranceConnect v2 does.

use std::time::Duration;

use educonnect::config::{FranceConnectConfig, Redacted};
use educonnect::federation::fake::{Endpoint, FakeFranceConnect, FakeSettings, IDENTITIES};
use educonnect::federation::{self, CallbackParams, FederationError, Upstream};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use url::Url;

use crate::common::{Backend, TestOp};

const TX: &str = "tx-parked-for-the-test";
const BROWSER: &str = "digest-of-the-browser-binding-cookie";

pub use crate::common::franceconnect::op_with_fake;

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap();
    Url::parse(location).unwrap()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Starts an upstream login and answers the fake's page with `choice` (an identity key,
/// `annuler` or `erreur`); returns the authorization URL and the callback's parameters.
async fn upstream_login(
    op: &TestOp,
    fake: &FakeFranceConnect,
    choice: &str,
) -> (Url, CallbackParams) {
    let upstream = op
        .app
        .franceconnect
        .as_ref()
        .expect("franceconnect enabled");
    let ttl = Duration::from_secs(600);
    let authorize = federation::start(upstream, &*op.app.ephemeral, TX, BROWSER, ttl)
        .await
        .unwrap();
    let http = browser();
    let page = http.get(authorize.clone()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Continuer en tant que Claire Martin"),
        "{page}"
    );
    let suffix = format!("/{choice}\"");
    let link = page
        .split("href=\"")
        .filter_map(|rest| rest.split_once('"').map(|(href, _)| href))
        .find(|href| format!("{href}\"").ends_with(&suffix))
        .unwrap_or_else(|| panic!("a link to {choice} on {page}"));
    let base = fake.issuer.trim_end_matches("/api/v2");
    let back = http.get(format!("{base}{link}")).send().await.unwrap();
    assert!(back.status().is_redirection(), "{}", back.status());
    let callback = location(&back);
    assert_eq!(
        callback.as_str().split('?').next().unwrap(),
        op.url(federation::CALLBACK_PATH)
    );
    let params = CallbackParams {
        state: param(&callback, "state"),
        code: param(&callback, "code"),
        error: param(&callback, "error"),
        error_description: param(&callback, "error_description"),
    };
    (authorize, params)
}

async fn callback(
    op: &TestOp,
    params: CallbackParams,
    browser: &str,
) -> Result<federation::Returned, federation::Failed> {
    let upstream = op.app.franceconnect.as_ref().unwrap();
    federation::callback(
        upstream,
        &*op.app.ephemeral,
        params,
        browser,
        op.app.now_ms() / 1000,
    )
    .await
}

crate::on_both_backends!(
    a_chosen_identity_comes_back_verified_with_its_pivot_identity,
    a_replayed_or_foreign_callback_is_an_unknown_state,
    cancelling_at_franceconnect_is_typed_and_keeps_the_transaction,
);

async fn a_chosen_identity_comes_back_verified_with_its_pivot_identity(backend: Backend) {
    let (op, fake) = op_with_fake(backend, |_| {}).await;
    let (authorize, params) = upstream_login(&op, &fake, "claire-martin").await;
    // FranceConnect v2: state and nonce of 32 characters at least, eidas1, the pivot scopes.
    assert!(param(&authorize, "state").unwrap().len() >= 32);
    assert!(param(&authorize, "nonce").unwrap().len() >= 32);
    assert_eq!(param(&authorize, "acr_values").as_deref(), Some("eidas1"));
    let scope = param(&authorize, "scope").unwrap();
    for wanted in educonnect::config::FranceConnectConfig::default().scopes() {
        assert!(scope.split(' ').any(|s| s == wanted), "{wanted} in {scope}");
    }
    let returned = callback(&op, params, BROWSER).await.unwrap();
    assert_eq!(returned.tx_id, TX);
    let identity = returned.identity;
    let claire = &IDENTITIES[0];
    assert_eq!(identity.issuer, fake.issuer);
    assert_eq!(identity.subject, fake.subject_of(claire));
    assert_eq!(identity.acr, "eidas1");
    assert!(identity.auth_time.is_some());
    assert_eq!(identity.pivot.given_name, "Claire");
    assert_eq!(identity.pivot.family_name, "Martin");
    assert_eq!(identity.pivot.birthdate.as_deref(), Some("1984-03-12"));
    assert_eq!(identity.pivot.birthplace.as_deref(), Some("69123"));
    assert_eq!(identity.pivot.birthcountry.as_deref(), Some("99100"));
    assert_eq!(
        identity.pivot.email.as_deref(),
        Some("claire.martin@demo.educonnect.invalid")
    );
}

async fn a_replayed_or_foreign_callback_is_an_unknown_state(backend: Backend) {
    let (op, fake) = op_with_fake(backend, |_| {}).await;
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    // Another browser presenting the callback (a login CSRF) learns nothing and gets nothing.
    let foreign = callback(&op, params.clone(), "digest-of-another-browser")
        .await
        .unwrap_err();
    assert!(
        matches!(foreign.error, FederationError::UnknownState),
        "{foreign:?}"
    );
    assert_eq!(foreign.tx_id, None);
    // The state was spent: the right browser replaying it gets nothing either.
    let replayed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(replayed.error, FederationError::UnknownState),
        "{replayed:?}"
    );
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    callback(&op, params.clone(), BROWSER).await.unwrap();
    let replayed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(replayed.error, FederationError::UnknownState),
        "{replayed:?}"
    );
    let made_up = CallbackParams {
        state: Some("x".repeat(43)),
        code: Some("code".into()),
        ..CallbackParams::default()
    };
    let refused = callback(&op, made_up, BROWSER).await.unwrap_err();
    assert!(matches!(refused.error, FederationError::UnknownState));
}

async fn cancelling_at_franceconnect_is_typed_and_keeps_the_transaction(backend: Backend) {
    let (op, fake) = op_with_fake(backend, |_| {}).await;
    let (_, params) = upstream_login(&op, &fake, "annuler").await;
    assert_eq!(params.error.as_deref(), Some("access_denied"));
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(failed.error, FederationError::Cancelled),
        "{failed:?}"
    );
    assert_eq!(failed.tx_id.as_deref(), Some(TX));
    let (_, params) = upstream_login(&op, &fake, "erreur").await;
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(&failed.error, FederationError::Upstream { code } if code == "server_error"),
        "{failed:?}"
    );
    assert_eq!(failed.tx_id.as_deref(), Some(TX));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn franceconnect_down_or_slow_is_unavailable_and_keeps_the_transaction() {
    let (op, fake) = op_with_fake(Backend::Embedded, |config| {
        config.franceconnect.timeout_seconds = 1;
    })
    .await;
    // A 500 of the token endpoint.
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    fake.fail_next(Endpoint::Token, 1);
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(failed.error, FederationError::Unavailable(_)),
        "{failed:?}"
    );
    assert_eq!(failed.tx_id.as_deref(), Some(TX));
    // A 500 of the userinfo endpoint.
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    fake.fail_next(Endpoint::UserInfo, 1);
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(failed.error, FederationError::Unavailable(_)),
        "{failed:?}"
    );
    // Slower than franceconnect.timeout_seconds.
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    fake.set_delay(Duration::from_millis(1500));
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(failed.error, FederationError::Unavailable(_)),
        "{failed:?}"
    );
    assert_eq!(failed.tx_id.as_deref(), Some(TX));
    // Nobody listening: the login cannot even start.
    let config = FranceConnectConfig {
        enabled: true,
        issuer: "http://127.0.0.1:1/api/v2".into(),
        client_id: "educonnect-test".into(),
        client_secret: Some(Redacted("secret".into())),
        timeout_seconds: 1,
        ..FranceConnectConfig::default()
    };
    let down = Upstream::new(&config, &op.issuer, op.clock.clone()).unwrap();
    let refused = federation::start(
        &down,
        &*op.app.ephemeral,
        TX,
        BROWSER,
        Duration::from_secs(60),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, FederationError::Unavailable(_)),
        "{refused:?}"
    );
    // A discovery that timed out is not tried again at once: the next login is answered
    // without waiting for another timeout (the fake is still slower than the timeout).
    let fresh = Upstream::new(&op.app.config.franceconnect, &op.issuer, op.clock.clone()).unwrap();
    let ttl = Duration::from_secs(60);
    let before = std::time::Instant::now();
    let first = federation::start(&fresh, &*op.app.ephemeral, TX, BROWSER, ttl).await;
    assert!(
        matches!(first, Err(FederationError::Unavailable(_))),
        "{first:?}"
    );
    assert!(
        before.elapsed() >= Duration::from_secs(1),
        "it waited for the timeout"
    );
    let before = std::time::Instant::now();
    let again = federation::start(&fresh, &*op.app.ephemeral, TX, BROWSER, ttl).await;
    assert!(
        matches!(again, Err(FederationError::Unavailable(_))),
        "{again:?}"
    );
    assert!(
        before.elapsed() < Duration::from_millis(500),
        "{:?}",
        before.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_other_than_the_registered_one_is_refused_by_the_token_endpoint() {
    let (op, fake) = op_with_fake(Backend::Embedded, |_| {}).await;
    let mut settings = FakeSettings::for_provider(&op.app.config);
    settings.client_secret = Redacted("another-secret".into());
    fake.register(settings);
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(&failed.error, FederationError::Upstream { code } if code == "invalid_client"),
        "{failed:?}"
    );
}

/// An authorization request as a service provider would send it, with `change` applied.
fn authorize_url(fake: &FakeFranceConnect, op: &TestOp, change: (&str, &str)) -> Url {
    let mut url = Url::parse(&format!("{}/authorize", fake.issuer)).unwrap();
    let callback = op.url(federation::CALLBACK_PATH);
    let state = "s".repeat(32);
    let nonce = "n".repeat(32);
    let mut pairs = vec![
        ("client_id", "educonnect-test"),
        ("redirect_uri", callback.as_str()),
        ("response_type", "code"),
        ("scope", "openid given_name family_name"),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
        ("acr_values", "eidas1"),
    ];
    for pair in pairs.iter_mut() {
        if pair.0 == change.0 {
            pair.1 = change.1;
        }
    }
    url.query_pairs_mut().extend_pairs(pairs);
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_checks_the_authorization_request_as_franceconnect_does() {
    let (op, fake) = op_with_fake(Backend::Embedded, |_| {}).await;
    let http = browser();
    let ok = http
        .get(authorize_url(&fake, &op, ("", "")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // Refused with an error page, never a redirect.
    for change in [
        ("state", "short-state"),
        ("nonce", "short-nonce"),
        ("acr_values", "eidas2"),
        ("client_id", "someone-else"),
        ("redirect_uri", "https://attacker.example/cb"),
        (
            "redirect_uri",
            &format!("{}/", op.url(federation::CALLBACK_PATH)),
        ),
    ] {
        let refused = http
            .get(authorize_url(&fake, &op, change))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{change:?}");
        assert!(refused.headers().get("location").is_none(), "{change:?}");
    }
    let no_openid = http
        .get(authorize_url(&fake, &op, ("scope", "given_name")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&no_openid), "error").as_deref(),
        Some("invalid_scope")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_token_endpoint_takes_the_secret_in_the_body_only_and_codes_once() {
    let (op, fake) = op_with_fake(Backend::Embedded, |_| {}).await;
    let http = browser();
    let page = http
        .get(authorize_url(&fake, &op, ("", "")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = page
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let base = fake.issuer.trim_end_matches("/api/v2");
    let back = http.get(format!("{base}{link}")).send().await.unwrap();
    let code = param(&location(&back), "code").unwrap();
    let settings = FakeSettings::for_provider(&op.app.config);
    let callback = op.url(federation::CALLBACK_PATH);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", callback.as_str()),
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.expose()),
    ];
    let token = format!("{}/token", fake.issuer);
    let basic = http
        .post(&token)
        .basic_auth(&settings.client_id, Some(settings.client_secret.expose()))
        .form(&form[..3])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let answer: serde_json::Value = http
        .post(&token)
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = answer["access_token"].as_str().unwrap();
    let header = answer["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    let replay = http.post(&token).form(&form).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let replay: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(replay["error"], "invalid_grant");
    let userinfo = http
        .get(format!("{}/userinfo", fake.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert!(userinfo.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/jwt"));
    assert_eq!(userinfo.text().await.unwrap().split('.').count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_ends_a_session_only_back_to_a_registered_uri() {
    let (op, fake) = op_with_fake(Backend::Embedded, |_| {}).await;
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    let returned = callback(&op, params, BROWSER).await.unwrap();
    let hint = returned.identity.id_token.expose().to_owned();
    let registered = op.url(&op.app.config.franceconnect.post_logout_redirect);
    let http = browser();
    let end = |hint: &str, target: &str| {
        let mut url = Url::parse(&format!("{}/session/end", fake.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("id_token_hint", hint)
            .append_pair("state", "logout-state-0123456789abcdefghijklmnop")
            .append_pair("post_logout_redirect_uri", target);
        http.get(url).send()
    };
    let elsewhere = end(&hint, "https://attacker.example/").await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    let forged = end("not.a.token", &registered).await.unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(fake.ended_sessions().is_empty());
    // What the provider builds for its browser: the same request.
    let upstream = op.app.franceconnect.as_ref().unwrap();
    let built =
        federation::end_session_url(upstream, &hint, "logout-state-0123456789abcdefghijklmnop")
            .await
            .unwrap();
    assert!(built
        .as_str()
        .starts_with(&format!("{}/session/end", fake.issuer)));
    assert_eq!(
        param(&built, "post_logout_redirect_uri").as_deref(),
        Some(registered.as_str())
    );
    let ended = http.get(built).send().await.unwrap();
    let back = location(&ended);
    assert!(back.as_str().starts_with(&registered), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some("logout-state-0123456789abcdefghijklmnop")
    );
    assert_eq!(fake.ended_sessions()[0].subject, returned.identity.subject);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_upstream_is_fetched_again_at_most_every_ten_seconds() {
    let (op, fake) = op_with_fake(Backend::Embedded, |_| {}).await;
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    callback(&op, params, BROWSER).await.unwrap();
    fake.rotate_key().await.unwrap();
    // The cached keys were fetched moments ago: the new kid is not looked for yet.
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    let failed = callback(&op, params, BROWSER).await.unwrap_err();
    assert!(
        matches!(
            failed.error,
            FederationError::IdToken(federation::Refusal::UnknownKey)
        ),
        "{failed:?}"
    );
    // Ten seconds later by the injected clock, an unknown kid fetches the keys again.
    op.clock.advance(Duration::from_secs(11));
    let (_, params) = upstream_login(&op, &fake, "claire-martin").await;
    let returned = callback(&op, params, BROWSER).await.unwrap();
    assert_eq!(returned.identity.subject, fake.subject_of(&IDENTITIES[0]));
}

/// The embedded default starts its fake FranceConnect on the provider's port + 1, or on a free
/// port when that one is taken: the demo keeps its button either way.
#[tokio::test]
async fn the_demo_s_fake_franceconnect_takes_the_next_port_or_a_free_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::common::isolated_config(Backend::Embedded, dir.path()).await;
    config.demo = Some(true);
    // The test holds the port after the provider's (the provider's own is never bound here).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let next = taken.local_addr().unwrap().port();
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], next - 1));
    let fake = educonnect::demo::start_franceconnect(&mut config)
        .await
        .expect("the fake starts on a free port");
    let port = Url::parse(&fake.issuer).unwrap().port().unwrap();
    assert_ne!(port, next, "the next port is taken");
    assert!(config.franceconnect.enabled);
    assert_eq!(config.franceconnect.issuer, fake.issuer);
    let discovery = reqwest::get(format!("{}/.well-known/openid-configuration", fake.issuer))
        .await
        .unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
    drop(taken);
    // Not on a production database, nor with the demo off.
    let mut production = crate::common::isolated_config(Backend::Production, dir.path()).await;
    production.demo = Some(true);
    assert!(educonnect::demo::start_franceconnect(&mut production)
        .await
        .is_none());
    let mut demo_off = crate::common::isolated_config(Backend::Embedded, dir.path()).await;
    demo_off.listen = config.listen;
    assert!(educonnect::demo::start_franceconnect(&mut demo_off)
        .await
        .is_none());
}
