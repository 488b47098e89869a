//! Staff, delegations and the journal through the administration API: the same domain
//! functions as the back-office's pages (`staff::delegations`, `staff::directory`,
//! `establishments::audit`), under the same `Actor` rules. A new staff member's initial
//! password is in the answer that creates them, once.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::errors::body_rejection;
use super::{found, uai, AdminError};
use crate::app::{App, AppState};
use crate::establishments::audit::{self, Journal, TrailPage, TrailRequest};
use crate::establishments::Actor;
use crate::http::error::no_store;
use crate::siecle::ids::academy_named;
use crate::staff::delegations::{self, Designation, Designee};
use crate::staff::directory::{self, Directory, NewStaff};
use crate::staff::{Role, RoleKind, RoleScope, Staff};
use crate::store::JournalCursor;

fn directory(app: &App) -> Directory<'_> {
    Directory {
        staff: &*app.durable,
        audit: &*app.durable,
        passwords: &app.passwords,
    }
}

fn journal(app: &App) -> Journal<'_> {
    let store = &*app.durable;
    Journal {
        events: store,
        audit: store,
        accounts: store,
        staff: store,
        directory: store,
    }
}

fn staff_json(staff: &Staff) -> Value {
    json!({
        "id": staff.id,
        "login": staff.login,
        "given_name": staff.given_name,
        "family_name": staff.family_name,
        "email": staff.email,
        "state": staff.state.as_str(),
        "second_factor_enrolled": staff.totp_enrolled_at.is_some(),
    })
}

fn role_json(role: &Role, now_ms: i64) -> Value {
    let (uai, academy) = match &role.scope {
        RoleScope::Establishment(uai) => (Some(uai.as_str().to_owned()), None),
        RoleScope::Academy(academy) => (None, Some(*academy)),
        RoleScope::National => (None, None),
    };
    json!({
        "id": role.id,
        "role": role.kind.as_str(),
        "uai": uai,
        "academy": academy,
        "pupils": role.pupils,
        "guardians": role.guardians,
        "ends_at": role.ends_at,
        "granted_by": role.granted_by,
        "granted_at": role.granted_at,
        "live": role.live(now_ms),
    })
}

fn created(body: Value) -> Response {
    (StatusCode::CREATED, no_store(), Json(body)).into_response()
}

/// `GET /admin/establishments/{uai}/staff`: the staff and their roles never revoked.
pub(super) async fn establishment_staff(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let now = app.now_ms();
    let listed = delegations::delegations(&actor, &directory(&app), &uai, now).await?;
    let staff: Vec<Value> = listed
        .iter()
        .map(|(role, staff)| json!({ "staff": staff_json(staff), "role": role_json(role, now) }))
        .collect();
    Ok(found(json!({ "staff": staff })))
}

