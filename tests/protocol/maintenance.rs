//! Bounded growth: the purge pass.

use std::time::Duration;

use crate::common::Backend;
use crate::fixture::{refresh, Fixture};
use crate::on_both_backends;

on_both_backends!(
    purge_removes_expired_grants_and_keeps_live_ones,
    operations_endpoints_answer,
    hsts_is_sent_behind_an_https_issuer_only,
);

/// Review #13.11.
async fn hsts_is_sent_behind_an_https_issuer_only(backend: Backend) {
    let plain = crate::common::TestOp::start(backend).await;
    let response = reqwest::get(plain.url("/healthz")).await.unwrap();
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_none());
    let tls = crate::common::TestOp::start_with(backend, |c| {
        c.issuer = c.issuer.replace("http://", "https://");
    })
    .await;
    let url = format!("http://{}/healthz", tls.app.config.listen);
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

async fn purge_removes_expired_grants_and_keeps_live_ones(backend: Backend) {
    let f = Fixture::new(backend).await;
    let old = refresh(&f.login(&["offline_access"]).await.0);
    let first = educonnect::maintenance::purge_once(&f.op.app)
        .await
        .unwrap();
    assert_eq!(
        (first.grants, first.skipped),
        (0, false),
        "nothing is expired yet"
    );
    // Past the refresh lifetime, the grant and its token go.
    f.op.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let live = refresh(&f.login(&[]).await.0);
    let purged = educonnect::maintenance::purge_once(&f.op.app)
        .await
        .unwrap();
    assert!(
        purged.grants >= 1 && purged.refresh_tokens >= 1,
        "{purged:?}"
    );
    assert_eq!(f.introspect(&old).await["active"], false);
    assert_eq!(f.introspect(&live).await["active"], true);
}

async fn operations_endpoints_answer(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.login(&[]).await;
    let get = |path: &str| f.http.get(f.op.url(path)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    // Review #13.13: not on the public listener; on the operators' own.
    assert_eq!(get("/metrics").await.unwrap().status(), 404);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(educonnect::http::serve(
        listener,
        educonnect::http::metrics_router(),
        std::future::pending(),
    ));
    let metrics = f
        .http
        .get(metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "educonnect_http_requests_total",
        "educonnect_http_request_duration_seconds",
        "educonnect_logins_total",
        "educonnect_tokens_issued_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    assert!(metrics.contains("endpoint=\"/token\""));
}
