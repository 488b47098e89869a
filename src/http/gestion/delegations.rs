//! The head's delegations page, `/gestion/etablissements/{uai}/delegations`: the
//! establishment's staff and their roles, a form to designate a delegate already in the
//! directory, one to create a new staff member with their delegation (the initial password is
//! shown once, on the page that answers), and "Retirer" on each delegation. The rights are
//! `staff::delegations`' to check (`Right::Delegate`, second factor).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::home::french_date;
use super::signed::{internal, private, refusal};
use super::Signed;
use super::{Chrome, Section};
use crate::app::{App, AppState};
use crate::establishments::OperationError;
use crate::http::pages;
use crate::siecle::Uai;
use crate::staff::delegations::{self, Designated, Designation, Designee};
use crate::staff::directory::{Directory, NewStaff};
use crate::staff::{Role, RoleKind, Staff};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/gestion/etablissements/{uai}/delegations",
            get(page).post(designate),
        )
        .route(
            "/gestion/etablissements/{uai}/delegations/retirer",
            post(revoke),
        )
}

/// The directory functions' stores.
pub(super) fn directory(app: &App) -> Directory<'_> {
    Directory {
        staff: &*app.durable,
        audit: &*app.durable,
        passwords: &app.passwords,
    }
}

/// The establishment's name as the directory holds it (the layout's header).
pub(super) async fn establishment_name(app: &App, uai: &Uai) -> anyhow::Result<String> {
    Ok(app
        .durable
        .establishment(uai.as_str())
        .await?
        .and_then(|e| e.name)
        .unwrap_or_else(|| "Établissement".to_owned()))
}

/// A field's value and its error, as a form shows them again.
#[derive(Default)]
pub struct Fields {
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub pupils: bool,
    pub guardians: bool,
    pub ends_on: String,
    pub errors: Vec<(&'static str, String)>,
}

impl Fields {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn invalid(&self) -> bool {
        !self.errors.is_empty()
    }
}

pub struct Row {
    pub role_id: String,
    pub name: String,
    pub login: String,
    pub role: &'static str,
    pub rights: &'static str,
    pub ends: Option<String>,
    pub live: bool,
    pub enrolled: bool,
    pub delegation: bool,
}

#[derive(Template)]
#[template(path = "backoffice/delegations.html")]
struct DelegationsPage {
    chrome: Option<Chrome>,
    csrf: String,
    base: String,
    done: Option<&'static str>,
    rows: Vec<Row>,
    existing: Fields,
    newcomer: Fields,
    /// The two forms' error summary (a refusal the domain gave).
    alert: Option<String>,
}

impl DelegationsPage {
    fn invalid(&self) -> bool {
        self.existing.invalid() || self.newcomer.invalid() || self.alert.is_some()
    }
}

/// The page that shows a new staff member's initial password, once.
#[derive(Template)]
#[template(path = "backoffice/staff_created.html")]
pub(super) struct CreatedPage {
    pub chrome: Option<Chrome>,
    pub name: String,
    pub login: String,
    pub role: String,
    pub password: String,
    pub back: String,
    pub back_label: &'static str,
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    pub fait: String,
}

fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "delegation" => Some(
            "La délégation est accordée : le délégataire en dispose dès la prochaine page qu'il ouvre.",
        ),
        "retrait" => {
            Some("La délégation est retirée : le délégataire perd ces droits dès sa prochaine page.")
        }
        _ => None,
    }
}

fn rights(role: &Role) -> &'static str {
    match (role.kind, role.pupils, role.guardians) {
        (RoleKind::Head, _, _) => "tous, délégations et journal compris",
        (RoleKind::Deputy, _, _) => "tous, sauf les délégations et le journal",
        (RoleKind::Delegate, true, true) => "comptes élèves, comptes représentants légaux",
        (RoleKind::Delegate, true, false) => "comptes élèves",
        (RoleKind::Delegate, false, true) => "comptes représentants légaux",
        _ => "consultation",
    }
}

