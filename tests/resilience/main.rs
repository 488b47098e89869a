//! Store restarts (issue #13): the provider over a PostgreSQL and a Redis of the test's own,
//! restarted or stopped under a steady load of requests that read each store. Once a store
//! answers again no request fails; while it is down, requests answer 503 with `Retry-After`
//! (never 500); the provider recovers without a restart.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../protocol/fixture.rs"]
mod fixture;
mod servers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::browser::Step;
use common::Backend;
use fixture::{access, Fixture, CLIENT_ID};
use servers::{Postgres, Redis};

/// A provider whose stores are `pg` and `redis`, with a signed-in browser and an access token.
async fn provider(pg: &Postgres, redis: &Redis) -> (Fixture, String) {
    let (database_url, redis_url) = (pg.url(), redis.url());
    let f = Fixture::with(Backend::Production, |c| {
        c.database_url = database_url;
        c.redis_url = redis_url;
        // Every request reads the client from the database, as after a cache expiry.
        c.client_cache_seconds = 0;
        c.store_timeout_seconds = 2;
    })
    .await;
    let (tokens, _) = f.login(&["openid", "profile"]).await;
    (f, access(&tokens))
}

/// One request of the load: when it started, how it was answered.
struct Answer {
    started: Instant,
    what: &'static str,
    status: u16,
    retry_after: bool,
}

/// Requests from four concurrent clients until `stop`: userinfo (Redis, then the account in
/// PostgreSQL), introspection (the client in PostgreSQL, the token in Redis), `/compte` (the
/// session in Redis, the account and its children in PostgreSQL).
async fn load(f: &Fixture, token: &str, stop: &AtomicBool) -> Vec<Answer> {
    let worker = |n: usize| async move {
        let mut answers = Vec::new();
        let mut i = n;
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let (what, request) = match i % 3 {
                0 => (
                    "userinfo",
                    f.http.get(f.op.url("/userinfo")).bearer_auth(token),
                ),
                1 => (
                    "introspect",
                    f.http
                        .post(f.op.url("/introspect"))
                        .basic_auth(CLIENT_ID, Some(f.secret.expose()))
                        .form(&[("token", token)]),
                ),
                _ => ("compte", f.browser.http.get(f.op.url("/compte"))),
            };
            let response = request.send().await.expect("the provider answers");
            answers.push(Answer {
                started,
                what,
                status: response.status().as_u16(),
                retry_after: response.headers().contains_key("retry-after"),
            });
            i += 1;
        }
        answers
    };
    let (a, b, c, d) = tokio::join!(worker(0), worker(1), worker(2), worker(3));
    [a, b, c, d].into_iter().flatten().collect()
}

/// Runs the load while `outage` runs (it returns when the store answers again), then two
/// seconds more: no request fails after `up`, and before only with a 503 and `Retry-After`.
/// Returns (failed before `up`, failed after).
async fn under_load(
    f: &Fixture,
    token: &str,
    outage: impl std::future::Future<Output = Instant>,
) -> (usize, usize) {
    let stop = AtomicBool::new(false);
    let (answers, up) = tokio::join!(load(f, token, &stop), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let up = outage.await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::Relaxed);
        up
    });
    let failed = |a: &&&Answer| a.status >= 500;
    let (during, after): (Vec<&Answer>, Vec<&Answer>) =
        answers.iter().partition(|a| a.started < up);
    let describe =
        |a: &&Answer| format!("{} {} (retry-after: {})", a.what, a.status, a.retry_after);
    let not_503: Vec<String> = during
        .iter()
        .filter(failed)
        .filter(|a| !(a.status == 503 && a.retry_after))
        .map(describe)
        .collect();
    let failed_after: Vec<String> = after.iter().filter(failed).map(describe).collect();
    let counts = (during.iter().filter(failed).count(), failed_after.len());
    eprintln!(
        "{} requests before the store answered again: {} failed, {} of them not a 503 with \
         Retry-After; {} after: {} failed",
        during.len(),
        counts.0,
        not_503.len(),
        after.len(),
        counts.1
    );
    assert!(
        not_503.is_empty(),
        "while the store was down, requests answered {not_503:?}"
    );
    assert!(after.len() > 20, "the load ran after the restart");
    assert!(
        failed_after.is_empty(),
        "{} of {} requests failed after the store answered again: {failed_after:?}",
        failed_after.len(),
        after.len()
    );
    counts
}

/// The load for `duration`.
async fn load_for(f: &Fixture, token: &str, duration: Duration) -> Vec<Answer> {
    let stop = AtomicBool::new(false);
    let (answers, ()) = tokio::join!(load(f, token, &stop), async {
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
    });
    answers
}

