//! The claims an ENT receives for identities imported from Siècle: a guardian of children in
//! two establishments and a pupil log in through the pages; the ID token and userinfo carry the
//! establishments, the children and the FrEduVecteur identity vectors of the scopes granted.

use base64::Engine;
use openidconnect::AuthorizationCode;
use openidconnect::PkceCodeVerifier;
use serde_json::{json, Value};

use crate::common::browser::{param, Browser};
use crate::common::{registration, siecle_samples as samples, Backend, TestOp};
use crate::fixture::{access, http, pending, rp_for};
use crate::on_both_backends;
use educonnect::provisioning::names::Traits;
use educonnect::secrets::Secret;
use educonnect::siecle::{self, Export};

const CLIENT: &str = "ent-claims";
const PASSWORD: &str = "Cahier-Bleu-2026";
const SCOPES: [&str; 5] = [
    "profile",
    "establishments",
    "ine",
    "children",
    "fr_edu_vecteur",
];

fn exports() -> Vec<Export> {
    siecle::find_exports(&[samples()])
        .unwrap()
        .iter()
        .map(|(p, g)| siecle::read_establishment(p, g).unwrap())
        .collect()
}

/// The sample imported, an ENT registered for every directory scope.
async fn provider(backend: Backend) -> (TestOp, Secret) {
    let op = TestOp::start(backend).await;
    let secret = register_directory_ent(&op).await;
    op.import_siecle(&samples()).await;
    (op, secret)
}

/// Registers an ENT for every directory scope; returns its secret.
pub async fn register_directory_ent(op: &TestOp) -> Secret {
    let mut registration = registration(CLIENT);
    registration.scopes = ["openid"]
        .iter()
        .chain(&SCOPES)
        .map(|s| s.to_string())
        .collect();
    op.register(registration).await.1.unwrap()
}

/// Logs in with every directory scope; returns the ID token's claims and userinfo's.
async fn log_in(op: &TestOp, secret: &Secret, login: &str) -> (Value, Value) {
    log_in_with(op, secret, login, PASSWORD).await
}

/// `log_in` with the account's own password.
pub async fn log_in_with(
    op: &TestOp,
    secret: &Secret,
    login: &str,
    password: &str,
) -> (Value, Value) {
    let http = http();
    let rp = rp_for(op, &http, CLIENT, Some(secret)).await;
    let scopes: Vec<&str> = SCOPES.to_vec();
    let pending = pending(&rp, &scopes, &[]);
    let back = Browser::new()
        .authorize(&op.issuer, pending.url.as_str(), login, password)
        .await;
    let code = param(&back, "code").expect("a code");
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.extra_fields().id_token().unwrap().to_string();
    let payload = id_token.split('.').nth(1).unwrap();
    let id_claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let userinfo: Value = http
        .get(op.url("/userinfo"))
        .bearer_auth(access(&tokens))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id_claims, userinfo)
}

on_both_backends!(
    a_guardian_of_children_in_two_establishments_gets_both_in_the_claims,
    a_pupil_gets_the_ine_class_and_vector,
);

async fn a_guardian_of_children_in_two_establishments_gets_both_in_the_claims(backend: Backend) {
    let (op, secret) = provider(backend).await;
    let exports = exports();
    let (record_a, record_b) = exports[0]
        .persons
        .iter()
        .find_map(|a| {
            exports[1]
                .persons
                .iter()
                .find(|b| Traits::of(a) == Traits::of(b) && Traits::of(a).mobile.is_some())
                .map(|b| (a, b))
        })
        .expect("the sample has a guardian in both establishments");
    let account = op
        .app
        .durable
        .person_account(exports[0].uai.as_str(), &record_a.personne_id)
        .await
        .unwrap()
        .unwrap();
    let login = op.activate(&account, PASSWORD).await.login;
    let (id_claims, userinfo) = log_in(&op, &secret, &login).await;

    let mut expected_vectors = Vec::new();
    for (export, record) in [(&exports[0], record_a), (&exports[1], record_b)] {
        for link in export
            .links
            .iter()
            .filter(|l| l.personne_id == record.personne_id)
        {
            if matches!(link.role, siecle::Role::LegalGuardian(_)) {
                expected_vectors.push(format!(
                    "2|{}|{}|{}|{}",
                    record.family_name, record.given_name, link.eleve_id, export.uai
                ));
            }
        }
    }
    expected_vectors.sort();
    for claims in [&id_claims, &userinfo] {
        assert_eq!(claims["sub"], json!(account));
        assert_eq!(claims["educonnect_profile"], json!("guardian"));
        let mut vectors: Vec<String> =
            serde_json::from_value(claims["FrEduVecteur"].clone()).unwrap();
        vectors.sort();
        assert_eq!(vectors, expected_vectors);
        let uais: Vec<&str> = claims["educonnect_establishments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["uai"].as_str().unwrap())
            .collect();
        assert_eq!(uais.len(), 2, "{claims}");
        let children = claims["educonnect_children"].as_array().unwrap();
        assert!(children
            .iter()
            .any(|c| c["uai"] == json!(exports[0].uai.as_str())));
        assert!(children
            .iter()
            .any(|c| c["uai"] == json!(exports[1].uai.as_str())));
        assert!(
            claims.get("educonnect_ine").is_none(),
            "a guardian has no INE"
        );
    }
}

async fn a_pupil_gets_the_ine_class_and_vector(backend: Backend) {
    let (op, secret) = provider(backend).await;
    let export = &exports()[0];
    let pupil = &export.pupils[0];
    let account = op
        .app
        .durable
        .pupil_account(pupil.ine.as_str())
        .await
        .unwrap()
        .unwrap();
    let login = op.activate(&account, PASSWORD).await.login;
    let (id_claims, userinfo) = log_in(&op, &secret, &login).await;
    for claims in [&id_claims, &userinfo] {
        assert_eq!(claims["educonnect_ine"], json!(pupil.ine.as_str()));
        assert_eq!(
            claims["educonnect_establishments"],
            json!([{ "uai": export.uai.as_str(), "class": pupil.division }])
        );
        assert_eq!(
            claims["FrEduVecteur"],
            json!([format!(
                "4|{}|{}|{}|{}",
                pupil.family_name, pupil.given_name, pupil.eleve_id, export.uai
            )])
        );
        assert_eq!(claims["educonnect_children"], Value::Null);
    }
}
