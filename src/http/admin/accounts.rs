//! The establishment's accounts through the administration API, under the same `Actor` rules
//! as the back-office's pages: the dashboard, the account list (the same filters, sort and
//! pages, `?name=&class=&profile=pupils|guardians&state=&email=true|false&sort=&order=desc&page=`),
//! one account, and its state, contact details and throttle.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::errors::body_rejection;
use super::{found, uai, AdminError};
use crate::accounts::{Account, AccountState};
use crate::app::AppState;
use crate::establishments::{
    self, AccountQuery, Actor, Candidates, Desk, Files, ProfileFilter, Sort, StateFilter, Switch,
};

fn desk(app: &AppState) -> Desk<'_> {
    Desk {
        directory: &*app.durable,
        accounts: &*app.durable,
        roster: &*app.durable,
        links: &*app.durable,
        audit: &*app.durable,
        sessions: app,
        ephemeral: &*app.ephemeral,
        throttle: &app.config.throttle,
    }
}

fn account_json(account: &Account) -> Value {
    json!({
        "id": account.id,
        "login": account.login,
        "profile": account.profile.as_str(),
        "given_name": account.given_name,
        "family_name": account.family_name,
        "state": account.state.as_str(),
        "created_at": account.created_at,
        "verified_email": account.verified_email,
        "siecle_email": account.email,
        "siecle_phone": account.phone,
    })
}

/// `GET /admin/establishments/{uai}/dashboard`.
pub(super) async fn dashboard(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let store = &*app.durable;
    let shown = establishments::dashboard(&actor, store, store, store, &uai).await?;
    let candidates = match &shown.candidates {
        Candidates::Listed(listed) => json!(listed),
        Candidates::SecondFactor | Candidates::NotHeld => Value::Null,
    };
    Ok(found(json!({
        "establishment": shown.establishment,
        "last_import": shown.last_import,
        "pupils": shown.pupils,
        "guardians": shown.guardians,
        "classes": shown.classes.iter().map(|c| json!({
            "class": c.class, "pupils": c.pupils, "active": c.active,
        })).collect::<Vec<_>>(),
        "notices": shown.notices,
        "candidates": candidates,
    })))
}

#[derive(Deserialize)]
pub(super) struct ListParams {
    name: Option<String>,
    class: Option<String>,
    profile: Option<String>,
    state: Option<String>,
    email: Option<bool>,
    sort: Option<String>,
    order: Option<String>,
    page: Option<usize>,
}

fn query(params: &ListParams) -> Result<AccountQuery, AdminError> {
    let profile = match params.profile.as_deref() {
        None => None,
        Some("pupils") => Some(ProfileFilter::Pupils),
        Some("guardians") => Some(ProfileFilter::Guardians),
        Some(other) => {
            return Err(AdminError::invalid_request(format!(
                "profile « {other} » inconnu : pupils ou guardians"
            )))
        }
    };
    let state = match params.state.as_deref() {
        None => StateFilter::Any,
        Some("not_notified") => StateFilter::NotNotified,
        Some("not_activated") => StateFilter::NotActivated,
        Some(other) => StateFilter::Is(AccountState::parse(other).ok_or_else(|| {
            AdminError::invalid_request(format!(
                "state « {other} » inconnu : created, notified, active, disabled, \
                 not_notified ou not_activated"
            ))
        })?),
    };
    let sort = match params.sort.as_deref() {
        None | Some("name") => Sort::Name,
        Some("class") => Sort::Class,
        Some("profile") => Sort::Profile,
        Some("state") => Sort::State,
        Some("last_notified") => Sort::LastNotified,
        Some(other) => {
            return Err(AdminError::invalid_request(format!(
                "sort « {other} » inconnu : name, class, profile, state ou last_notified"
            )))
        }
    };
    Ok(AccountQuery {
        name: params.name.clone(),
        class: params.class.clone(),
        profile,
        state,
        email: params.email,
        sort,
        descending: params.order.as_deref() == Some("desc"),
        page: params.page.unwrap_or(1),
    })
}

