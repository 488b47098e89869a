//! Login methods apart from login completion: a method proves who is there (an `Authenticated`
//! with its `acr`, `amr` and `auth_time`), `oidc::login::complete` resumes the parked request,
//! and the SSO session and the tokens record what the method said, not a constant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreTokenResponse;
use openidconnect::TokenResponse;
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::common::Backend;
use crate::fixture::{http, Fixture};
use crate::on_both_backends;
use educonnect::oidc::authorize::{transaction, Browser, Outcome};
use educonnect::oidc::login::{self, Authenticated};
use educonnect::oidc::session;

on_both_backends!(
    a_password_login_records_the_password_method,
    another_method_completes_through_the_same_function,
);

/// The claims of the ID token of a token response.
fn id_token_claims(tokens: &CoreTokenResponse) -> serde_json::Value {
    let jwt = tokens.id_token().expect("an ID token").to_string();
    let payload = jwt.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn a_password_login_records_the_password_method(backend: Backend) {
    let f = Fixture::new(backend).await;
    let before = f.op.app.now_ms() / 1000;
    let (tokens, _) = f.login(&["openid"]).await;
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["acr"], "eidas1");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert!(claims["auth_time"].as_i64().unwrap() >= before);
}

async fn another_method_completes_through_the_same_function(backend: Backend) {
    let f = Fixture::new(backend).await;
    let app = &f.op.app;
    // The RP sends the browser to /authorize: a login transaction is parked, bound to the browser.
    let pending = f.request(&["openid"], &[]);
    let response = http().get(pending.url.clone()).send().await.unwrap();
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let tx_id = url::Url::parse(&f.op.url("/"))
        .unwrap()
        .join(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "tx")
        .expect("sent to the login page")
        .1
        .into_owned();
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok()?.strip_prefix("educonnect_browser="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .next()
        .expect("a binding cookie");
    let browser = Browser {
        binding: educonnect::secrets::digest(cookie.as_bytes()),
        address: "127.0.0.1".into(),
    };
    let tx = transaction::load(app, &tx_id).await.unwrap().unwrap();
    // A method other than the password, as FranceConnect will be: its own acr and amr.
    let auth_time = app.now_ms() / 1000 - 7;
    let who = |account| Authenticated {
        account,
        acr: "eidas2".into(),
        amr: vec!["otp".into(), "pwd".into()],
        auth_time,
        upstream_id_token: None,
    };
    let account = app.durable.account(&f.sub).await.unwrap().unwrap();
    let completed = login::complete(app, tx.clone(), who(account.clone()), None, &browser)
        .await
        .unwrap()
        .expect("the transaction was waiting");
    // The SSO session records the method's context.
    let session = session::from_cookie(app, completed.cookie.expose())
        .await
        .unwrap()
        .expect("a session");
    assert_eq!(session.account_id, f.sub);
    assert_eq!(
        (session.acr.as_str(), session.amr.clone(), session.auth_time),
        (
            "eidas2",
            vec!["otp".to_owned(), "pwd".to_owned()],
            auth_time
        )
    );
    // The parked request went on: a code for the RP, whose ID token says the same.
    let Outcome::Reply(reply) = completed.outcome else {
        panic!("expected a reply to the RP")
    };
    let code = reply
        .params
        .iter()
        .find(|(k, _)| *k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code");
    let claims = id_token_claims(&f.exchange(&code, &pending).await.unwrap());
    assert_eq!(claims["acr"], "eidas2");
    assert_eq!(claims["amr"], serde_json::json!(["otp", "pwd"]));
    assert_eq!(claims["auth_time"], auth_time);
    assert_eq!(claims["sid"], session.sid);
    // The transaction was taken: completing it again starts nothing.
    assert!(login::complete(app, tx, who(account), None, &browser)
        .await
        .unwrap()
        .is_none());
}
