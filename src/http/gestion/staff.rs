//! The operators' staff page, `/gestion/personnels`: every staff member with their roles and
//! whether the second factor is enrolled; a form to create a head, deputy, assistance agent or
//! operator (the initial password shown once on the page that answers), one to give an
//! existing staff member a role, and "Retirer" on each role. The rights are
//! `staff::delegations`' and `staff::directory`'s to check (`Right::Staff` nationally, second
//! factor).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::delegations::{capitalized, directory, CreatedPage, Done};
use super::signed::{private, refusal};
use super::Signed;
use super::{Chrome, Section};
use crate::app::AppState;
use crate::establishments::OperationError;
use crate::http::pages;
use crate::siecle::ids::{academies, academy_named};
use crate::siecle::Uai;
use crate::staff::delegations::{self as staffing, staff_role};
use crate::staff::directory::{self as staff_directory, NewStaff, RoleRequest};
use crate::staff::{Role, RoleKind, RoleScope, Staff, StaffState};

const PATH: &str = "/gestion/personnels";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page).post(create))
        .route("/gestion/personnels/roles", post(grant))
        .route("/gestion/personnels/roles/retirer", post(revoke))
}

/// The kinds of role an operator gives here, as the select offers them.
const KINDS: [RoleKind; 4] = [
    RoleKind::Head,
    RoleKind::Deputy,
    RoleKind::Assistance,
    RoleKind::Operator,
];

/// A role form's values and errors.
#[derive(Default)]
pub struct Fields {
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub kind: String,
    pub uai: String,
    pub academy: String,
    pub errors: Vec<(&'static str, String)>,
}

impl Fields {
    pub fn value(&self, field: &str) -> &str {
        match field {
            "login" => &self.login,
            "given_name" => &self.given_name,
            "family_name" => &self.family_name,
            "email" => &self.email,
            _ => "",
        }
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, message)| message.as_str())
    }
}

pub struct ShownRole {
    pub id: String,
    pub label: String,
    pub live: bool,
}

pub struct Row {
    pub name: String,
    pub login: String,
    pub email: String,
    pub enrolled: bool,
    pub active: bool,
    pub roles: Vec<ShownRole>,
}

#[derive(Template)]
#[template(path = "backoffice/staff.html")]
struct StaffPage {
    chrome: Option<Chrome>,
    csrf: String,
    done: Option<&'static str>,
    alert: Option<String>,
    rows: Vec<Row>,
    kinds: Vec<(&'static str, &'static str)>,
    academies: Vec<&'static str>,
    create: Fields,
    give: Fields,
    limit: i64,
}

impl StaffPage {
    fn invalid(&self) -> bool {
        self.alert.is_some() || !self.create.errors.is_empty() || !self.give.errors.is_empty()
    }
}

fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "role" => {
            Some("Le rôle est attribué : il vaut dès la prochaine page que ce personnel ouvre.")
        }
        "retrait" => {
            Some("Le rôle est retiré : ce personnel en perd les droits dès sa prochaine page.")
        }
        _ => None,
    }
}

fn scope_label(role: &Role) -> String {
    let scope = match &role.scope {
        RoleScope::Establishment(uai) => format!("UAI {uai}"),
        RoleScope::Academy(academy) => format!("académie de {academy}"),
        RoleScope::National => "national".to_owned(),
    };
    let mut label = format!("{} — {scope}", role.kind.label());
    if role.kind == RoleKind::Delegate {
        let rights: Vec<&str> = [(role.pupils, "élèves"), (role.guardians, "représentants")]
            .into_iter()
            .filter_map(|(held, name)| held.then_some(name))
            .collect();
        label.push_str(&format!(" ({})", rights.join(", ")));
    }
    label
}

fn rows(listed: Vec<(Staff, Vec<Role>)>, now_ms: i64) -> Vec<Row> {
    listed
        .into_iter()
        .map(|(staff, roles)| Row {
            name: staff.display_name(),
            login: staff.login.clone(),
            email: staff.email.clone(),
            enrolled: staff.totp_enrolled_at.is_some(),
            active: staff.state == StaffState::Active,
            roles: roles
                .iter()
                .map(|role| ShownRole {
                    id: role.id.clone(),
                    label: scope_label(role),
                    live: role.live(now_ms),
                })
                .collect(),
        })
        .collect()
}