/// `GET /admin/establishments/{uai}/accounts`.
pub(super) async fn list(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Query(params) =
        params.map_err(|e| AdminError::invalid_request(format!("paramètres invalides : {e}")))?;
    let store = &*app.durable;
    let listed = establishments::accounts(&actor, store, store, &uai, &query(&params)?).await?;
    let rows: Vec<Value> = listed
        .rows
        .iter()
        .map(|r| {
            let mut row = account_json(&r.account);
            row["classes"] = json!(r.classes);
            row["last_notified_at"] = json!(r.last_notified);
            row["email"] = json!(r.email);
            row
        })
        .collect();
    Ok(found(json!({
        "accounts": rows,
        "total": listed.total,
        "page": listed.page,
        "pages": listed.pages,
        "page_size": establishments::PAGE_SIZE,
        "classes": listed.classes,
    })))
}

/// `GET /admin/establishments/{uai}/accounts/{id}`.
pub(super) async fn account(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let files = Files {
        directory: &*app.durable,
        accounts: &*app.durable,
        roster: &*app.durable,
        outbox: &*app.durable,
        audit: &*app.durable,
        ephemeral: &*app.ephemeral,
        throttle: &app.config.throttle,
    };
    let file = establishments::account_file(&actor, &files, &uai, &id, app.now_ms()).await?;
    let mut body = account_json(&file.account);
    body["ine"] = json!(file.ine);
    body["class"] = json!(file.class);
    body["establishments"] = json!(file.establishments);
    body["last_login_at"] = json!(file.last_login);
    body["throttled"] = json!(file.throttled);
    body["relatives"] = json!(file
        .relatives
        .iter()
        .map(|r| json!({
            "account_id": r.account_id, "given_name": r.given_name,
            "family_name": r.family_name, "profile": r.profile.as_str(),
            "uai": r.uai, "class": r.class, "legal": r.legal,
        }))
        .collect::<Vec<_>>());
    body["notifications"] = json!(file
        .notifications
        .iter()
        .map(|n| json!({
            "id": n.id, "actor": n.actor, "carrier": n.carrier.as_str(),
            "reset": n.reset, "created_at": n.created_at,
        }))
        .collect::<Vec<_>>());
    body["messages"] = json!(file.messages);
    body["events"] = json!(file.events.as_ref().map(|events| events
        .iter()
        .map(|e| json!({
            "at": e.at, "actor": e.actor, "action": e.action, "outcome": e.outcome,
            "uai": e.uai, "detail": e.detail,
        }))
        .collect::<Vec<_>>()));
    Ok(found(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StateBody {
    /// `disabled` or `active`.
    state: String,
}

/// `POST /admin/establishments/{uai}/accounts/{id}/state`: `{"state": "disabled"|"active"}`.
pub(super) async fn set_state(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((code, id)): Path<(String, String)>,
    body: Result<Json<StateBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let switch = match body.state.as_str() {
        "disabled" => Switch::Disable,
        "active" => Switch::Enable,
        other => {
            return Err(AdminError::invalid_request(format!(
                "state « {other} » : disabled ou active"
            )))
        }
    };
    let state =
        establishments::switch(&actor, &desk(&app), &uai, &id, switch, app.now_ms()).await?;
    Ok(found(json!({ "id": id, "state": state.as_str() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ContactBody {
    /// Empty or absent: none.
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

/// `POST /admin/establishments/{uai}/accounts/{id}/contact`: a guardian's Siècle e-mail and
/// mobile, corrected.
pub(super) async fn contact(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((code, id)): Path<(String, String)>,
    body: Result<Json<ContactBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let now = app.now_ms();
    establishments::correct_contact(
        &actor,
        &desk(&app),
        &uai,
        &id,
        &body.email,
        &body.phone,
        now,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /admin/establishments/{uai}/accounts/{id}/unblock`.
pub(super) async fn unblock(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    establishments::unblock(&actor, &desk(&app), &uai, &id, app.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
