//! The FranceConnect login method, end to end through the fake FranceConnect: the demo relying
//! party's request, the login page's transaction sent to FranceConnect, the identity chosen
//! there, the callback, and the code back at the relying party; what the ID token says of the
//! method (`amr` `fc`, the upstream's `acr` and `auth_time`); what happens to an identity tied
//! to no account, to a pupil's account, to a cancellation and to FranceConnect down.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use url::Url;

use crate::common::browser::{hidden, param};
use crate::common::{Backend, TestOp};
use crate::federation::op_with_fake;
use educonnect::demo::DEMO_CLIENT_ID;
use educonnect::federation::fake::{Endpoint, FakeFranceConnect, IDENTITIES};

crate::on_both_backends!(
    a_tied_identity_logs_straight_in_to_the_demo_rp_with_the_franceconnect_amr,
    an_identity_tied_to_no_account_is_asked_for_its_account,
    the_rp_logout_of_a_franceconnect_session_ends_franceconnect_s_too,
);

/// A browser keeping cookies, following no redirect by itself.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(response: &reqwest::Response) -> Url {
    let location = response.headers()[LOCATION].to_str().unwrap();
    response.url().join(location).unwrap()
}

/// The demo RP's authorization request (PKCE S256); returns the login page's URL and the
/// verifier.
pub async fn demo_authorize(op: &TestOp, http: &reqwest::Client) -> (Url, String) {
    let verifier = educonnect::secrets::random_b64(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = Url::parse(&op.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &op.url("/demo/callback"))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile")
        .append_pair("state", "rp-state-123")
        .append_pair("nonce", "rp-nonce-456")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let response = http.get(url).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let login = location(&response);
    assert_eq!(login.path(), "/login");
    (login, verifier)
}

/// From the login page's transaction to FranceConnect, `choice` made there, and back to our
/// callback: the callback's answer.
pub async fn through_franceconnect(
    http: &reqwest::Client,
    op: &TestOp,
    fake: &FakeFranceConnect,
    login: &Url,
    choice: &str,
) -> reqwest::Response {
    let to_upstream = press_the_button(http, op, login).await;
    assert!(
        to_upstream.status().is_redirection(),
        "{}",
        to_upstream.status()
    );
    let upstream = location(&to_upstream);
    assert!(upstream.as_str().starts_with(&fake.issuer), "{upstream}");
    let page = http
        .get(upstream)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = page
        .split("href=\"")
        .filter_map(|rest| rest.split_once('"').map(|(href, _)| href))
        .find(|href| href.ends_with(&format!("/{choice}")))
        .unwrap_or_else(|| panic!("{choice} on the fake's page: {page}"));
    let base = fake.issuer.trim_end_matches("/api/v2");
    let back = http.get(format!("{base}{link}")).send().await.unwrap();
    let callback = location(&back);
    assert!(callback
        .as_str()
        .starts_with(&op.url("/franceconnect/retour")));
    http.get(callback).send().await.unwrap()
}

/// The login page's FranceConnect button: its form posts the transaction and the page's CSRF
/// token.
async fn press_the_button(http: &reqwest::Client, op: &TestOp, login: &Url) -> reqwest::Response {
    let page = http
        .get(login.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tx = hidden(&page, "tx").expect("the login page's transaction");
    let csrf = hidden(&page, "csrf").expect("the login page's CSRF token");
    http.post(op.url("/franceconnect/connexion"))
        .form(&[("tx", tx.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
}

/// The demo RP's code exchange for the code of `at_rp`.
async fn exchange(
    op: &TestOp,
    http: &reqwest::Client,
    at_rp: &Url,
    verifier: &str,
) -> serde_json::Value {
    let code = param(at_rp, "code").expect("a code for the RP");
    let redirect_uri = op.url("/demo/callback");
    http.post(op.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", DEMO_CLIENT_ID),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The claims of a JWS, unverified (the protocol tests verify ID tokens elsewhere).
pub fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn seeded(backend: Backend) -> (TestOp, FakeFranceConnect) {
    let (op, fake) = op_with_fake(backend, |_| {}).await;
    educonnect::demo::seed_directory(&op.app).await.unwrap();
    (op, fake)
}

/// `identity` of the fake tied to `account_id`, as a first login would have tied it.
async fn tie(
    op: &TestOp,
    fake: &FakeFranceConnect,
    identity: &educonnect::federation::fake::TestIdentity,
    account_id: &str,
) {
    let subject = fake.subject_of(identity);
    let now = op.app.now_ms();
    let tied = op
        .app
        .durable
        .tie_upstream(&fake.issuer, &subject, account_id, now);
    assert_eq!(tied.await.unwrap(), educonnect::store::TieOutcome::Tied);
}

pub async fn account_id(op: &TestOp, login: &str) -> String {
    op.app
        .durable
        .account_by_login(login)
        .await
        .unwrap()
        .expect("a demo account")
        .id
}

async fn a_tied_identity_logs_straight_in_to_the_demo_rp_with_the_franceconnect_amr(
    backend: Backend,
) {
    let (op, fake) = seeded(backend).await;
    let claire = &IDENTITIES[0];
    let claire_account = account_id(&op, "c.martin02").await;
    let now = op.app.now_ms();
    tie(&op, &fake, claire, &claire_account).await;
    // She logged in at FranceConnect ten minutes ago (its SSO session).
    fake.set_auth_age(Duration::from_secs(600));
    let http = browser();
    let (login, verifier) = demo_authorize(&op, &http).await;
    let back = through_franceconnect(&http, &op, &fake, &login, claire.key).await;
    assert!(back.status().is_redirection(), "{}", back.status());
    let at_rp = location(&back);
    assert!(
        at_rp.as_str().starts_with(&op.url("/demo/callback")),
        "{at_rp}"
    );
    assert_eq!(param(&at_rp, "state").as_deref(), Some("rp-state-123"));
    let tokens = exchange(&op, &http, &at_rp, &verifier).await;
    let claims = claims_of(tokens["id_token"].as_str().expect("an ID token"));
    assert_eq!(claims["sub"], claire_account.as_str());
    assert_eq!(claims["amr"], serde_json::json!(["fc"]));
    assert_eq!(claims["acr"], "eidas1");
    assert_eq!(claims["nonce"], "rp-nonce-456");
    // auth_time is the upstream login's, not the callback's.
    let auth_time = claims["auth_time"].as_i64().unwrap();
    let expected = now / 1000 - 600;
    assert!(
        (expected - 2..=expected + 5).contains(&auth_time),
        "{auth_time} vs {expected}"
    );
    // The SSO session is open: the next authorization needs no login at all.
    let again = demo_authorize_silently(&op, &http).await;
    assert!(
        again.as_str().starts_with(&op.url("/demo/callback")),
        "{again}"
    );
}

/// A second authorization request of the demo RP in the same browser: where it is sent.
pub async fn demo_authorize_silently(op: &TestOp, http: &reqwest::Client) -> Url {
    let mut url = Url::parse(&op.url("/authorize")).unwrap();
    let challenge =
        URL_SAFE_NO_PAD.encode(Sha256::digest(b"another-verifier-0123456789-abcdefghijkl"));
    url.query_pairs_mut()
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &op.url("/demo/callback"))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", "second")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    location(&http.get(url).send().await.unwrap())
}

async fn an_identity_tied_to_no_account_is_asked_for_its_account(backend: Backend) {
    let (op, fake) = seeded(backend).await;
    let http = browser();
    let (login, _) = demo_authorize(&op, &http).await;
    let back = through_franceconnect(&http, &op, &fake, &login, "julien-martin").await;
    assert!(back.status().is_redirection(), "{}", back.status());
    let tie = location(&back);
    assert_eq!(tie.path(), "/franceconnect/rattachement");
    let page = http.get(tie.clone()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Première connexion avec FranceConnect"),
        "{page}"
    );
    assert!(page.contains("Julien Paul Martin"), "{page}");
    // Only this browser sees it.
    let other = browser().get(tie).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_at_franceconnect_leaves_the_password_login_of_the_same_request() {
    let (op, fake) = seeded(Backend::Embedded).await;
    let http = browser();
    let (login, _) = demo_authorize(&op, &http).await;
    let back = through_franceconnect(&http, &op, &fake, &login, "annuler").await;
    assert_eq!(back.status(), StatusCode::OK);
    let page = back.text().await.unwrap();
    assert!(
        page.contains("annulé la connexion avec FranceConnect"),
        "{page}"
    );
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let logged = http
        .post(op.url("/login"))
        .form(&[
            ("tx", tx.as_str()),
            ("csrf", csrf.as_str()),
            ("login", "c.martin02"),
            ("password", "Parent-Demo-2026"),
        ])
        .send()
        .await
        .unwrap();
    let at_rp = location(&logged);
    assert!(
        at_rp.as_str().starts_with(&op.url("/demo/callback")),
        "{at_rp}"
    );
    assert_eq!(param(&at_rp, "state").as_deref(), Some("rp-state-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn franceconnect_down_shows_the_password_login_with_a_clear_message() {
    let (op, fake) = seeded(Backend::Embedded).await;
    fake.fail_next(Endpoint::Discovery, 1);
    let http = browser();
    let (login, _) = demo_authorize(&op, &http).await;
    let answer = press_the_button(&http, &op, &login).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = answer.text().await.unwrap();
    assert!(
        page.contains("FranceConnect est momentanément indisponible"),
        "{page}"
    );
    assert_eq!(hidden(&page, "tx"), param(&login, "tx"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pupil_cannot_log_in_through_franceconnect_even_if_tied() {
    let (op, fake) = seeded(Backend::Embedded).await;
    let pupil = account_id(&op, "l.martin01").await;
    let nadia = &IDENTITIES[2];
    tie(&op, &fake, nadia, &pupil).await;
    let http = browser();
    let (login, _) = demo_authorize(&op, &http).await;
    let back = through_franceconnect(&http, &op, &fake, &login, nadia.key).await;
    assert_eq!(back.status(), StatusCode::FORBIDDEN);
    assert!(back
        .headers()
        .get("set-cookie")
        .is_none_or(|c| !c.to_str().unwrap().starts_with("educonnect_session=")));
    let page = back.text().await.unwrap();
    assert!(
        page.contains("ne peut pas se connecter avec FranceConnect"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_needs_the_transactions_browser_and_page_token() {
    let (op, _fake) = seeded(Backend::Embedded).await;
    let owner = browser();
    let (login, _) = demo_authorize(&op, &owner).await;
    let page = owner
        .get(login.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let start = |http: &reqwest::Client, csrf: &str| {
        http.post(op.url("/franceconnect/connexion"))
            .form(&[("tx", tx.clone()), ("csrf", csrf.to_owned())])
            .send()
    };
    // Another browser, with the right token; the right browser, with another token.
    let stranger = browser();
    for answer in [
        start(&stranger, &csrf).await.unwrap(),
        start(&owner, &"x".repeat(32)).await.unwrap(),
    ] {
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.headers().get(LOCATION).is_none());
    }
    // A form posted from another site is refused before anything (review #13.2).
    let cross_site = owner
        .post(op.url("/franceconnect/connexion"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("tx", tx.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let answer = start(&owner, &csrf).await.unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
}

async fn the_rp_logout_of_a_franceconnect_session_ends_franceconnect_s_too(backend: Backend) {
    let (op, fake) = seeded(backend).await;
    let claire = &IDENTITIES[0];
    let claire_account = account_id(&op, "c.martin02").await;
    tie(&op, &fake, claire, &claire_account).await;
    let http = browser();
    let (login, verifier) = demo_authorize(&op, &http).await;
    let back = through_franceconnect(&http, &op, &fake, &login, claire.key).await;
    let tokens = exchange(&op, &http, &location(&back), &verifier).await;
    let hint = tokens["id_token"].as_str().unwrap();
    // The demo RP logs out (RP-Initiated Logout, with its registered post-logout URI).
    let mut logout = Url::parse(&op.url("/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", hint)
        .append_pair("post_logout_redirect_uri", &op.url("/demo"))
        .append_pair("state", "rp-logout-state");
    let to_upstream = http.get(logout).send().await.unwrap();
    let upstream = location(&to_upstream);
    assert!(
        upstream
            .as_str()
            .starts_with(&format!("{}/session/end", fake.issuer)),
        "{upstream}"
    );
    assert!(fake.ended_sessions().is_empty());
    // FranceConnect ends its session and sends the browser back to us, then on to the RP.
    let back_here = location(&http.get(upstream).send().await.unwrap());
    assert!(
        back_here
            .as_str()
            .starts_with(&op.url("/franceconnect/deconnexion")),
        "{back_here}"
    );
    let ended = fake.ended_sessions();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].subject, fake.subject_of(claire));
    let at_rp = location(&http.get(back_here.clone()).send().await.unwrap());
    assert_eq!(at_rp.path(), "/demo");
    assert_eq!(param(&at_rp, "state").as_deref(), Some("rp-logout-state"));
    // Our session is over: the next request asks for a login.
    let (again, _) = demo_authorize(&op, &http).await;
    assert_eq!(again.path(), "/login");
    // The return cannot be replayed into a redirect.
    let replayed = http.get(back_here).send().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::OK);
}
