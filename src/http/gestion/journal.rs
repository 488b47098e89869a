//! The journal pages: `/gestion/etablissements/{uai}/journal` (the head's: the establishment's
//! audit trail, or one account's history with `?compte=<login>`) and `/gestion/journal` (the
//! operators': every event, by establishment or account if asked). Newest first, a page at a
//! time (`?avant=`). The rights are `establishments::audit`'s to check.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::delegations::establishment_name;
use super::home::french_time;
use super::signed::{encode, internal, private, refusal};
use super::Signed;
use super::{Chrome, Section};
use crate::app::{App, AppState};
use crate::establishments::audit::{self, Journal, TrailPage, TrailRequest};
use crate::establishments::OperationError;
use crate::http::pages;
use crate::siecle::Uai;
use crate::store::JournalCursor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gestion/etablissements/{uai}/journal", get(establishment))
        .route("/gestion/journal", get(national))
}

pub(super) fn journal(app: &App) -> Journal<'_> {
    let store = &*app.durable;
    Journal {
        events: store,
        audit: store,
        accounts: store,
        staff: store,
        directory: store,
    }
}

pub struct Row {
    pub when: String,
    pub who: String,
    pub what: String,
    pub whom: Option<String>,
    /// The account's history, when the subject is an account.
    pub history: Option<String>,
    pub uai: Option<String>,
    pub address: Option<String>,
    pub outcome: (&'static str, &'static str),
}

#[derive(Template)]
#[template(path = "backoffice/journal.html")]
struct JournalPage {
    chrome: Option<Chrome>,
    national: bool,
    action: String,
    account: String,
    uai: String,
    /// The field the error is about (`compte`, `uai`) and the message.
    error: Option<(&'static str, String)>,
    /// The account whose history this is: login and name.
    history_of: Option<(String, String)>,
    rows: Vec<Row>,
    newer: Option<String>,
    older: Option<String>,
}

impl JournalPage {
    fn error_on(&self, field: &str) -> Option<&str> {
        match &self.error {
            Some((f, message)) if *f == field => Some(message),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    compte: String,
    #[serde(default)]
    uai: String,
    #[serde(default)]
    avant: String,
}

fn outcome(value: &str) -> (&'static str, &'static str) {
    match value {
        "ok" => ("fr-badge--success", "réussi"),
        "failed" => ("fr-badge--warning", "échec"),
        "refused" => ("fr-badge--error", "refusé"),
        _ => ("fr-badge--info", "autre"),
    }
}

/// `action` with these filters in its query.
fn link(action: &str, filters: &[(&str, &str)]) -> String {
    let query: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() {
        action.to_owned()
    } else {
        format!("{action}?{}", query.join("&"))
    }
}

fn rows(page: TrailPage, action: &str, uai: &str) -> (Vec<Row>, Option<(String, String)>) {
    let rows = page
        .entries
        .into_iter()
        .map(|entry| Row {
            when: french_time(entry.event.at),
            history: entry
                .account_login
                .as_deref()
                .map(|login| link(action, &[("compte", login), ("uai", uai)])),
            who: entry.who,
            what: entry.what,
            whom: entry.whom,
            uai: entry.event.uai,
            address: entry.event.address,
            outcome: outcome(&entry.event.outcome),
        })
        .collect();
    (rows, page.account)
}

fn request(filter: &Filter) -> TrailRequest {
    let account = Some(filter.compte.trim().to_owned()).filter(|a| !a.is_empty());
    TrailRequest {
        account,
        uai: None,
        before: JournalCursor::parse(filter.avant.trim()),
        limit: audit::PAGE,
    }
}

/// The page for `result`: the events, or the filter's error.
fn render(
    chrome: Chrome,
    national: bool,
    action: String,
    filter: &Filter,
    result: Result<TrailPage, (&'static str, String)>,
) -> Response {
    let account = filter.compte.trim().to_owned();
    let uai = filter.uai.trim().to_owned();
    let (status, rows, history_of, older, error) = match result {
        Ok(page) => {
            let older = page.next.as_ref().map(|next| {
                let next = next.as_param();
                link(
                    &action,
                    &[("compte", &account), ("uai", &uai), ("avant", &next)],
                )
            });
            let (rows, history_of) = rows(page, &action, &uai);
            (StatusCode::OK, rows, history_of, older, None)
        }
        Err(error) => (StatusCode::NOT_FOUND, Vec::new(), None, None, Some(error)),
    };
    let newer = (!filter.avant.trim().is_empty())
        .then(|| link(&action, &[("compte", &account), ("uai", &uai)]));
    let page = JournalPage {
        chrome: Some(chrome),
        national,
        action,
        account,
        uai,
        error,
        history_of,
        rows,
        newer,
        older,
    };
    private(pages::render_with_script(status, &page))
}

/// An unknown account is said on the filter's field; any other refusal is the usual answer.
fn filter_error(error: OperationError) -> Result<(&'static str, String), OperationError> {
    match error {
        OperationError::UnknownAccount(login) => Ok((
            "compte",
            format!("Aucun compte d'identifiant {login} parmi les élèves et représentants légaux de l'établissement."),
        )),
        other => Err(other),
    }
}

pub async fn establishment(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Query(filter): Query<Filter>,
) -> Response {
    let Ok(uai) = Uai::parse(&code) else {
        return private(pages::error_page(
            StatusCode::NOT_FOUND,
            "Cette page n'existe pas.",
        ));
    };
    let action = format!("/gestion/etablissements/{uai}/journal");
    let suite = link(&action, &[("compte", filter.compte.trim())]);
    let now = app.now_ms();
    let found = audit::trail(&signed.actor, &journal(&app), &uai, &request(&filter), now).await;
    let result = match found {
        Ok(page) => Ok(page),
        Err(error) => match filter_error(error) {
            Ok(shown) => Err(shown),
            Err(error) => return refusal(error, &suite),
        },
    };
    let name = match establishment_name(&app, &uai).await {
        Ok(name) => name,
        Err(error) => return internal(error),
    };
    let chrome = Chrome::of(&signed, &uai, &name, Section::Journal);
    // The establishment's page filters by account only.
    let filter = Filter {
        uai: String::new(),
        ..filter
    };
    render(chrome, false, action, &filter, result)
}

pub async fn national(
    State(app): State<AppState>,
    signed: Signed,
    Query(filter): Query<Filter>,
) -> Response {
    let action = "/gestion/journal".to_owned();
    let mut request = request(&filter);
    let uai = filter.uai.trim();
    let mut result = Ok(());
    if !uai.is_empty() {
        match Uai::parse(uai) {
            Ok(uai) => request.uai = Some(uai),
            Err(why) => result = Err(("uai", format!("UAI invalide : {why}."))),
        }
    }
    let suite = link(&action, &[("compte", filter.compte.trim()), ("uai", uai)]);
    let now = app.now_ms();
    let found = audit::national_trail(&signed.actor, &journal(&app), &request, now).await;
    let result = match (found, result) {
        (Err(error), _) => match filter_error(error) {
            Ok(shown) => Err(shown),
            Err(error) => return refusal(error, &suite),
        },
        (Ok(_), Err(shown)) => Err(shown),
        (Ok(page), Ok(())) => Ok(page),
    };
    let chrome = Chrome::new(&signed, Section::Journal);
    render(chrome, true, action, &filter, result)
}