async fn show(
    app: &AppState,
    signed: &Signed,
    status: StatusCode,
    done: Option<&'static str>,
    (create, give, alert): (Fields, Fields, Option<String>),
) -> Response {
    let now = app.now_ms();
    let listed = match staffing::staff_overview(&signed.actor, &directory(app), now).await {
        Ok(listed) => listed,
        Err(error) => return refusal(error, PATH),
    };
    let page = StaffPage {
        chrome: Some(Chrome::new(signed, Section::Staff)),
        csrf: signed.csrf(),
        done,
        alert,
        rows: rows(listed, now),
        kinds: KINDS.iter().map(|k| (k.as_str(), k.label())).collect(),
        academies: academies().collect(),
        create,
        give,
        limit: staffing::STAFF_LIST,
    };
    private(pages::render_with_script(status, &page))
}

pub async fn page(State(app): State<AppState>, signed: Signed, Query(q): Query<Done>) -> Response {
    let done = done_message(&q.fait);
    let forms = (Fields::default(), Fields::default(), None);
    show(&app, &signed, StatusCode::OK, done, forms).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    uai: String,
    #[serde(default)]
    academy: String,
}

impl RoleForm {
    fn fields(&self) -> Fields {
        Fields {
            login: self.login.trim().to_owned(),
            given_name: self.given_name.trim().to_owned(),
            family_name: self.family_name.trim().to_owned(),
            email: self.email.trim().to_owned(),
            kind: self.role.clone(),
            uai: self.uai.trim().to_owned(),
            academy: self.academy.clone(),
            errors: Vec::new(),
        }
    }
}

/// The role the form asks for, or the fields with what is wrong with them.
fn role_request(form: &RoleForm, creating: bool) -> Result<RoleRequest, Box<Fields>> {
    let mut fields = form.fields();
    let mut required = vec![("login", fields.login.is_empty(), "Saisissez l'identifiant.")];
    if creating {
        required.extend([
            (
                "given_name",
                fields.given_name.is_empty(),
                "Saisissez le prénom.",
            ),
            (
                "family_name",
                fields.family_name.is_empty(),
                "Saisissez le nom.",
            ),
            (
                "email",
                fields.email.is_empty(),
                "Saisissez l'adresse électronique.",
            ),
        ]);
    }
    for (field, missing, message) in required {
        if missing {
            fields.errors.push((field, message.to_owned()));
        }
    }
    let kind = RoleKind::parse(&form.role).filter(|k| KINDS.contains(k));
    let Some(kind) = kind else {
        fields
            .errors
            .push(("role", "Choisissez un rôle.".to_owned()));
        return Err(Box::new(fields));
    };
    let uai = match (kind, fields.uai.as_str()) {
        (RoleKind::Head | RoleKind::Deputy, "") => {
            let message = "Saisissez l'UAI de l'établissement.";
            fields.errors.push(("uai", message.to_owned()));
            None
        }
        (RoleKind::Head | RoleKind::Deputy, code) => match Uai::parse(&code.to_uppercase()) {
            Ok(uai) => Some(uai),
            Err(why) => {
                fields
                    .errors
                    .push(("uai", format!("UAI invalide : {why}.")));
                None
            }
        },
        _ => None,
    };
    let academy = match kind {
        RoleKind::Assistance => {
            let found = academy_named(&fields.academy);
            if found.is_none() {
                let message = "Choisissez l'académie de l'agent d'assistance.";
                fields.errors.push(("academy", message.to_owned()));
            }
            found
        }
        _ => None,
    };
    if !fields.errors.is_empty() {
        return Err(Box::new(fields));
    }
    staff_role(kind, uai, academy).map_err(|error| {
        fields
            .errors
            .push(("role", capitalized(&error.to_string())));
        Box::new(fields)
    })
}