fn rows(staff: Vec<(Role, Staff)>, now_ms: i64) -> Vec<Row> {
    staff
        .into_iter()
        .map(|(role, staff)| Row {
            role_id: role.id.clone(),
            name: staff.display_name(),
            login: staff.login.clone(),
            role: role.kind.label(),
            rights: rights(&role),
            ends: role.ends_at.map(french_date),
            live: role.live(now_ms),
            enrolled: staff.totp_enrolled_at.is_some(),
            delegation: role.kind == RoleKind::Delegate,
        })
        .collect()
}

fn base(uai: &Uai) -> String {
    format!("/gestion/etablissements/{uai}/delegations")
}

fn not_found() -> Response {
    private(pages::error_page(
        StatusCode::NOT_FOUND,
        "Cette page n'existe pas.",
    ))
}

/// The page, with these forms' state: the staff list read again (the actor's right with it).
async fn show(
    app: &AppState,
    signed: &Signed,
    uai: &Uai,
    status: StatusCode,
    done: Option<&'static str>,
    (existing, newcomer, alert): (Fields, Fields, Option<String>),
) -> Response {
    let now = app.now_ms();
    let staff = match delegations::delegations(&signed.actor, &directory(app), uai, now).await {
        Ok(staff) => staff,
        Err(error) => return refusal(error, &base(uai)),
    };
    let name = match establishment_name(app, uai).await {
        Ok(name) => name,
        Err(error) => return internal(error),
    };
    let page = DelegationsPage {
        chrome: Some(Chrome::of(signed, uai, &name, Section::Delegations)),
        csrf: signed.csrf(),
        base: base(uai),
        done,
        rows: rows(staff, now),
        existing,
        newcomer,
        alert,
    };
    private(pages::render_with_script(status, &page))
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    let Ok(uai) = Uai::parse(&code) else {
        return not_found();
    };
    let done = done_message(&q.fait);
    let forms = (Fields::default(), Fields::default(), None);
    show(&app, &signed, &uai, StatusCode::OK, done, forms).await
}

#[derive(Deserialize)]
pub struct DesignateForm {
    #[serde(default)]
    csrf: String,
    /// `existant` or `nouveau`.
    #[serde(default)]
    qui: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    email: String,
    pupils: Option<String>,
    guardians: Option<String>,
    #[serde(default)]
    ends_on: String,
}

/// The form read into a `Designation`, or the fields with what is wrong with them.
fn designation(form: &DesignateForm, now_ms: i64) -> Result<Designation, Box<Fields>> {
    let mut fields = Fields {
        login: form.login.trim().to_owned(),
        given_name: form.given_name.trim().to_owned(),
        family_name: form.family_name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        pupils: form.pupils.is_some(),
        guardians: form.guardians.is_some(),
        ends_on: form.ends_on.trim().to_owned(),
        errors: Vec::new(),
    };
    let new = form.qui == "nouveau";
    let mut required = vec![("login", "Saisissez l'identifiant.")];
    if new {
        required.extend([
            ("given_name", "Saisissez le prénom."),
            ("family_name", "Saisissez le nom."),
            ("email", "Saisissez l'adresse électronique."),
        ]);
    }
    for (field, message) in required {
        let value = match field {
            "login" => &fields.login,
            "given_name" => &fields.given_name,
            "family_name" => &fields.family_name,
            _ => &fields.email,
        };
        if value.is_empty() {
            fields.errors.push((field, message.to_owned()));
        }
    }
    if !fields.pupils && !fields.guardians {
        fields.errors.push((
            "rights",
            "Cochez au moins un droit : comptes élèves ou comptes représentants légaux.".into(),
        ));
    }
    let ends_at = if fields.ends_on.is_empty() {
        None
    } else {
        match delegations::parse_day(&fields.ends_on) {
            None => {
                let message = "Date de fin invalide : choisissez un jour du calendrier.";
                fields.errors.push(("ends_on", message.into()));
                None
            }
            Some(day) if delegations::day_start_ms(day) <= now_ms => {
                let message = "La date de fin est à venir : choisissez un jour après aujourd'hui.";
                fields.errors.push(("ends_on", message.into()));
                None
            }
            Some(day) => Some(delegations::day_start_ms(day)),
        }
    };
    if fields.invalid() {
        return Err(Box::new(fields));
    }
    let designee = if new {
        Designee::New(NewStaff {
            login: fields.login.clone(),
            given_name: fields.given_name.clone(),
            family_name: fields.family_name.clone(),
            email: fields.email.clone(),
        })
    } else {
        Designee::Existing(fields.login.clone())
    };
    Ok(Designation {
        designee,
        pupils: fields.pupils,
        guardians: fields.guardians,
        ends_at,
    })
}

