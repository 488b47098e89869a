//! Who calls the administration API: a bearer token whose digest is configured
//! (`admin.token_digests`), checked before any handler reads a body, with wrong tokens
//! throttled per address. A known token acts nationally; it is handed to the handlers as the
//! `Actor` of the establishment operations.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AdminError;
use crate::accounts::throttle;
use crate::app::{App, AppState};
use crate::establishments::{Actor, Scope};
use crate::http::authorize::client_address;
use crate::secrets::{constant_time_eq, digest};

/// Characters of a token's digest that name it in the logs (the digest is no secret: the
/// configuration holds it).
const LABEL_CHARS: usize = 8;

pub(super) async fn require_token(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let address = client_address(&app, peer, request.headers());
    match authenticate(&app, request.headers(), &address).await {
        Ok(actor) => {
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// The caller holds one of the configured tokens. Wrong tokens are counted per address, on a
/// counter of their own (logins from the same school address are not affected): after
/// `throttle.failures_per_account` of them the address gets 429 until the window ends. A right
/// token always passes (256 random bits are not guessed; the throttle is there to stop trying).
async fn authenticate(app: &App, headers: &HeaderMap, address: &str) -> Result<Actor, AdminError> {
    let digests = &app.config.admin.token_digests;
    if digests.is_empty() {
        return Err(AdminError::not_found("API d'administration désactivée"));
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = presented {
        let presented = digest(token.as_bytes());
        // Every digest is compared, in constant time.
        let known = digests.iter().fold(None, |found, d| {
            if constant_time_eq(d, &presented) {
                Some(d)
            } else {
                found
            }
        });
        if let Some(known) = known {
            let label: String = known.chars().take(LABEL_CHARS).collect();
            // Today's tokens are the national administration's.
            return Ok(Actor::new(format!("admin-token:{label}"), Scope::National));
        }
    }
    // Wrong tokens from one address are counted, and refused past the bound, in one atomic
    // step (review #13.1); a right token always passes and counts nothing.
    let throttle = &app.config.throttle;
    let counters = throttle::single(throttle, &format!("admin:{address}"));
    let Some(attempt) = throttle::begin(&*app.ephemeral, throttle, app.now_ms(), counters).await?
    else {
        return Err(AdminError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "trop de jetons refusés depuis cette adresse, réessayez plus tard",
        ));
    };
    attempt.failed();
    Err(match presented {
        None => AdminError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "jeton d'administration (Authorization: Bearer) manquant",
        ),
        Some(_) => {
            tracing::warn!(%address, "administration API: token refused");
            AdminError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "jeton d'administration inconnu",
            )
        }
    })
}
