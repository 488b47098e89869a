//! The administration API over real HTTP, on both backends: a Siècle upload of one
//! establishment (the same checks and transaction as the CLI), its notices and history, the
//! linking candidates an administrator merges or declines, codes to attach a pupil, and the
//! bearer tokens that guard it all.

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{siecle_generated, siecle_sample_dirs, Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::AccountState;
use educonnect::clock::SystemClock;
use educonnect::provisioning::{import_exports, Outcome};
use educonnect::secrets::{admin_token, digest};
use educonnect::siecle::{GUARDIANS_FILE, PUPILS_FILE};

on_both_backends!(
    the_api_answers_only_configured_tokens,
    an_uploaded_export_is_imported_with_its_notice_and_history,
    a_refused_upload_changes_nothing_and_says_why,
    an_administrator_merges_or_declines_linking_candidates,
    attachment_codes_are_issued_for_known_pupils_only,
);

/// A provider whose administration API accepts the returned token.
pub(crate) async fn admin_op(backend: Backend) -> (TestOp, String) {
    let token = admin_token();
    let digest = digest(token.as_bytes());
    let op = TestOp::start_with(backend, |config| {
        config.admin.token_digests = vec![digest];
        config.admin.max_import_bytes = 4 * 1024 * 1024;
    })
    .await;
    (op, token)
}

pub(crate) fn files(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(dir.join(PUPILS_FILE)).unwrap(),
        std::fs::read(dir.join(GUARDIANS_FILE)).unwrap(),
    )
}

pub(crate) fn upload(pupils: Vec<u8>, guardians: Vec<u8>) -> Form {
    Form::new()
        .part("eleves", Part::bytes(pupils).file_name(PUPILS_FILE))
        .part(
            "responsables",
            Part::bytes(guardians).file_name(GUARDIANS_FILE),
        )
}