pub async fn designate(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Form(form): Form<DesignateForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let Ok(uai) = Uai::parse(&code) else {
        return not_found();
    };
    let now = app.now_ms();
    let new = form.qui == "nouveau";
    // Which form answers: the other one is shown empty.
    let forms = |fields: Fields, alert: Option<String>| {
        if new {
            (Fields::default(), fields, alert)
        } else {
            (fields, Fields::default(), alert)
        }
    };
    let designation = match designation(&form, now) {
        Ok(designation) => designation,
        Err(fields) => {
            let status = StatusCode::BAD_REQUEST;
            return show(&app, &signed, &uai, status, None, forms(*fields, None)).await;
        }
    };
    let dir = directory(&app);
    match delegations::designate(&signed.actor, &dir, &uai, &designation, now).await {
        Ok(Designated {
            staff,
            initial_password: Some(password),
            ..
        }) => created(&app, &signed, &uai, &staff, password.expose()).await,
        // PRG: the page says what was done.
        Ok(_) => Redirect::to(&format!("{}?fait=delegation", base(&uai))).into_response(),
        Err(error) => {
            let mut fields = designation_fields(&form);
            let (status, alert) = match error {
                OperationError::StaffLoginTaken(_) if new => {
                    let message = format!(
                        "L'identifiant {} est déjà pris : choisissez-en un autre, ou désignez ce personnel dans le formulaire « personnel déjà inscrit ».",
                        fields.login
                    );
                    fields.errors.push(("login", message));
                    (StatusCode::CONFLICT, None)
                }
                OperationError::UnknownStaff(_) if !new => {
                    let message = format!(
                        "Aucun personnel d'identifiant {} : vérifiez l'identifiant, ou inscrivez un nouveau personnel.",
                        fields.login
                    );
                    fields.errors.push(("login", message));
                    (StatusCode::NOT_FOUND, None)
                }
                OperationError::InvalidStaff(message) => {
                    (StatusCode::BAD_REQUEST, Some(capitalized(&message)))
                }
                other => return refusal(other, &base(&uai)),
            };
            show(&app, &signed, &uai, status, None, forms(fields, alert)).await
        }
    }
}

/// The form's values, shown again with a refusal.
fn designation_fields(form: &DesignateForm) -> Fields {
    Fields {
        login: form.login.trim().to_owned(),
        given_name: form.given_name.trim().to_owned(),
        family_name: form.family_name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        pupils: form.pupils.is_some(),
        guardians: form.guardians.is_some(),
        ends_on: form.ends_on.trim().to_owned(),
        errors: Vec::new(),
    }
}

pub(super) fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The answer to a new staff member's creation: their initial password, shown this once (a
/// redirect would have to carry it), never cached.
async fn created(
    app: &AppState,
    signed: &Signed,
    uai: &Uai,
    staff: &Staff,
    password: &str,
) -> Response {
    let name = match establishment_name(app, uai).await {
        Ok(name) => name,
        Err(error) => return internal(error),
    };
    let page = CreatedPage {
        chrome: Some(Chrome::of(signed, uai, &name, Section::Delegations)),
        name: staff.display_name(),
        login: staff.login.clone(),
        role: format!("délégataire de {name} ({uai})"),
        password: password.to_owned(),
        back: base(uai),
        back_label: "Retour aux délégations",
    };
    private(pages::render_with_script(StatusCode::OK, &page))
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
    Path(code): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let Ok(uai) = Uai::parse(&code) else {
        return not_found();
    };
    let dir = directory(&app);
    let now = app.now_ms();
    match delegations::revoke_delegation(&signed.actor, &dir, &uai, &form.role, now).await {
        Ok(()) => Redirect::to(&format!("{}?fait=retrait", base(&uai))).into_response(),
        Err(error) => refusal(error, &base(&uai)),
    }
}
