//! Mon compte's FranceConnect section: undoing the tie (`/compte/franceconnect/defaire`,
//! `oidc::login::tie::untie`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{submitted, Refused};
use crate::app::AppState;
use crate::http::authorize::client_address;
use crate::oidc::login::tie;

#[derive(Deserialize)]
pub struct UntieForm {
    csrf: String,
}

#[tracing::instrument(skip_all)]
pub async fn untie_franceconnect(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<UntieForm>,
) -> Response {
    let address = client_address(&app, peer, &headers);
    let acting = app.clone();
    submitted(&app, &jar, &form.csrf, |session, account| async move {
        Ok(
            match tie::untie(&acting, &account, &session, &address).await? {
                true => Ok("franceconnect-defait"),
                false => Err(Refused {
                    status: StatusCode::NOT_FOUND,
                    message: "Votre compte n'est rattaché à aucune identité FranceConnect."
                        .to_owned(),
                }),
            },
        )
    })
    .await
}
