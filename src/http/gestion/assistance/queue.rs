//! The queue of the assistance: the requests of the académie(s) the agent handles (every one
//! for an operator), newest first, filtered by status and académie.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::super::signed::{internal, private, refusal};
use super::super::{Chrome, Section, Signed};
use super::{desk, establishment_name, Choice, Row};
use crate::app::AppState;
use crate::assistance::{self, QueueFilter, Status};
use crate::establishments::{Right, Scope};
use crate::http::pages;
use crate::siecle::ids::{academies, academy_named};

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    statut: String,
    #[serde(default)]
    academie: String,
}

#[derive(Template)]
#[template(path = "backoffice/assistance_queue.html")]
struct QueuePage {
    chrome: Option<Chrome>,
    rows: Vec<Row>,
    statuses: Vec<Choice>,
    status: String,
    /// The académies to choose among, when there are several, and whether each is chosen.
    academies: Vec<(&'static str, bool)>,
    academy: String,
    /// Operators file on a guardian's behalf.
    may_file: bool,
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Query(query): Query<QueueQuery>,
) -> Response {
    let status = Status::parse(query.statut.trim());
    let academy = academy_named(query.academie.trim());
    let filter = QueueFilter { academy, status };
    let requests = match assistance::queue(&signed.actor, &desk(&app), &filter).await {
        Ok(requests) => requests,
        Err(error) => return refusal(error, "/gestion/assistance"),
    };
    let result = async {
        let mut names: HashMap<String, String> = HashMap::new();
        let mut rows = Vec::new();
        for request in &requests {
            if !names.contains_key(&request.uai) {
                let name = establishment_name(&app, &request.uai).await?;
                names.insert(request.uai.clone(), name);
            }
            rows.push(Row::of(request, &names[&request.uai]));
        }
        let actor = &signed.actor;
        let handled: Vec<&'static str> = if actor.holds_nationally(Right::Assist) {
            academies().collect()
        } else {
            actor
                .scopes(Right::Assist)
                .filter_map(|s| match s {
                    Scope::Academy(a) => Some(*a),
                    _ => None,
                })
                .collect()
        };
        let page = QueuePage {
            chrome: Some(Chrome::new(&signed, Section::Queue)),
            rows,
            statuses: Status::ALL
                .into_iter()
                .map(|s| Choice {
                    value: s.as_str(),
                    label: s.label(),
                })
                .collect(),
            status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            academies: if handled.len() > 1 {
                handled.iter().map(|a| (*a, Some(*a) == academy)).collect()
            } else {
                Vec::new()
            },
            academy: academy.unwrap_or_default().to_owned(),
            may_file: actor.holds_nationally(Right::FileRequest),
        };
        Ok::<_, anyhow::Error>(private(pages::render_with_script(StatusCode::OK, &page)))
    }
    .await;
    result.unwrap_or_else(internal)
}
