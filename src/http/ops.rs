//! Discovery, JWKS, health and metrics.

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::error::ApiError;
use crate::app::AppState;
use crate::config::Config;

/// The discovery endpoint. The metadata depend on the configuration only: serialized once, when
/// the router is built.
pub fn discovery(config: &Config) -> impl Fn() -> std::future::Ready<Response> + Clone {
    let document: Bytes = serde_json::to_vec(&crate::oidc::discovery::metadata(config))
        .expect("metadata are plain JSON")
        .into();
    move || {
        std::future::ready(
            (
                [
                    (header::CACHE_CONTROL, "public, max-age=300"),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                document.clone(),
            )
                .into_response(),
        )
    }
}

pub async fn jwks(State(app): State<AppState>) -> Result<Response, ApiError> {
    let jwks = app.keys.jwks().await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(jwks)).into_response())
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when both stores answer.
pub async fn readyz(State(app): State<AppState>) -> Response {
    let durable = app.durable.ping().await;
    let ephemeral = app.ephemeral.ping().await;
    match (durable, ephemeral) {
        (Ok(()), Ok(())) => (StatusCode::OK, "ready").into_response(),
        (d, e) => {
            tracing::warn!(durable = ?d.err(), ephemeral = ?e.err(), "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
        }
    }
}

/// The process-wide Prometheus recorder (the `metrics` facade is global by design).
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .expect("static buckets")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

pub async fn metrics() -> String {
    prometheus().render()
}

/// Counts requests and measures their latency per endpoint (the route, not the raw path).
pub async fn track(request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("endpoint", endpoint),
        ("method", method),
        ("status", status),
    ];
    metrics::counter!("educonnect_http_requests_total", &labels).increment(1);
    metrics::histogram!("educonnect_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
