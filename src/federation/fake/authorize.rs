//! The fake's authorization endpoint: the checks FranceConnect makes of a service provider's
//! request, the identity-choice page, and the person's choice (an identity, a cancellation, a
//! simulated error) sent back to the redirect URI.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::endpoints::{now_secs, redirect_with, single, Issued, ACR, CODE_LIFETIME};
use super::identities;
use super::page;
use super::Shared;
use crate::secrets::random_b64;

/// FranceConnect v2 refuses shorter `state` and `nonce` values.
const MIN_STATE_LENGTH: usize = 32;
/// How long the identity-choice page waits for the person.
const INTERACTION_LIFETIME: Duration = Duration::from_secs(600);

/// An authorization request waiting for the person's choice.
pub(super) struct Interaction {
    started: Instant,
    redirect_uri: String,
    state: String,
    nonce: String,
    scopes: Vec<String>,
}

pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    match check_authorization(&shared, &params) {
        Ok(interaction) => {
            let id = random_b64(18);
            let mut state = shared.state();
            // A long-running demo forgets what was abandoned.
            let now = Instant::now();
            state
                .interactions
                .retain(|_, i| now.duration_since(i.started) < INTERACTION_LIFETIME);
            state.codes.retain(|_, issued| issued.expires > now);
            state.tokens.retain(|_, granted| granted.expires > now);
            state.interactions.insert(id.clone(), interaction);
            drop(state);
            page::choice(&id)
        }
        Err(Refused::Page(message)) => page::error(StatusCode::BAD_REQUEST, &message),
        Err(Refused::Client {
            redirect_uri,
            error,
            description,
            state,
        }) => redirect_with(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &state),
            ],
        ),
    }
}

/// Why an authorization request is refused.
enum Refused {
    /// Before the redirect URI is trusted: an error page, never a redirect.
    Page(String),
    /// An error response to the (registered) redirect URI.
    Client {
        redirect_uri: String,
        error: &'static str,
        description: &'static str,
        state: String,
    },
}

fn check_authorization(
    shared: &Shared,
    params: &[(String, String)],
) -> Result<Interaction, Refused> {
    let get = |name: &str| single(params, name).map_err(Refused::Page);
    let settings = &shared.settings();
    if get("client_id")? != Some(settings.client_id.as_str()) {
        return Err(Refused::Page("client_id inconnu".into()));
    }
    let redirect_uri = get("redirect_uri")?.unwrap_or_default();
    if !settings.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Refused::Page(
            "redirect_uri non enregistrée pour ce fournisseur de service".into(),
        ));
    }
    // FranceConnect refuses these with its own error page too.
    let state = get("state")?.unwrap_or_default();
    let nonce = get("nonce")?.unwrap_or_default();
    if state.len() < MIN_STATE_LENGTH || nonce.len() < MIN_STATE_LENGTH {
        return Err(Refused::Page(format!(
            "state et nonce doivent compter au moins {MIN_STATE_LENGTH} caractères"
        )));
    }
    let acr_values = get("acr_values")?.unwrap_or_default();
    if !acr_values.split_ascii_whitespace().any(|acr| acr == ACR) {
        return Err(Refused::Page(format!("acr_values doit être {ACR}")));
    }
    let refuse = |error: &'static str, description: &'static str| Refused::Client {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description,
        state: state.to_owned(),
    };
    if get("response_type")? != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "response_type=code attendu",
        ));
    }
    let scopes: Vec<String> = get("scope")?
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "le scope openid est requis"));
    }
    Ok(Interaction {
        started: Instant::now(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        nonce: nonce.to_owned(),
        scopes,
    })
}

/// The person's choice on the page: an identity, `annuler`, or `erreur`.
pub(super) async fn choose(
    State(shared): State<Arc<Shared>>,
    Path((id, choice)): Path<(String, String)>,
) -> Response {
    let interaction = shared.state().interactions.remove(&id);
    let live = interaction.filter(|i| i.started.elapsed() < INTERACTION_LIFETIME);
    let Some(interaction) = live else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "Cette demande a expiré ou a déjà servi.",
        );
    };
    let Interaction {
        started: _,
        redirect_uri,
        state,
        nonce,
        scopes,
    } = interaction;
    let identity = match choice.as_str() {
        "annuler" => {
            return redirect_with(
                &redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "User auth aborted"),
                    ("state", &state),
                ],
            )
        }
        "erreur" => {
            return redirect_with(
                &redirect_uri,
                &[
                    ("error", "server_error"),
                    ("error_description", "Simulated FranceConnect failure"),
                    ("state", &state),
                ],
            )
        }
        key => match identities::find(key) {
            Some(identity) => identity,
            None => return page::error(StatusCode::BAD_REQUEST, "Identité de test inconnue."),
        },
    };
    let code = random_b64(32);
    let mut state_of_fake = shared.state();
    let auth_time = now_secs() - state_of_fake.auth_age.as_secs() as i64;
    state_of_fake.codes.insert(
        code.clone(),
        Issued {
            identity,
            redirect_uri: redirect_uri.clone(),
            nonce,
            scopes,
            auth_time,
            expires: Instant::now() + CODE_LIFETIME,
        },
    );
    drop(state_of_fake);
    redirect_with(&redirect_uri, &[("code", &code), ("state", &state)])
}
