//! The Siècle upload's bounds over real HTTP (review #13, finding 4): hostile files refused with
//! a precise French problem, a refusal's problems capped, uploads limited in number and in time,
//! a shutdown that interrupts them and does not wait forever, and every `/admin` error in JSON.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::admin::{admin_op, files, get, post_import, upload};
use crate::common::{isolated_config, siecle_sample_dirs, Backend, TestOp};
use crate::on_both_backends;
use educonnect::secrets::{admin_token, digest};
use educonnect::siecle::PUPILS_FILE;

on_both_backends!(
    hostile_uploads_are_refused_with_the_bound_they_pass,
    a_refusal_lists_100_problems_then_counts_the_others,
    an_upload_past_its_deadline_writes_nothing,
);

/// The first sample's pupils file with `edit` applied (as Latin-9 text), and its guardians file.
fn edited_sample(edit: impl FnOnce(String) -> String) -> (Vec<u8>, Vec<u8>) {
    let (pupils, guardians) = files(&siecle_sample_dirs()[0]);
    let (text, _, _) = encoding_rs::ISO_8859_15.decode(&pupils);
    let edited = edit(text.into_owned());
    let encoded = encoding_rs::ISO_8859_15.encode(&edited).0.into_owned();
    (encoded, guardians)
}

/// The one problem of a refused upload.
async fn only_problem(op: &TestOp, token: &str, (pupils, guardians): (Vec<u8>, Vec<u8>)) -> String {
    let (status, body) = post_import(op, token, upload(pupils, guardians), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["outcome"], "refused");
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    problems[0].as_str().unwrap().to_owned()
}

async fn hostile_uploads_are_refused_with_the_bound_they_pass(backend: Backend) {
    let (op, token) = admin_op(backend).await;
    let attributes: String = (0..80).map(|n| format!(" A{n}=\"{n}\"")).collect();
    let problem = only_problem(
        &op,
        &token,
        edited_sample(|t| t.replacen("<ELEVE ", &format!("<ELEVE{attributes} "), 1)),
    )
    .await;
    assert!(
        problem.starts_with(&format!("{PUPILS_FILE}, ligne "))
            && problem.ends_with("<ELEVE> : plus de 64 attributs sur un élément"),
        "{problem}"
    );
    let deep = format!("<DONNEES>{}{}", "<N>".repeat(40), "</N>".repeat(40));
    let problem = only_problem(
        &op,
        &token,
        edited_sample(|t| t.replacen("<DONNEES>", &deep, 1)),
    )
    .await;
    assert!(
        problem.ends_with("<N> : plus de 32 éléments imbriqués"),
        "{problem}"
    );
    let wide = format!("{}<DATE_NAISS>", "<B>1</B>".repeat(300));
    let problem = only_problem(
        &op,
        &token,
        edited_sample(|t| t.replacen("<DATE_NAISS>", &wide, 1)),
    )
    .await;
    assert!(
        problem.contains("<ELEVE> (ligne ")
            && problem.ends_with("plus de 256 éléments dans une fiche"),
        "{problem}"
    );
    let records = format!("<ELEVES>{}", "<ELEVE></ELEVE>".repeat(200_001));
    let problem = only_problem(
        &op,
        &token,
        edited_sample(|t| t.replacen("<ELEVES>", &records, 1)),
    )
    .await;
    assert!(
        problem.ends_with("<ELEVE> : plus de 200000 fiches dans le fichier"),
        "{problem}"
    );
}

async fn a_refusal_lists_100_problems_then_counts_the_others(backend: Backend) {
    let (op, token) = admin_op(backend).await;
    // 250 pupils without ELEVE_ID: 250 problems.
    let nameless = format!(
        "<ELEVES>{}",
        "<ELEVE><PRENOM>A</PRENOM></ELEVE>\n".repeat(250)
    );
    let (pupils, guardians) = edited_sample(|t| t.replacen("<ELEVES>", &nameless, 1));
    let (status, body) = post_import(&op, &token, upload(pupils, guardians), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 101, "{body}");
    assert!(problems[..100]
        .iter()
        .all(|p| p.as_str().unwrap().contains("ELEVE sans ELEVE_ID")));
    assert_eq!(problems[100], "… et 150 autres problèmes");
}

