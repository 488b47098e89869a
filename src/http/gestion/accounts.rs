//! The establishment's accounts (`/gestion/etablissements/{uai}/comptes`): the list, filtered,
//! sorted and paginated by `establishments::accounts`, and the selection notified from it
//! ("Notifier la sélection": letters as a PDF download, or e-mails), through `notifying`.

use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::chrome::{Chrome, Section};
use super::home::french_date;
use super::notifying;
use super::place::{self, base, query_value};
use super::signed::{private, refusal, Signed};
use crate::accounts::{AccountState, Profile};
use crate::app::AppState;
use crate::establishments::model::CarrierKind;
use crate::establishments::{
    self, AccountQuery, ActivePasswords, OperationError, ProfileFilter, Sort, StateFilter,
};
use crate::http::pages;
use crate::siecle::Uai;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gestion/etablissements/{uai}/comptes", get(page))
        .route(
            "/gestion/etablissements/{uai}/comptes/notifier",
            post(notify),
        )
}

/// The list's query string, in French (`?classe=5B&etat=non-actives&tri=nom`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub classe: String,
    /// `eleves` or `responsables`.
    #[serde(default)]
    pub profil: String,
    /// `non-notifies`, `non-actives`, `cree`, `notifie`, `actif`, `desactive`.
    #[serde(default)]
    pub etat: String,
    /// `avec` or `sans`.
    #[serde(default)]
    pub courriel: String,
    /// `nom`, `classe`, `profil`, `etat`, `notification`.
    #[serde(default)]
    pub tri: String,
    /// `desc` for descending.
    #[serde(default)]
    pub ordre: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub fait: String,
    #[serde(default)]
    pub envoyes: String,
    #[serde(default)]
    pub sans: String,
}

/// The states the list filters on, as the query names them and the page labels them.
const STATES: [(&str, &str); 6] = [
    ("non-notifies", "Non notifiés (jamais notifiés)"),
    ("non-actives", "Non activés (créés ou notifiés)"),
    ("cree", "Créés"),
    ("notifie", "Notifiés"),
    ("actif", "Activés"),
    ("desactive", "Désactivés"),
];

const SORTS: [(&str, Sort); 5] = [
    ("nom", Sort::Name),
    ("classe", Sort::Class),
    ("profil", Sort::Profile),
    ("etat", Sort::State),
    ("notification", Sort::LastNotified),
];

impl ListQuery {
    pub fn to_query(&self) -> AccountQuery {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        AccountQuery {
            name: text(&self.nom),
            class: text(&self.classe),
            profile: match self.profil.as_str() {
                "eleves" => Some(ProfileFilter::Pupils),
                "responsables" => Some(ProfileFilter::Guardians),
                _ => None,
            },
            state: match self.etat.as_str() {
                "non-notifies" => StateFilter::NotNotified,
                "non-actives" => StateFilter::NotActivated,
                "cree" => StateFilter::Is(AccountState::Created),
                "notifie" => StateFilter::Is(AccountState::Notified),
                "actif" => StateFilter::Is(AccountState::Active),
                "desactive" => StateFilter::Is(AccountState::Disabled),
                _ => StateFilter::Any,
            },
            email: match self.courriel.as_str() {
                "avec" => Some(true),
                "sans" => Some(false),
                _ => None,
            },
            sort: SORTS
                .iter()
                .find(|(name, _)| *name == self.tri)
                .map(|(_, sort)| *sort)
                .unwrap_or_default(),
            descending: self.ordre == "desc",
            page: self.page.parse().unwrap_or(1),
        }
    }

    /// This query as a query string, with `changes` applied (empty values left out).
    pub fn with(&self, changes: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("nom", self.nom.as_str()),
            ("classe", self.classe.as_str()),
            ("profil", self.profil.as_str()),
            ("etat", self.etat.as_str()),
            ("courriel", self.courriel.as_str()),
            ("tri", self.tri.as_str()),
            ("ordre", self.ordre.as_str()),
            ("page", self.page.as_str()),
        ];
        for (key, value) in changes {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some(pair) => pair.1 = value,
                None => pairs.push((key, value)),
            }
        }
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", query_value(v)))
            .collect();
        if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        }
    }
}