/// The refusals a form shows on its fields; any other is the usual answer.
fn form_error(
    error: OperationError,
    mut fields: Fields,
) -> Result<(StatusCode, Fields), OperationError> {
    let login = fields.login.clone();
    match error {
        OperationError::StaffLoginTaken(_) => {
            let message = format!("L'identifiant {login} est déjà pris : choisissez-en un autre, ou attribuez-lui un rôle avec le second formulaire.");
            fields.errors.push(("login", message));
            Ok((StatusCode::CONFLICT, fields))
        }
        OperationError::UnknownStaff(_) => {
            fields
                .errors
                .push(("login", format!("Aucun personnel d'identifiant {login}.")));
            Ok((StatusCode::NOT_FOUND, fields))
        }
        OperationError::InvalidStaff(message) => {
            fields.errors.push(("form", capitalized(&message)));
            Ok((StatusCode::BAD_REQUEST, fields))
        }
        other => Err(other),
    }
}

pub async fn create(
    State(app): State<AppState>,
    signed: Signed,
    Form(form): Form<RoleForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let request = match role_request(&form, true) {
        Ok(request) => request,
        Err(fields) => {
            let forms = (*fields, Fields::default(), None);
            return show(&app, &signed, StatusCode::BAD_REQUEST, None, forms).await;
        }
    };
    let new = NewStaff {
        login: form.login.clone(),
        given_name: form.given_name.clone(),
        family_name: form.family_name.clone(),
        email: form.email.clone(),
    };
    let now = app.now_ms();
    let dir = directory(&app);
    match staff_directory::add_staff(&signed.actor, &dir, &new, &request, now).await {
        Ok((staff, password)) => {
            let role = match &request.scope {
                RoleScope::Establishment(uai) => {
                    format!("{} (UAI {uai})", request.kind.label().to_lowercase())
                }
                RoleScope::Academy(academy) => format!(
                    "{} (académie de {academy})",
                    request.kind.label().to_lowercase()
                ),
                RoleScope::National => request.kind.label().to_lowercase(),
            };
            let page = CreatedPage {
                chrome: Some(Chrome::new(&signed, Section::Staff)),
                name: staff.display_name(),
                login: staff.login.clone(),
                role,
                password: password.expose().to_owned(),
                back: PATH.to_owned(),
                back_label: "Retour aux personnels",
            };
            private(pages::render_with_script(StatusCode::OK, &page))
        }
        Err(error) => match form_error(error, form.fields()) {
            Ok((status, fields)) => {
                show(
                    &app,
                    &signed,
                    status,
                    None,
                    (fields, Fields::default(), None),
                )
                .await
            }
            Err(error) => refusal(error, PATH),
        },
    }
}

pub async fn grant(
    State(app): State<AppState>,
    signed: Signed,
    Form(form): Form<RoleForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let request = match role_request(&form, false) {
        Ok(request) => request,
        Err(fields) => {
            let forms = (Fields::default(), *fields, None);
            return show(&app, &signed, StatusCode::BAD_REQUEST, None, forms).await;
        }
    };
    let now = app.now_ms();
    let dir = directory(&app);
    match staff_directory::grant_role(&signed.actor, &dir, &form.login, &request, now).await {
        Ok(_) => Redirect::to(&format!("{PATH}?fait=role")).into_response(),
        Err(error) => match form_error(error, form.fields()) {
            Ok((status, fields)) => {
                show(
                    &app,
                    &signed,
                    status,
                    None,
                    (Fields::default(), fields, None),
                )
                .await
            }
            Err(error) => refusal(error, PATH),
        },
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

pub async fn revoke(
    State(app): State<AppState>,
    signed: Signed,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let now = app.now_ms();
    let dir = directory(&app);
    match staff_directory::revoke_role(&signed.actor, &dir, &form.role, now).await {
        Ok(()) => Redirect::to(&format!("{PATH}?fait=retrait")).into_response(),
        Err(error) => refusal(error, PATH),
    }
}
