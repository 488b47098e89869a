//! The stylesheets under `/static/css/`, compiled into the binary so the provider needs no file
//! beside it: `base.css` for every page, then one file per audience that has rules of its own
//! (`templates/README.md` says which page links which).

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::app::AppState;

/// (path, stylesheet).
const STYLESHEETS: [(&str, &str); 3] = [
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

pub fn routes() -> Router<AppState> {
    STYLESHEETS
        .iter()
        .fold(Router::new(), |router, &(path, css)| {
            router.route(path, get(move || stylesheet(css)))
        })
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