pub fn state_label(state: AccountState) -> (&'static str, &'static str) {
    match state {
        AccountState::Created => ("Créé", ""),
        AccountState::Notified => ("Notifié", " fr-badge--info"),
        AccountState::Active => ("Activé", " fr-badge--success"),
        AccountState::Disabled => ("Désactivé", " fr-badge--error"),
    }
}

pub fn profile_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "Élève",
        Profile::Guardian => "Représentant légal",
        Profile::PersonInCharge => "Personne en charge",
    }
}

pub struct RowView {
    pub id: String,
    pub value: String,
    pub name: String,
    pub login: String,
    pub profile: &'static str,
    pub classes: String,
    pub state: (&'static str, &'static str),
    pub email: bool,
    pub last_notified: Option<String>,
}

pub struct Column {
    pub label: &'static str,
    pub href: String,
    /// `ascending` or `descending` when the list is sorted by it.
    pub sorted: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "backoffice/accounts.html")]
struct AccountsPage {
    chrome: Option<Chrome>,
    base: String,
    csrf: String,
    query: ListQuery,
    classes: Vec<String>,
    states: Vec<(&'static str, &'static str)>,
    rows: Vec<RowView>,
    total: usize,
    columns: Vec<Column>,
    pages: Vec<(usize, String, bool)>,
    previous: Option<String>,
    next: Option<String>,
    done: Option<String>,
    error: Option<String>,
    /// The list's query, to come back to it after notifying.
    back: String,
}

fn done_message(query: &ListQuery) -> Option<String> {
    match query.fait.as_str() {
        "courriels" => {
            let sent: usize = query.envoyes.parse().unwrap_or(0);
            let without: usize = query.sans.parse().unwrap_or(0);
            let mut message = format!("{sent} courriel(s) de notification mis en file d'envoi.");
            if without > 0 {
                message += &format!(
                    " {without} compte(s) sans adresse électronique n'ont pas été notifiés : \
                     notifiez-les par courrier."
                );
            }
            Some(message)
        }
        _ => None,
    }
}

async fn render(
    app: &AppState,
    signed: &Signed,
    uai: &Uai,
    query: ListQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, OperationError> {
    let chrome = place::chrome(app, signed, uai, Section::Accounts).await?;
    let store = &*app.durable;
    let listed =
        establishments::accounts(&signed.actor, store, store, uai, &query.to_query()).await?;
    let here = format!("{}/comptes", base(uai));
    let asked = query.to_query();
    let columns = [
        ("Nom", "nom"),
        ("Profil", "profil"),
        ("Classe", "classe"),
        ("État", "etat"),
        ("Dernière notification", "notification"),
    ]
    .iter()
    .map(|(label, key)| {
        let sort = SORTS.iter().find(|(k, _)| k == key).map(|(_, s)| *s);
        let current = sort == Some(asked.sort);
        let order = if current && !asked.descending {
            "desc"
        } else {
            ""
        };
        Column {
            label,
            href: format!(
                "{here}{}",
                query.with(&[("tri", key), ("ordre", order), ("page", "")])
            ),
            sorted: current.then_some(if asked.descending {
                "descending"
            } else {
                "ascending"
            }),
        }
    })
    .collect();
    let page_link = |n: usize| format!("{here}{}", query.with(&[("page", &n.to_string())]));
    let rows = listed
        .rows
        .iter()
        .map(|r| RowView {
            id: r.account.id.clone(),
            value: format!("{}:{}", r.account.profile.as_str(), r.account.login),
            name: format!("{} {}", r.account.family_name, r.account.given_name),
            login: r.account.login.clone(),
            profile: profile_label(r.account.profile),
            classes: r.classes.join(", "),
            state: state_label(r.account.state),
            email: r.email,
            last_notified: r.last_notified.map(french_date),
        })
        .collect();
    let page = AccountsPage {
        chrome: Some(chrome),
        base: base(uai),
        csrf: signed.csrf(),
        back: query.with(&[]),
        done: done_message(&query),
        classes: listed.classes,
        states: STATES.to_vec(),
        rows,
        total: listed.total,
        columns,
        pages: (1..=listed.pages)
            .map(|n| (n, page_link(n), n == listed.page))
            .collect(),
        previous: (listed.page > 1).then(|| page_link(listed.page - 1)),
        next: (listed.page < listed.pages).then(|| page_link(listed.page + 1)),
        query,
        error,
    };
    Ok(private(pages::render_with_script(status, &page)))
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let back = format!("{}/comptes{}", base(&uai), query.with(&[]));
    render(&app, &signed, &uai, query, StatusCode::OK, None)
        .await
        .unwrap_or_else(|error| refusal(error, &back))
}

/// The notification form: the accounts ticked (`compte`, repeated: `profile:login`), the
/// carrier, the reset, and the list's query to come back to.
#[derive(Debug, Default)]
struct NotifyForm {
    csrf: String,
    chosen: Vec<(Profile, String)>,
    carrier: String,
    reset: bool,
    back: String,
}

impl NotifyForm {
    fn parse(body: &[u8]) -> NotifyForm {
        let mut form = NotifyForm::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            match key.as_ref() {
                "csrf" => form.csrf = value.into_owned(),
                "support" => form.carrier = value.into_owned(),
                "reinitialiser" => form.reset = value == "1",
                "retour" => form.back = value.into_owned(),
                "compte" => {
                    if let Some((profile, login)) = value.split_once(':') {
                        if let Some(profile) = Profile::parse(profile) {
                            form.chosen.push((profile, login.to_owned()));
                        }
                    }
                }
                _ => {}
            }
        }
        form
    }
}

