//! HTTP: axum handlers only. Each extracts, calls one domain function, renders.

mod account;
mod activation;
mod admin;
mod assets;
mod authorize;
mod browser_cookies;
mod demo;
mod error;
mod franceconnect;
mod franceconnect_tie;
mod gestion;
mod logout;
pub mod ops;
mod origin;
mod pages;
mod recovery;
mod registration;
mod session_cookie;
mod token;
mod userinfo;

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// Every route of the provider (and, with the demo enabled, of the demo relying party).
pub fn router(app: AppState) -> Router {
    ops::prometheus();
    let mut router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(ops::discovery(&app.config)),
        )
        .route("/jwks", get(ops::jwks))
        .route(
            "/authorize",
            get(authorize::authorize).post(authorize::authorize),
        )
        .merge(browser_forms(app.clone()))
        .merge(gestion::routes(&app))
        .route("/token", post(token::token))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/introspect", post(token::introspect))
        .route("/revoke", post(token::revoke))
        .route(
            "/logout",
            get(logout::end_session).post(logout::end_session),
        )
        .route(
            crate::federation::CALLBACK_PATH,
            get(franceconnect::callback),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .merge(assets::routes());
    if app.config.demo_enabled() {
        router = router.merge(demo::routes());
    }
    if app.franceconnect.is_some() {
        let path = app.config.franceconnect.post_logout_redirect.as_str();
        router = router.route(path, get(franceconnect::logged_out));
    }
    // Review #13.11: behind an https issuer, browsers are told to use https only (a year). The
    // proxy in front terminates TLS; the header is ours to send since we know the issuer.
    if app.config.issuer.starts_with("https://") {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        .merge(admin::routes(&app))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(app)
}

/// `/metrics` alone, for the operators' own listener (`metrics_listen`): never on the public one
/// (review #13.13: request counts per endpoint and login outcomes are nobody else's business).
pub fn metrics_router() -> Router {
    ops::prometheus();
    Router::new().route("/metrics", get(ops::metrics))
}

/// The pages whose forms change something for the browser's person: accepted only from our own
/// pages (review #13.2).
fn browser_forms(app: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/login",
            get(authorize::login_page).post(authorize::login_submit),
        )
        .route(
            "/activation",
            get(activation::page).post(activation::submit),
        )
        .route(
            "/inscription",
            get(registration::page).post(registration::start),
        )
        .route("/inscription/etape", post(registration::step))
        // Issue #18: the login page's FranceConnect button.
        .route("/franceconnect/connexion", post(franceconnect::start))
        .route(
            "/franceconnect/rattachement",
            get(franceconnect_tie::page).post(franceconnect_tie::submit),
        )
        .route("/consent", post(authorize::consent_submit))
        .route("/logout/confirm", post(logout::confirm))
        .route("/compte", get(account::page))
        .route("/compte/rattacher", post(account::attach))
        .route("/compte/rapprochement", post(account::candidate))
        // Issue #17: a forgotten password or identifier.
        .route(
            "/mot-de-passe-oublie",
            get(recovery::password_start).post(recovery::password_submit),
        )
        .route(
            "/mot-de-passe-oublie/lien",
            get(recovery::link_page).post(recovery::link_submit),
        )
        .route(
            "/identifiant-oublie",
            get(recovery::identifier_start).post(recovery::identifier_submit),
        )
        .route("/compte/connexion", get(account::sign_in))
        .route("/compte/deconnexion", post(account::sign_out))
        .route("/compte/courriel", post(account::email))
        .route("/compte/mobile", post(account::mobile))
        .route("/compte/mot-de-passe", post(account::change_password))
        .route("/compte/services/revoquer", post(account::revoke_service))
        .route(
            "/compte/franceconnect/defaire",
            post(account::untie_franceconnect),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            app,
            origin::same_origin_forms,
        ))
}

/// Serves `router` on `listener` until `shutdown` resolves, with client addresses available;
/// then waits at most `DEFAULT_GRACE` for the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_within(listener, router, shutdown, DEFAULT_GRACE).await
}

/// How long `serve` waits for the requests under way once asked to stop.
pub const DEFAULT_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// `serve`, waiting at most `grace` for the requests under way once `shutdown` resolved.
/// Review #13.4: a request that never ends (an import, a client that stops sending) does not
/// keep the process alive.
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let (asked, stopping) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = asked.send(());
    });
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    tokio::select! {
        done = &mut server => return done,
        _ = stopping => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(done) => done,
        Err(_) => {
            tracing::warn!(?grace, "requests still under way at shutdown: abandoned");
            Ok(())
        }
    }
}