pub(crate) async fn post_import(
    op: &TestOp,
    token: &str,
    form: Form,
    query: &str,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(op.url(&format!("/admin/imports/siecle{query}")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

pub(crate) async fn get(op: &TestOp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(op.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_json(op: &TestOp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(op.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_api_answers_only_configured_tokens(backend: Backend) {
    // No token configured: the API does not exist.
    let closed = TestOp::start(backend).await;
    let (status, body) = get(
        &closed,
        &admin_token(),
        "/admin/establishments/2530829B/notices",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");

    let (op, token) = admin_op(backend).await;
    let response = reqwest::Client::new()
        .get(op.url("/admin/establishments/2530829B/notices"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    // The known token works (the establishment was never imported: 404, not 401).
    let (status, body) = get(&op, &token, "/admin/establishments/2530829B/notices").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Wrong tokens are refused (the missing one above counted), then the address is throttled.
    let failures = op.app.config.throttle.failures_per_account;
    for _ in 1..failures {
        let (status, body) = get(
            &op,
            &admin_token(),
            "/admin/establishments/2530829B/notices",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_token");
    }
    let (status, body) = get(
        &op,
        &admin_token(),
        "/admin/establishments/2530829B/notices",
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The right token still works, and logins from the same address are not counted against.
    let (status, _) = get(&op, &token, "/admin/establishments/2530829B/notices").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let throttle = &op.app.config.throttle;
    assert!(!educonnect::accounts::throttle::exhausted(
        &*op.app.ephemeral,
        throttle,
        op.app.now_ms(),
        &educonnect::accounts::throttle::login(throttle, "j.dupont01", "127.0.0.1")
    )
    .await
    .unwrap());
    // A body is never read before the token is checked: refused at once, whatever its size.
    let response = reqwest::Client::new()
        .post(op.url("/admin/link-candidates/merge"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert!(matches!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::PAYLOAD_TOO_LARGE
    ));
}

async fn an_uploaded_export_is_imported_with_its_notice_and_history(backend: Backend) {
    let (op, token) = admin_op(backend).await;
    let dir = &siecle_sample_dirs()[0];
    let uai = dir.file_name().unwrap().to_str().unwrap().to_owned();
    let (pupils, guardians) = files(dir);

    let (status, report) =
        post_import(&op, &token, upload(pupils.clone(), guardians.clone()), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["outcome"], "imported");
    assert_eq!(report["uai"], uai.as_str());
    let created = report["pupils_created"].as_u64().unwrap();
    assert!(created > 0 && report["guardians_created"].as_u64().unwrap() > 0);
    // The accounts exist: a pupil of the export is found by INE.
    let (_, code) = post_json(&op, &token, &first_ine_path(dir), json!({})).await;
    assert!(code["code"].is_string(), "{code}");

    let (status, notices) = get(&op, &token, &format!("/admin/establishments/{uai}/notices")).await;
    assert_eq!(status, StatusCode::OK);
    let notices = notices["notices"].as_array().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["kind"], "new_identifiers");
    assert!(notices[0]["read_at"].is_null());
    let id = notices[0]["id"].as_str().unwrap();
    let read = reqwest::Client::new()
        .post(op.url(&format!("/admin/establishments/{uai}/notices/{id}/read")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    let (_, notices) = get(&op, &token, &format!("/admin/establishments/{uai}/notices")).await;
    assert!(notices["notices"][0]["read_at"].is_i64());
    let missing = reqwest::Client::new()
        .post(op.url(&format!("/admin/establishments/{uai}/notices/nope/read")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The same export again: nothing changes, no new notice, one more line of history.
    let (status, again) = post_import(&op, &token, upload(pupils, guardians), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["pupils_created"], 0);
    assert_eq!(again["guardians_created"], 0);
    assert_eq!(again["updated"], 0);
    let (_, notices) = get(&op, &token, &format!("/admin/establishments/{uai}/notices")).await;
    assert_eq!(notices["notices"].as_array().unwrap().len(), 1);
    let (status, history) = get(&op, &token, &format!("/admin/establishments/{uai}/imports")).await;
    assert_eq!(status, StatusCode::OK);
    let history = history["imports"].as_array().unwrap().clone();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|h| h["source"] == "api"));
    let first = history
        .iter()
        .find(|h| h["report"]["pupils_created"] != 0)
        .unwrap();
    assert_eq!(first["report"]["pupils_created"].as_u64(), Some(created));

    // The establishment: académie from its UAI, school year and export date from the export,
    // the name (not in the exports) set by hand.
    let path = format!("/admin/establishments/{uai}");
    let (status, shown) = get(&op, &token, &path).await;
    assert_eq!(status, StatusCode::OK);
    let expected = educonnect::siecle::Uai::parse(&uai).unwrap().academy();
    assert_eq!(shown["academy"].as_str(), expected);
    assert_eq!(shown["last_export_date"], "2026-09-01");
    assert!(shown["name"].is_null());
    let name = |name: &'static str| {
        reqwest::Client::new()
            .put(op.url(&path))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
    };
    let named = name("Collège Jean Moulin").await.unwrap();
    assert_eq!(named.status(), StatusCode::OK);
    let (_, shown) = get(&op, &token, &path).await;
    assert_eq!(shown["name"], "Collège Jean Moulin");
    let blank = name("  ").await.unwrap();
    assert_eq!(blank.status(), StatusCode::BAD_REQUEST);
    let (status, _) = get(&op, &token, "/admin/establishments/0750001U").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The attachment-code path of the export's first pupil.
fn first_ine_path(dir: &std::path::Path) -> String {
    let export =
        educonnect::siecle::read_establishment(&dir.join(PUPILS_FILE), &dir.join(GUARDIANS_FILE))
            .unwrap();
    format!("/admin/pupils/{}/attachment-code", export.pupils[0].ine)
}

async fn a_refused_upload_changes_nothing_and_says_why(backend: Backend) {
    let (op, token) = admin_op(backend).await;
    let dir = &siecle_sample_dirs()[0];
    let uai = dir.file_name().unwrap().to_str().unwrap().to_owned();
    let (pupils, guardians) = files(dir);

    // Truncated: refused as a whole, with the file and line, and nothing written.
    let truncated = pupils[..pupils.len() / 2].to_vec();
    let (status, body) = post_import(&op, &token, upload(truncated, guardians.clone()), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["outcome"], "refused");
    assert_eq!(body["invalid_file"], true);
    let problems = body["problems"].to_string();
    assert!(problems.contains(PUPILS_FILE), "{problems}");
    let (status, _) = get(&op, &token, &format!("/admin/establishments/{uai}/notices")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the establishment was not even created"
    );

    // One invalid record: refused unless skip_invalid, which imports the rest and lists it.
    let text = String::from_utf8_lossy(&pupils).into_owned();
    let ine_start = text.find("<ID_NATIONAL>").unwrap() + "<ID_NATIONAL>".len();
    let bad = format!(
        "{}XXXXXXXXXXX{}",
        &text[..ine_start],
        &text[ine_start + 11..]
    );
    let bad = encoding_rs::ISO_8859_15.encode(&bad).0.into_owned();
    let (status, body) = post_import(&op, &token, upload(bad.clone(), guardians.clone()), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["invalid_file"], false);
    assert!(
        body["problems"].to_string().contains("XXXXXXXXXXX"),
        "{body}"
    );
    let (status, body) = post_import(
        &op,
        &token,
        upload(bad, guardians.clone()),
        "?skip_invalid=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The record, and its links with it; nothing else.
    let rejected = body["rejected"].as_array().unwrap();
    assert!(
        rejected[0].as_str().unwrap().contains("XXXXXXXXXXX"),
        "{body}"
    );
    let eleve_id = rejected[0]
        .as_str()
        .unwrap()
        .split("ELEVE_ID=")
        .nth(1)
        .unwrap();
    let eleve_id = eleve_id.split(' ').next().unwrap();
    assert!(rejected[1..].iter().all(|r| r
        .as_str()
        .unwrap()
        .contains(&format!("RESPONSABLE_ELEVE ELEVE_ID={eleve_id} "))));

    // Malformed requests.
    let only_one = Form::new().part("eleves", Part::bytes(pupils.clone()));
    let (status, body) = post_import(&op, &token, only_one, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("responsables"));
    let stray = upload(pupils.clone(), guardians.clone()).part("autre", Part::bytes(vec![1]));
    let (status, body) = post_import(&op, &token, stray, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let too_large = upload(vec![b' '; 5 * 1024 * 1024], guardians);
    let response = reqwest::Client::new()
        .post(op.url("/admin/imports/siecle"))
        .bearer_auth(&token)
        .multipart(too_large)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = get(&op, &token, "/admin/establishments/2530829Z/notices").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a UAI with a wrong check letter"
    );
}

async fn an_administrator_merges_or_declines_linking_candidates(backend: Backend) {
    let (op, token) = admin_op(backend).await;
    let generated = siecle_generated(4, 150, 11);
    let pairs = educonnect::siecle::find_exports(&[generated.path().to_path_buf()]).unwrap();
    let uais: Vec<String> = pairs
        .iter()
        .map(|(p, _)| {
            p.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    import_exports(
        &*op.app.durable,
        pairs,
        false,
        "test",
        &SystemClock,
        &mut |_: &Outcome| {},
        educonnect::provisioning::FIRST_LOAD_FROM,
    )
    .await
    .unwrap();
    let mut candidates = Vec::new();
    for uai in &uais {
        let (status, body) = get(
            &op,
            &token,
            &format!("/admin/establishments/{uai}/link-candidates"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        for c in body["candidates"].as_array().unwrap() {
            if !candidates.contains(c) {
                candidates.push(c.clone());
            }
        }
    }
    assert!(
        candidates.len() >= 2,
        "the fixtures hold misspelled guardians: {candidates:?}"
    );
    let id = |c: &Value, side: &str| c[side]["id"].as_str().unwrap().to_owned();

    // Merge: the absorbed account's records and children now belong to the kept one.
    let (keep, merged) = (id(&candidates[0], "account"), id(&candidates[0], "other"));
    let store = &op.app.durable;
    let children_before = store.affiliations(&keep).await.unwrap().children.len()
        + store.affiliations(&merged).await.unwrap().children.len();
    // The absorbed account is signed in somewhere: its session must end with the merge.
    let (session, _) = educonnect::oidc::session::create(
        &op.app,
        &merged,
        "eidas1",
        vec!["pwd".into()],
        op.app.now_ms() / 1000,
        None,
    )
    .await
    .unwrap();
    // The absorbed account's FranceConnect identity opens the kept account afterwards.
    let fc = "https://fc.example/api/v2";
    store
        .tie_upstream(fc, "sub-of-the-absorbed", &merged, op.app.now_ms())
        .await
        .unwrap();
    // Of another upstream where both have one, the kept account's stays, the other is dropped.
    let idp = "https://idp.example";
    for (sub, account) in [("kept-own", &keep), ("absorbed-own", &merged)] {
        store
            .tie_upstream(idp, sub, account, op.app.now_ms())
            .await
            .unwrap();
    }
    let (status, body) = post_json(
        &op,
        &token,
        "/admin/link-candidates/merge",
        json!({ "keep": keep, "merge": merged }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        store
            .account_of_upstream(fc, "sub-of-the-absorbed")
            .await
            .unwrap(),
        Some(keep.clone())
    );
    let tied = |sub: &'static str| store.account_of_upstream(idp, sub);
    assert_eq!(tied("kept-own").await.unwrap(), Some(keep.clone()));
    assert_eq!(tied("absorbed-own").await.unwrap(), None);
    assert!(educonnect::oidc::session::by_sid(&op.app, &session.sid)
        .await
        .unwrap()
        .is_none());
    let absorbed = store.account(&merged).await.unwrap().unwrap();
    assert_eq!(absorbed.state, AccountState::Disabled);
    assert!(store
        .affiliations(&merged)
        .await
        .unwrap()
        .records
        .is_empty());
    let kept = store.affiliations(&keep).await.unwrap();
    assert_eq!(kept.children.len(), children_before, "{kept:?}");
    assert!(
        kept.records.len() >= 2,
        "both establishments' records: {kept:?}"
    );
    // Done once: the candidate is closed.
    let (status, _) = post_json(
        &op,
        &token,
        "/admin/link-candidates/merge",
        json!({ "keep": keep, "merge": merged }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Decline: both accounts stay as they were.
    let open: Vec<&Value> = candidates
        .iter()
        .filter(|c| {
            ![&keep, &merged].contains(&&id(c, "account"))
                && ![&keep, &merged].contains(&&id(c, "other"))
        })
        .collect();
    let declined = open.first().expect("another candidate");
    let (status, body) = post_json(
        &op,
        &token,
        "/admin/link-candidates/reject",
        json!({ "account_id": id(declined, "other"), "other_account_id": id(declined, "account") }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for side in ["account", "other"] {
        let account = store.account(&id(declined, side)).await.unwrap().unwrap();
        assert_ne!(account.state, AccountState::Disabled);
    }
    let pair = |c: &Value| {
        let mut ids = [id(c, "account"), id(c, "other")];
        ids.sort();
        ids
    };
    for uai in &uais {
        let path = format!("/admin/establishments/{uai}/link-candidates");
        let (_, body) = get(&op, &token, &path).await;
        for open in body["candidates"].as_array().unwrap() {
            assert_ne!(pair(open), pair(declined), "the declined pair is closed");
            assert_ne!(
                pair(open),
                pair(&candidates[0]),
                "the merged pair is closed"
            );
        }
    }
    // A re-import proposes neither again.
    let pairs = educonnect::siecle::find_exports(&[generated.path().to_path_buf()]).unwrap();
    import_exports(
        &*op.app.durable,
        pairs,
        false,
        "test",
        &SystemClock,
        &mut |_: &Outcome| {},
        educonnect::provisioning::FIRST_LOAD_FROM,
    )
    .await
    .unwrap();
    let reproposed = op
        .app
        .durable
        .candidates_of_account(&id(declined, "account"))
        .await
        .unwrap();
    assert!(
        reproposed
            .iter()
            .all(|c| c.other.id != id(declined, "other")),
        "{reproposed:?}"
    );
    // Malformed body.
    let (status, _) = post_json(
        &op,
        &token,
        "/admin/link-candidates/merge",
        json!({ "keep": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A merge keeps one of the pair, never a third account.
    let (status, _) = post_json(
        &op,
        &token,
        "/admin/link-candidates/merge",
        json!({ "keep": keep, "merge": id(declined, "other") }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn attachment_codes_are_issued_for_known_pupils_only(backend: Backend) {
    let (op, token) = admin_op(backend).await;
    let dir = &siecle_sample_dirs()[0];
    let (pupils, guardians) = files(dir);
    let (status, _) = post_import(&op, &token, upload(pupils, guardians), "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post_json(&op, &token, &first_ine_path(dir), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = body["code"].as_str().unwrap();
    assert_eq!(code.len(), 14, "{code}");
    assert!(body["expires_at"].as_i64().unwrap() > op.app.now_ms());
    // Two codes are never the same.
    let (_, second) = post_json(&op, &token, &first_ine_path(dir), json!({})).await;
    assert_ne!(second["code"], body["code"]);
    let (status, _) = post_json(&op, &token, "/admin/pupils/123/attachment-code", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A well-formed INE no establishment recorded.
    let (status, _) = post_json(
        &op,
        &token,
        "/admin/pupils/000000000AA/attachment-code",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
