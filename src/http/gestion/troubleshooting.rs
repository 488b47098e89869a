//! *Dépannage élève* (`/gestion/etablissements/{uai}/depannage`): find a pupil by name, login
//! or class, see their login, state, throttling and last letter, and act through the account
//! page's forms (`account_actions.rs`, which come back here). `Right::Pupils`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::account::done_message;
use super::accounts::state_label;
use super::chrome::{Chrome, Section};
use super::home::french_date;
use super::place::{self, base};
use super::signed::{private, refusal, Signed};
use crate::app::AppState;
use crate::establishments::{self, OperationError, FOUND};
use crate::http::pages;

pub fn routes() -> Router<AppState> {
    Router::new().route("/gestion/etablissements/{uai}/depannage", get(page))
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    fait: String,
}

pub struct PupilView {
    pub id: String,
    pub name: String,
    pub login: String,
    pub class: String,
    pub state: (&'static str, &'static str),
    pub disabled: bool,
    pub throttled: bool,
    pub last_letter: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/troubleshooting.html")]
struct TroubleshootingPage {
    chrome: Option<Chrome>,
    base: String,
    csrf: String,
    q: String,
    searched: bool,
    pupils: Vec<PupilView>,
    matched: usize,
    shown_at_most: usize,
    done: Option<&'static str>,
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Query(search): Query<Search>,
) -> Response {
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = format!("{}/depannage", base(&uai));
    let result = async {
        let found = establishments::find_pupils(
            &signed.actor,
            &place::files(&app),
            &uai,
            &search.q,
            app.now_ms(),
        )
        .await?;
        let chrome = place::chrome(&app, &signed, &uai, Section::Troubleshooting).await?;
        Ok::<_, OperationError>(TroubleshootingPage {
            chrome: Some(chrome),
            base: base(&uai),
            csrf: signed.csrf(),
            searched: !search.q.trim().is_empty(),
            q: search.q.clone(),
            matched: found.matched,
            shown_at_most: FOUND,
            pupils: found
                .pupils
                .iter()
                .map(|p| PupilView {
                    id: p.row.account.id.clone(),
                    name: format!("{} {}", p.row.account.family_name, p.row.account.given_name),
                    login: p.row.account.login.clone(),
                    class: p.row.classes.join(", "),
                    state: state_label(p.row.account.state),
                    disabled: p.row.account.state == crate::accounts::AccountState::Disabled,
                    throttled: p.throttled,
                    last_letter: p.last_letter.map(french_date),
                })
                .collect(),
            done: done_message(&search.fait),
        })
    }
    .await;
    match result {
        Ok(page) => private(pages::render_with_script(StatusCode::OK, &page)),
        Err(error) => refusal(error, &here),
    }
}
