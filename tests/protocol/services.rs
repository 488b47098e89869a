//! Mon compte's connected services, over HTTP on both backends: a relying party the account
//! consented to is listed with what it receives, in French; revoking it forgets the consent
//! and revokes its grants, so its refresh token stops working at once.

use openidconnect::RefreshToken;

use crate::common::browser::hidden;
use crate::common::Backend;
use crate::contacts::{post, signed_in_to_mon_compte};
use crate::fixture::{refresh, Fixture, CLIENT_ID, LOGIN, PASSWORD};
use crate::on_both_backends;
use crate::token::code_of;

on_both_backends!(a_revoked_service_loses_its_consent_and_its_refresh_token,);

async fn a_revoked_service_loses_its_consent_and_its_refresh_token(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (code, pending) = code_of(&f).await;
    let tokens = f.exchange(&code, &pending).await.unwrap();
    let token = refresh(&tokens);

    let (browser, body) = signed_in_to_mon_compte(&f.op, LOGIN, PASSWORD).await;
    let body = crate::contacts::unescaped(&body);
    assert!(
        body.contains(&format!("id=\"service-{CLIENT_ID}\"")),
        "{body}"
    );
    assert!(
        body.contains("un accès qui dure après votre déconnexion"),
        "{body}"
    );
    let csrf = hidden(&body, "csrf").unwrap();
    let (status, body) = post(
        &browser,
        &f.op,
        "/compte/services/revoquer",
        &[("csrf", &csrf), ("client_id", CLIENT_ID)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("L'accès de ce service à votre compte est révoqué"),
        "{body}"
    );
    assert!(
        body.contains("Aucun service n'a accès à votre compte."),
        "{body}"
    );
    let consented =
        f.op.app
            .durable
            .consented_scopes(&f.sub, CLIENT_ID)
            .await
            .unwrap();
    assert!(consented.is_empty(), "the consent is forgotten");
    // The refresh token no longer works.
    let refreshed =
        f.rp.exchange_refresh_token(&RefreshToken::new(token))
            .unwrap()
            .request_async(&f.http)
            .await;
    assert!(refreshed.is_err(), "the refresh token was revoked");
    // Revoking again: nothing to revoke.
    let (status, _) = post(
        &browser,
        &f.op,
        "/compte/services/revoquer",
        &[("csrf", &csrf), ("client_id", CLIENT_ID)],
    )
    .await;
    assert_eq!(status, 404);
}
