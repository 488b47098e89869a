//! Mon compte's connected services: revoking one (`/compte/services/revoquer`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{services_of, submitted, Refused};
use crate::app::AppState;
use crate::http::authorize::client_address;
use crate::selfservice::connected as services;

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    client_id: String,
}

#[tracing::instrument(skip_all)]
pub async fn revoke_service(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<RevokeForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf.clone(), |_, account| async move {
        let revoked = services::revoke(
            &services_of(&acting),
            &account.id,
            &form.client_id,
            &address,
        )
        .await?;
        Ok(match revoked {
            true => Ok("revoque"),
            false => Err(Refused {
                status: StatusCode::NOT_FOUND,
                message: "Ce service n'a pas d'accès à votre compte.".to_owned(),
            }),
        })
    })
    .await
}