/// Fills the pool with connections, lets them sit while `restart` runs (it returns when the
/// store answers again), then checks the next requests; returns how many failed.
async fn after_a_quiet_restart(
    f: &Fixture,
    token: &str,
    restart: impl std::future::Future<Output = ()>,
) -> usize {
    let warm = load_for(f, token, Duration::from_secs(1)).await;
    assert!(warm.iter().all(|a| a.status < 500), "the load runs");
    restart.await;
    let answers = load_for(f, token, Duration::from_millis(1500)).await;
    let failed: Vec<String> = answers
        .iter()
        .filter(|a| a.status >= 500)
        .map(|a| format!("{} {}", a.what, a.status))
        .collect();
    eprintln!(
        "{} requests after the restart: {} failed",
        answers.len(),
        failed.len()
    );
    assert!(answers.len() > 20, "the load ran after the restart");
    assert!(
        failed.is_empty(),
        "{} of {} requests failed after the store answered again: {failed:?}",
        failed.len(),
        answers.len()
    );
    failed.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_database_restart_no_request_fails() {
    let (pg, redis) = (Postgres::start().await, Redis::start().await);
    let (f, token) = provider(&pg, &redis).await;
    after_a_quiet_restart(&f, &token, pg.restart()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_database_restart_under_load_requests_answer_503_never_500() {
    let (pg, redis) = (Postgres::start().await, Redis::start().await);
    let (f, token) = provider(&pg, &redis).await;
    under_load(&f, &token, async {
        pg.restart().await;
        Instant::now()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_restart_no_request_fails() {
    let (pg, mut redis) = (Postgres::start().await, Redis::start().await);
    let (f, token) = provider(&pg, &redis).await;
    after_a_quiet_restart(&f, &token, async {
        redis.kill();
        redis.start_again().await;
    })
    .await;
}

/// A single-use take (a code at the token endpoint) must not be sent twice, so it is not simply
/// retried: after a quiet restart, the connection is checked first (a `PING`), and the first
/// such request does not fail either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_quiet_redis_restart_a_single_use_take_does_not_fail() {
    let (pg, mut redis) = (Postgres::start().await, Redis::start().await);
    let (f, _) = provider(&pg, &redis).await;
    redis.kill();
    redis.start_again().await;
    // The connection stays quiet a while, as between two logins at night.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ((status, body, _), _) = probe(&f).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_redis_restart_under_load_requests_answer_503_never_500() {
    let (pg, mut redis) = (Postgres::start().await, Redis::start().await);
    let (f, token) = provider(&pg, &redis).await;
    under_load(&f, &token, async {
        redis.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        redis.start_again().await;
        Instant::now()
    })
    .await;
}

/// What the token endpoint and `/compte` answer now: (token status, its JSON and
/// `Retry-After`), (page status, body and `Retry-After`).
async fn probe(f: &Fixture) -> ((u16, serde_json::Value, bool), (u16, String, bool)) {
    let started = Instant::now();
    let token = f
        .http
        .post(f.op.url("/token"))
        .basic_auth(CLIENT_ID, Some(f.secret.expose()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "not-a-code"),
            ("redirect_uri", common::REDIRECT_URI),
            ("code_verifier", &"v".repeat(43)),
        ])
        .send()
        .await
        .unwrap();
    let token = (
        token.status().as_u16(),
        token.headers().contains_key("retry-after"),
        token.json().await.unwrap_or(serde_json::Value::Null),
    );
    let page = f
        .browser
        .http
        .get(f.op.url("/compte"))
        .send()
        .await
        .unwrap();
    let page = (
        page.status().as_u16(),
        page.headers().contains_key("retry-after"),
        page.text().await.unwrap(),
    );
    // The store timeout is 2 s: an answer, not a hang.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered quickly"
    );
    ((token.0, token.2, token.1), (page.0, page.2, page.1))
}

fn assert_unavailable(f: &((u16, serde_json::Value, bool), (u16, String, bool)), store: &str) {
    let ((status, json, retry_after), (page_status, body, page_retry_after)) = f;
    assert_eq!(*status, 503, "token endpoint while {store} is down: {json}");
    assert_eq!(json["error"], "temporarily_unavailable", "{json}");
    assert!(retry_after, "Retry-After on the token endpoint");
    assert_eq!(*page_status, 503, "/compte while {store} is down");
    assert!(
        body.contains("Service momentanément indisponible"),
        "{body}"
    );
    assert!(page_retry_after, "Retry-After on the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_a_store_is_down_requests_answer_503_and_recover_without_a_restart() {
    let (pg, mut redis) = (Postgres::start().await, Redis::start().await);
    let (f, _) = provider(&pg, &redis).await;
    let ((status, json, _), (page, _, _)) = probe(&f).await;
    assert_eq!((status, page), (400, 200), "{json}");
    assert_eq!(json["error"], "invalid_grant");

    pg.stop();
    assert_unavailable(&probe(&f).await, "PostgreSQL");
    pg.start_again().await;
    let ((status, json, _), (page, _, _)) = probe(&f).await;
    assert_eq!(
        (status, page),
        (400, 200),
        "recovered from PostgreSQL: {json}"
    );

    redis.kill();
    assert_unavailable(&probe(&f).await, "Redis");
    redis.start_again().await;
    let ((status, json, _), (page, body, _)) = probe(&f).await;
    assert_eq!(status, 400, "recovered from Redis: {json}");
    // Redis lost the session: the page asks to sign in again, it does not fail.
    assert!(page < 500, "recovered from Redis: {page} {body}");
    if let Step::Page { status, .. } = f.browser.get(f.issuer(), &f.op.url("/compte")).await {
        assert!(status < 500);
    }
}
