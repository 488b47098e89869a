//! Filing a request: the establishment's page (its requests, and the form for whoever may file
//! there) and the operators' form, which names the establishment and the guardian who called.
//! A request filed goes to its page (`?fait=deposee`); a refused one shows the form again with
//! what to correct.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::super::signed::{internal, private, refusal};
use super::super::{Chrome, Section, Signed};
use super::{categories, desk, establishment_name, Choice, Row};
use crate::app::AppState;
use crate::assistance::{self, AccountRef, Category, Field, Filing, OnBehalf};
use crate::establishments::{OperationError, Right};
use crate::http::pages;
use crate::siecle::Uai;

/// The filing form as typed (every field kept, to show it again).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FilingForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub uai: String,
    #[serde(default)]
    pub category: String,
    /// Logins, one per line.
    #[serde(default)]
    pub accounts: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub on_behalf_name: String,
    #[serde(default)]
    pub on_behalf_contact: String,
}

/// The form, as a page shows it.
pub struct FilingView {
    pub action: String,
    pub csrf: String,
    /// The operators' form names the establishment and the guardian.
    pub national: bool,
    pub values: FilingForm,
    pub categories: Vec<Choice>,
    pub error: Option<String>,
    /// The field the error is about: `uai`, `category`, `accounts`, `description`, `on_behalf`.
    pub error_on: &'static str,
}

impl FilingView {
    fn new(signed: &Signed, action: String, national: bool, values: FilingForm) -> FilingView {
        FilingView {
            action,
            csrf: signed.csrf(),
            national,
            values,
            categories: categories(),
            error: None,
            error_on: "",
        }
    }

    fn refused(mut self, field: Field, message: String) -> FilingView {
        self.error_on = match field {
            Field::Establishment => "uai",
            Field::Category => "category",
            Field::Accounts => "accounts",
            Field::OnBehalf => "on_behalf",
            Field::Description | Field::Comment | Field::Status => "description",
        };
        self.error = Some(capitalized(&message));
        self
    }
}

fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "backoffice/assistance_establishment.html")]
struct EstablishmentPage {
    chrome: Option<Chrome>,
    uai: String,
    academy: Option<&'static str>,
    rows: Vec<Row>,
    filing: Option<FilingView>,
}

#[derive(Template)]
#[template(path = "backoffice/assistance_new.html")]
struct NationalPage {
    chrome: Option<Chrome>,
    filing: Option<FilingView>,
}

/// What the form says, for `assistance::file`.
fn filing(uai: Uai, form: &FilingForm, national: bool) -> Filing {
    let on_behalf = national.then(|| OnBehalf {
        name: form.on_behalf_name.clone(),
        contact: form.on_behalf_contact.clone(),
    });
    Filing {
        uai,
        category: Category::parse(form.category.trim()),
        accounts: form
            .accounts
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| AccountRef::Login(l.to_owned()))
            .collect(),
        description: form.description.clone(),
        on_behalf: on_behalf.filter(|o| !(o.name.trim().is_empty() && o.contact.trim().is_empty())),
    }
}

fn not_found() -> Response {
    private(pages::error_page(
        StatusCode::NOT_FOUND,
        "Cet établissement n'existe pas.",
    ))
}

/// The establishment's page: its requests, and the form.
async fn establishment_view(
    app: &AppState,
    signed: &Signed,
    uai: &Uai,
    form: FilingForm,
    error: Option<(Field, String)>,
) -> Response {
    let path = format!("/gestion/etablissements/{uai}/assistance");
    let requests = match assistance::establishment_requests(&signed.actor, &desk(app), uai).await {
        Ok(requests) => requests,
        Err(error) => return refusal(error, &path),
    };
    let result = async {
        let name = establishment_name(app, uai.as_str()).await?;
        let rows = requests.iter().map(|r| Row::of(r, &name)).collect();
        // The form is for whoever may file here; filing checks it again.
        let national = signed.actor.holds_nationally(Right::FileRequest);
        let may_file = signed.actor.check(uai, Right::FileRequest).is_ok();
        let status = if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let filing = may_file.then(|| {
            let view = FilingView::new(signed, path.clone(), national, form);
            match error {
                Some((field, message)) => view.refused(field, message),
                None => view,
            }
        });
        let page = EstablishmentPage {
            chrome: Some(Chrome::of(signed, uai, &name, Section::Assistance)),
            uai: uai.as_str().to_owned(),
            academy: uai.academy(),
            rows,
            filing,
        };
        Ok::<_, anyhow::Error>(private(pages::render_with_script(status, &page)))
    }
    .await;
    result.unwrap_or_else(internal)
}

pub async fn establishment_page(
    State(app): State<AppState>,
    Path(code): Path<String>,
    signed: Signed,
) -> Response {
    let Ok(uai) = Uai::parse(&code) else {
        return not_found();
    };
    establishment_view(&app, &signed, &uai, FilingForm::default(), None).await
}

pub async fn establishment_submit(
    State(app): State<AppState>,
    Path(code): Path<String>,
    signed: Signed,
    Form(form): Form<FilingForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let Ok(uai) = Uai::parse(&code) else {
        return not_found();
    };
    let national = signed.actor.holds_nationally(Right::FileRequest);
    let asked = filing(uai.clone(), &form, national);
    let now = app.now_ms();
    match assistance::file(&signed.actor, &desk(&app), Some(&signed.staff), &asked, now).await {
        Ok(request) => filed(&request.id),
        Err(OperationError::InvalidAssistance { field, message }) => {
            establishment_view(&app, &signed, &uai, form, Some((field, message))).await
        }
        Err(error) => refusal(error, &format!("/gestion/etablissements/{uai}/assistance")),
    }
}

fn filed(id: &str) -> Response {
    Redirect::to(&format!("/gestion/assistance/{id}?fait=deposee")).into_response()
}

const NATIONAL: &str = "/gestion/assistance/nouvelle";

fn national_view(signed: &Signed, form: FilingForm, error: Option<(Field, String)>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = FilingView::new(signed, NATIONAL.to_owned(), true, form);
    let view = match error {
        Some((field, message)) => view.refused(field, message),
        None => view,
    };
    let page = NationalPage {
        chrome: Some(Chrome::new(signed, Section::Queue)),
        filing: Some(view),
    };
    private(pages::render_with_script(status, &page))
}

/// The operators' form. Filing checks the right again; the page is refused to others so that
/// nobody fills in a form that cannot succeed.
pub async fn national_page(signed: Signed) -> Response {
    if let Err(error) = signed.actor.require_national(Right::FileRequest) {
        return refusal(error, NATIONAL);
    }
    national_view(&signed, FilingForm::default(), None)
}

pub async fn national_submit(
    State(app): State<AppState>,
    signed: Signed,
    Form(form): Form<FilingForm>,
) -> Response {
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let uai = match Uai::parse(&form.uai) {
        Ok(uai) => uai,
        Err(why) => return national_view(&signed, form, Some((Field::Establishment, why))),
    };
    let asked = filing(uai, &form, true);
    let now = app.now_ms();
    match assistance::file(&signed.actor, &desk(&app), Some(&signed.staff), &asked, now).await {
        Ok(request) => filed(&request.id),
        Err(OperationError::InvalidAssistance { field, message }) => {
            national_view(&signed, form, Some((field, message)))
        }
        Err(error @ OperationError::UnknownEstablishment(_)) => national_view(
            &signed,
            form,
            Some((Field::Establishment, error.to_string())),
        ),
        Err(error) => refusal(error, NATIONAL),
    }
}
