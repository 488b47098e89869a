//! The stylesheets under `/static/css/` and the scripts under `/static/js/`, compiled into the binary so the provider needs no file
//! beside it: `base.css` for every page, then one file per audience that has rules of its own
//! (`templates/README.md` says which page links which).

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::app::AppState;

/// (path, stylesheet).
const STYLESHEETS: [(&str, &str); 4] = [
    (
        "/static/css/backoffice.css",
        include_str!("../../static/css/backoffice.css"),
    ),
    (
        "/static/css/base.css",
        include_str!("../../static/css/base.css"),
    ),
    (
        "/static/css/account.css",
        include_str!("../../static/css/account.css"),
    ),
    (
        "/static/css/demo.css",
        include_str!("../../static/css/demo.css"),
    ),
];

/// (path, script): our own scripts, loaded by pages whose CSP allows `script-src 'self'`.
const SCRIPTS: [(&str, &str); 1] = [(
    "/static/js/password.js",
    include_str!("../../static/js/password.js"),
)];

pub fn routes() -> Router<AppState> {
    let router = STYLESHEETS
        .iter()
        .fold(Router::new(), |router, &(path, css)| {
            router.route(path, get(move || stylesheet(css)))
        });
    SCRIPTS.iter().fold(router, |router, &(path, js)| {
        router.route(path, get(move || script(js)))
    })
}

async fn script(js: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        js,
    )
}

async fn stylesheet(css: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        css,
    )
}