/// When a delegation ends: epoch milliseconds, or a day (`2026-07-04`, ending as it begins,
/// UTC), as the page's date field.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum EndsAt {
    Millis(i64),
    Day(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DelegationBody {
    login: String,
    /// All three for a new staff member; none for one already in the directory.
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    #[serde(default)]
    pupils: bool,
    #[serde(default)]
    guardians: bool,
    ends_at: Option<EndsAt>,
}

/// `POST /admin/establishments/{uai}/delegations`.
pub(super) async fn designate(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    body: Result<Json<DelegationBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let designee = match (body.given_name, body.family_name, body.email) {
        (None, None, None) => Designee::Existing(body.login),
        (Some(given_name), Some(family_name), Some(email)) => Designee::New(NewStaff {
            login: body.login,
            given_name,
            family_name,
            email,
        }),
        _ => {
            return Err(AdminError::invalid_request(
                "given_name, family_name et email : les trois pour un nouveau personnel, aucun pour un personnel inscrit",
            ))
        }
    };
    let ends_at = match body.ends_at {
        None => None,
        Some(EndsAt::Millis(ms)) => Some(ms),
        Some(EndsAt::Day(day)) => match delegations::parse_day(&day) {
            Some(day) => Some(delegations::day_start_ms(day)),
            None => {
                return Err(AdminError::invalid_request(format!(
                    "ends_at « {day} » : une date AAAA-MM-JJ ou des millisecondes attendues"
                )))
            }
        },
    };
    let designation = Designation {
        designee,
        pupils: body.pupils,
        guardians: body.guardians,
        ends_at,
    };
    let now = app.now_ms();
    let done = delegations::designate(&actor, &directory(&app), &uai, &designation, now).await?;
    Ok(created(json!({
        "staff": staff_json(&done.staff),
        "role": role_json(&done.role, now),
        "initial_password": done.initial_password.as_ref().map(|p| p.expose()),
    })))
}

/// `DELETE /admin/roles/{id}`.
pub(super) async fn revoke(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    directory::revoke_role(&actor, &directory(&app), &id, app.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StaffBody {
    login: String,
    given_name: String,
    family_name: String,
    email: String,
    /// `head`, `deputy` (with `uai`), `assistance` (with `academy`) or `operator`.
    role: String,
    uai: Option<String>,
    academy: Option<String>,
}

/// `POST /admin/staff`: a staff member with a first role; the answer holds the initial
/// password, once.
pub(super) async fn create_staff(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Result<Json<StaffBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let Json(body) = body.map_err(body_rejection)?;
    let kind = RoleKind::parse(&body.role).ok_or_else(|| {
        AdminError::invalid_request(format!(
            "role « {} » inconnu : head, deputy, assistance ou operator",
            body.role
        ))
    })?;
    let uai = body.uai.as_deref().map(uai).transpose()?;
    let academy =
        match body.academy.as_deref() {
            None => None,
            Some(name) => Some(academy_named(name).ok_or_else(|| {
                AdminError::invalid_request(format!("académie « {name} » inconnue"))
            })?),
        };
    let request = delegations::staff_role(kind, uai, academy)?;
    let new = NewStaff {
        login: body.login,
        given_name: body.given_name,
        family_name: body.family_name,
        email: body.email,
    };
    let now = app.now_ms();
    let dir = directory(&app);
    let (staff, password) = directory::add_staff(&actor, &dir, &new, &request, now).await?;
    let roles = app.durable.roles_of(&staff.id).await?;
    let roles: Vec<Value> = roles.iter().map(|r| role_json(r, now)).collect();
    Ok(created(json!({
        "staff": staff_json(&staff),
        "roles": roles,
        "initial_password": password.expose(),
    })))
}

#[derive(Deserialize)]
pub(super) struct AuditParams {
    before: Option<String>,
    #[serde(default)]
    limit: i64,
    /// An account's login: its history.
    account: Option<String>,
    /// The national journal: one establishment's events.
    uai: Option<String>,
}

fn trail_request(params: &AuditParams) -> Result<TrailRequest, AdminError> {
    let before = match params.before.as_deref() {
        None | Some("") => None,
        Some(value) => Some(JournalCursor::parse(value).ok_or_else(|| {
            AdminError::invalid_request(format!(
                "before « {value} » : le curseur next d'une page précédente, ou des millisecondes"
            ))
        })?),
    };
    if !(0..=audit::MAX_PAGE).contains(&params.limit) {
        return Err(AdminError::invalid_request(format!(
            "limit : de 1 à {} événements",
            audit::MAX_PAGE
        )));
    }
    Ok(TrailRequest {
        account: params.account.clone().filter(|a| !a.trim().is_empty()),
        uai: None,
        before,
        limit: params.limit,
    })
}

fn trail_json(page: TrailPage) -> Value {
    let events: Vec<Value> = page
        .entries
        .into_iter()
        .map(|entry| {
            let e = entry.event;
            json!({
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "actor_name": entry.who,
                "action": e.action,
                "action_label": entry.what,
                "subject": e.subject,
                "subject_name": entry.whom,
                "uai": e.uai,
                "address": e.address,
                "outcome": e.outcome,
                "detail": e.detail,
            })
        })
        .collect();
    json!({
        "events": events,
        "next": page.next.map(|cursor| cursor.as_param()),
    })
}

/// `GET /admin/establishments/{uai}/audit?before=&limit=&account=`.
pub(super) async fn establishment_audit(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    Query(params): Query<AuditParams>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let request = trail_request(&params)?;
    let page = audit::trail(&actor, &journal(&app), &uai, &request, app.now_ms()).await?;
    Ok(found(trail_json(page)))
}

/// `GET /admin/audit?before=&limit=&account=&uai=`.
pub(super) async fn national_audit(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(params): Query<AuditParams>,
) -> Result<Response, AdminError> {
    let mut request = trail_request(&params)?;
    request.uai = params.uai.as_deref().map(uai).transpose()?;
    let page = audit::national_trail(&actor, &journal(&app), &request, app.now_ms()).await?;
    Ok(found(trail_json(page)))
}