pub async fn notify(
    State(app): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let form = NotifyForm::parse(&body);
    if let Some(expired) = signed.csrf_refused(&form.csrf) {
        return expired;
    }
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    // Back to the list as it was (only a query string of it is taken).
    let back_query: ListQuery = serde_urlencoded_query(form.back.trim_start_matches('?'));
    let back = format!("{}/comptes{}", base(&uai), back_query.with(&[]));
    let carrier = match form.carrier.as_str() {
        "pdf" => Some(CarrierKind::Letters),
        "email" => Some(CarrierKind::Email),
        _ => None,
    };
    let carrier = match (carrier, form.chosen.is_empty()) {
        (Some(carrier), false) => carrier,
        (_, empty) => {
            let problem = if empty {
                "Cochez au moins un compte à notifier."
            } else {
                "Choisissez le support : courrier ou courriel."
            };
            return render(
                &app,
                &signed,
                &uai,
                back_query,
                StatusCode::BAD_REQUEST,
                Some(problem.to_owned()),
            )
            .await
            .unwrap_or_else(|error| refusal(error, &back));
        }
    };
    let active = if form.reset {
        ActivePasswords::Reset
    } else {
        ActivePasswords::Keep
    };
    match notifying::send(&app, &signed.actor, &uai, &form.chosen, carrier, active).await {
        Ok(sent) => match sent.pdf {
            Some(pdf) => notifying::letters_download(pdf, &format!("courriers-{uai}.pdf")),
            None => {
                let sent_count = sent.notified.len().to_string();
                let without = sent.without_address.len().to_string();
                let done = back_query.with(&[
                    ("fait", "courriels"),
                    ("envoyes", &sent_count),
                    ("sans", &without),
                ]);
                Redirect::to(&format!("{}/comptes{done}", base(&uai))).into_response()
            }
        },
        Err(error) => refusal(error, &back),
    }
}

fn serde_urlencoded_query(query: &str) -> ListQuery {
    let mut parsed = ListQuery::default();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "nom" => parsed.nom = value,
            "classe" => parsed.classe = value,
            "profil" => parsed.profil = value,
            "etat" => parsed.etat = value,
            "courriel" => parsed.courriel = value,
            "tri" => parsed.tri = value,
            "ordre" => parsed.ordre = value,
            "page" => parsed.page = value,
            _ => {}
        }
    }
    parsed
}
