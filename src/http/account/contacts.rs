//! Mon compte's contact-change forms: `/compte/courriel` and `/compte/mobile`, each with an
//! `action`: `envoyer` (step 1: the new value, a code sent to it), `confirmer` (step 2: the
//! code), `annuler` (the waiting code withdrawn).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{contact_changes, submitted, Refused};
use crate::app::AppState;
use crate::http::authorize::client_address;
use crate::selfservice::contacts::{self, Channel, Refusal};

#[derive(Deserialize)]
pub struct ContactForm {
    csrf: String,
    action: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    code: String,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Refused {
        let status = match refusal {
            Refusal::Throttled | Refusal::TooManyCodes | Refusal::SmsCapped => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Refusal::PupilHasNoMobile => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        Refused {
            status,
            message: refusal.to_string(),
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn email(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<ContactForm>,
) -> Response {
    changed(app, peer, headers, jar, form, Channel::Email).await
}

#[tracing::instrument(skip_all)]
pub async fn mobile(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<ContactForm>,
) -> Response {
    changed(app, peer, headers, jar, form, Channel::Mobile).await
}

async fn changed(
    app: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    jar: CookieJar,
    form: ContactForm,
    channel: Channel,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf.clone(), |_, account| async move {
        let c = contact_changes(&acting);
        let done = match (form.action.as_str(), channel) {
            ("envoyer", Channel::Email) => contacts::ask_email(&c, &account, &form.value)
                .await?
                .map(|_| "code-courriel"),
            ("envoyer", Channel::Mobile) => {
                contacts::ask_mobile(&c, &account, &form.value, &address)
                    .await?
                    .map(|_| "code-mobile")
            }
            ("annuler", _) => {
                contacts::withdraw(&c, &account, channel).await?;
                Ok("annule")
            }
            (_, _) => contacts::confirm(&c, &account, channel, &form.code, &address)
                .await?
                .map(|_| match channel {
                    Channel::Email => "courriel",
                    Channel::Mobile => "mobile",
                }),
        };
        Ok(done.map_err(Refused::from))
    })
    .await
}
