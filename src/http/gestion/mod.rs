//! The establishment back-office, `/gestion`: server-rendered French pages for staff (never
//! EduConnect accounts). Its own cookie and session (`crate::staff::session`), CSRF tokens
//! derived from it on every form, forms accepted from our own pages only. Every page extracts
//! the signed-in staff member (`Signed`, whose `Actor` the domain functions check), calls one
//! domain function, renders; a refusal is a 403 page, a function that needs the second factor
//! sends the browser to the step-up (`second_factor`) and back.
//!
//! Files: `signed.rs` (the signed-in extractor, CSRF, refusals), `chrome.rs` (what the layout
//! shows: who is signed in, the menu of the establishment), `signin.rs` (sign-in, second
//! factor, sign-out), `home.rs` (the establishments and queues of the staff member); the
//! functions over an establishment each have their file.

mod account;
mod account_actions;
mod accounts;
mod assistance;
mod chrome;
mod dashboard;
mod delegations;
mod home;
mod identifiers;
mod journal;
mod notifying;
mod password;
mod place;
mod signed;
mod signin;
mod staff;
mod troubleshooting;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use chrome::{Chrome, Section};
pub use signed::Signed;

pub fn routes(app: &AppState) -> Router<AppState> {
    // Each function's pages are a router of their file's, merged here.
    let pages = Router::new()
        .merge(delegations::routes())
        .merge(journal::routes())
        .merge(staff::routes())
        .merge(assistance::routes())
        // The establishment's accounts (#16).
        .merge(dashboard::routes())
        .merge(accounts::routes())
        .merge(account_actions::routes())
        .merge(troubleshooting::routes())
        .merge(identifiers::routes())
        .merge(password::routes());
    Router::new()
        .route("/gestion", get(signin::page))
        .route("/gestion/connexion", post(signin::submit))
        .route(
            "/gestion/second-facteur",
            get(signin::second_factor_page).post(signin::second_factor_submit),
        )
        .route("/gestion/second-facteur/qr.svg", get(signin::qr_code))
        .route("/gestion/deconnexion", post(signin::sign_out))
        .route("/gestion/accueil", get(home::page))
        .merge(pages)
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            super::origin::same_origin_forms,
        ))
}