async fn an_upload_past_its_deadline_writes_nothing(backend: Backend) {
    let token = admin_token();
    let digest = digest(token.as_bytes());
    let op = TestOp::start_with(backend, |config| {
        config.admin.token_digests = vec![digest];
        config.admin.import_deadline_seconds = 0.001;
    })
    .await;
    // A small upload (the first sample, 46 KB): the client has sent all of it before the
    // answer comes, so it always reads the 503 (a large one could still be writing when the
    // server answers and closes: a broken pipe instead of the answer). Its import takes longer
    // than the 1 ms deadline all the same.
    let dir = siecle_sample_dirs()[0].clone();
    let (pupils, guardians) = files(&dir);
    let (status, body) = post_import(&op, &token, upload(pupils, guardians), "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(
        body["error_description"],
        "import interrompu : délai dépassé (admin.import_deadline_seconds), rien n'a été modifié"
    );
    let uai = dir.file_name().unwrap().to_str().unwrap();
    let (status, _) = get(&op, &token, &format!("/admin/establishments/{uai}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was written");
    assert_eq!(op.app.uploads.under_way(), 0, "the slot is free again");
}

/// An upload whose body never ends: it holds its slot until the connection closes.
async fn stalled_upload(address: std::net::SocketAddr, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /admin/imports/siecle HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n\
         --b\r\nContent-Disposition: form-data; name=\"eleves\"\r\n\r\n<?xml"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Waits (a bounded number of short polls) until `condition` holds.
async fn until(condition: impl Fn() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 10 s");
}

/// The status line and body of the response on `stream`, once the server closes it.
async fn response(stream: &mut TcpStream) -> (String, Value) {
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .expect("answered and closed")
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_beyond_max_concurrent_imports_are_turned_away() {
    let token = admin_token();
    let digest = digest(token.as_bytes());
    let op = TestOp::start_with(Backend::Embedded, |config| {
        config.admin.token_digests = vec![digest];
        config.admin.max_concurrent_imports = 1;
    })
    .await;
    let stalled = stalled_upload(op.app.config.listen, &token).await;
    until(|| op.app.uploads.under_way() == 1).await;
    let (pupils, guardians) = files(&siecle_sample_dirs()[0]);
    let (status, body) =
        post_import(&op, &token, upload(pupils.clone(), guardians.clone()), "").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "too_many_requests");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("trop d'imports en cours (admin.max_concurrent_imports)"),
        "{body}"
    );
    // The slot is freed when the stalled upload's connection closes.
    drop(stalled);
    until(|| op.app.uploads.under_way() == 0).await;
    let (status, body) = post_import(&op, &token, upload(pupils, guardians), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_interrupts_uploads_and_waits_a_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = isolated_config(Backend::Embedded, dir.path()).await;
    let token = admin_token();
    config.admin.token_digests = vec![digest(token.as_bytes())];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    config.issuer = format!("http://{address}");
    config.listen = address;
    let clock = Arc::new(educonnect::clock::OffsetClock::default());
    let app = educonnect::app::App::build(config, clock).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopping = app.clone();
    let server = tokio::spawn(educonnect::http::serve_within(
        listener,
        educonnect::http::router(app.clone()),
        async move {
            let _ = stopped.await;
            stopping.uploads.stop();
        },
        Duration::from_millis(300),
    ));
    let mut upload = stalled_upload(address, &token).await;
    until(|| app.uploads.under_way() == 1).await;
    // A request whose body never comes, which no stop reaches: only the grace bounds it.
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(b"POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant")
        .await
        .unwrap();
    stop.send(()).unwrap();
    let (status, body) = response(&mut upload).await;
    assert!(status.contains(" 503 "), "{status}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(
        body["error_description"],
        "import interrompu : le serveur s'arrête, rien n'a été modifié"
    );
    let served = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns despite the request under way");
    served.unwrap().unwrap();
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_error_is_json_with_a_french_description() {
    let (op, token) = admin_op(Backend::Embedded).await;

    let json_error = |response: reqwest::Response| async move {
        let status = response.status();
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        assert!(kind.starts_with("application/json"), "{status} {kind}");
        assert!(body["error"].is_string(), "{body}");
        (
            status,
            body["error"].as_str().unwrap().to_owned(),
            body["error_description"].as_str().unwrap().to_owned(),
        )
    };
    // 413 past the 64 KiB bound of the JSON routes (tower-http's own answer).
    let response = reqwest::Client::new()
        .put(op.url("/admin/establishments/0750001U"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(vec![b' '; 100 * 1024])
        .send()
        .await
        .unwrap();
    let (status, error, description) = json_error(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error, "payload_too_large");
    assert!(
        description.starts_with("corps de requête trop volumineux"),
        "{description}"
    );
    // 413 past admin.max_import_bytes.
    let response = reqwest::Client::new()
        .post(op.url("/admin/imports/siecle"))
        .bearer_auth(&token)
        .multipart(upload(vec![b' '; 5 * 1024 * 1024], vec![]))
        .send()
        .await
        .unwrap();
    let (status, error, description) = json_error(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error, "payload_too_large");
    assert!(
        description.contains("admin.max_import_bytes"),
        "{description}"
    );
    // 400 for a multipart body that is not one.
    let response = reqwest::Client::new()
        .post(op.url("/admin/imports/siecle"))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data; boundary=b")
        .body("pas du multipart")
        .send()
        .await
        .unwrap();
    let (status, error, description) = json_error(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error, "invalid_request");
    assert!(
        description.starts_with("corps multipart illisible"),
        "{description}"
    );
    // 404 for an unknown route, 405 for a known one with another method.
    let response = reqwest::Client::new()
        .get(op.url("/admin/nulle-part"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, error, description) = json_error(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(
        description,
        "cette adresse n'existe pas dans l'API d'administration"
    );
    let response = reqwest::Client::new()
        .delete(op.url("/admin/establishments/0750001U"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("allow"));
    let (status, error, description) = json_error(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    assert_eq!(
        description,
        "cette méthode HTTP n'est pas acceptée à cette adresse"
    );
    // 400 for JSON that is not the expected one.
    let response = reqwest::Client::new()
        .put(op.url("/admin/establishments/0750001U"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let (status, _, description) = json_error(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        description.starts_with("corps JSON invalide"),
        "{description}"
    );
}
