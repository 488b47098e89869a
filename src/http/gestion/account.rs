//! One account's page (`/gestion/etablissements/{uai}/comptes/{id}`): identity, state, last
//! login, children or guardians, contact details (the account's own apart from Siècle's), the
//! history of notifications, messages and audit events, and the forms of its actions
//! (`account_actions.rs`). `establishments::account_file` checks the right over the account.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::accounts::{profile_label, state_label};
use super::chrome::{Chrome, Section};
use super::home::{french_date, french_time};
use super::place::{self, base};
use super::signed::{private, refusal, Signed};
use crate::accounts::{AccountState, Profile};
use crate::app::AppState;
use crate::audit::Action;
use crate::establishments::{self, AccountFile, OperationError};
use crate::http::pages;
use crate::siecle::Uai;

pub struct RelativeView {
    pub name: String,
    pub what: &'static str,
    pub uai: String,
    pub class: String,
    /// The account page, when they belong to this establishment too.
    pub href: Option<String>,
}

pub struct HistoryRow {
    pub at: String,
    pub cells: Vec<String>,
}

/// A contact form refused: which field, why, and what was typed.
#[derive(Default)]
pub struct ContactError {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub typed_email: String,
    pub typed_phone: String,
}

#[derive(Template)]
#[template(path = "backoffice/account.html")]
struct AccountPage {
    chrome: Option<Chrome>,
    base: String,
    action: String,
    csrf: String,
    done: Option<&'static str>,
    name: String,
    login: String,
    profile: &'static str,
    pupil: bool,
    state: (&'static str, &'static str),
    disabled: bool,
    class: Option<String>,
    ine: Option<String>,
    created: String,
    last_login: Option<String>,
    throttled: bool,
    verified_email: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    relatives: Vec<RelativeView>,
    notifications: Vec<HistoryRow>,
    messages: Vec<HistoryRow>,
    events: Option<Vec<HistoryRow>>,
    contact: ContactError,
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

pub fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "courriel" => Some("Le courriel de notification est mis en file d'envoi."),
        "sans-adresse" => Some(
            "Ce compte n'a aucune adresse électronique : rien n'a été envoyé. Notifiez-le par \
             courrier.",
        ),
        "desactive" => Some(
            "Le compte est désactivé : il ne peut plus se connecter, ses sessions sont fermées.",
        ),
        "active" => Some("Le compte est réactivé."),
        "coordonnees" => Some("Les coordonnées sont corrigées."),
        "debloque" => {
            Some("La connexion est débloquée : le compte peut réessayer son mot de passe.")
        }
        _ => None,
    }
}

fn message_status(status: &str) -> &'static str {
    match status {
        "pending" => "En attente d'envoi",
        "sent" => "Envoyé",
        "failed" => "Échec de l'envoi",
        _ => "Inconnu",
    }
}

fn view(
    signed: &Signed,
    uai: &Uai,
    chrome: Chrome,
    file: AccountFile,
    done: Option<&'static str>,
    contact: ContactError,
) -> AccountPage {
    let account = &file.account;
    let here = base(uai);
    let relatives = file
        .relatives
        .iter()
        .map(|r| RelativeView {
            name: format!("{} {}", r.given_name, r.family_name),
            what: match (r.profile, r.legal) {
                (Profile::Pupil, _) => "Enfant",
                (_, true) => "Représentant légal",
                (_, false) => "Personne en charge",
            },
            class: r.class.clone().unwrap_or_default(),
            href: (r.uai == uai.as_str()).then(|| format!("{here}/comptes/{}", r.account_id)),
            uai: r.uai.clone(),
        })
        .collect();
    let notifications = file
        .notifications
        .iter()
        .map(|n| HistoryRow {
            at: french_time(n.created_at),
            cells: vec![
                match n.carrier {
                    establishments::model::CarrierKind::Letters => "Courrier".into(),
                    establishments::model::CarrierKind::Email => "Courriel".into(),
                },
                if n.reset { "oui" } else { "non" }.into(),
                n.actor.clone(),
            ],
        })
        .collect();
    let messages = file
        .messages
        .iter()
        .map(|m| HistoryRow {
            at: french_time(m.created_at),
            cells: vec![
                m.recipient.clone(),
                m.subject.clone(),
                message_status(m.status).into(),
            ],
        })
        .collect();
    let events = file.events.as_ref().map(|events| {
        events
            .iter()
            .map(|e| HistoryRow {
                at: french_time(e.at),
                cells: vec![
                    Action::label(&e.action).into(),
                    e.actor.clone(),
                    match e.outcome.as_str() {
                        "ok" => "réussi",
                        "failed" => "échoué",
                        _ => "refusé",
                    }
                    .into(),
                    e.detail.clone().unwrap_or_default(),
                ],
            })
            .collect()
    });
    AccountPage {
        chrome: Some(chrome),
        action: format!("{here}/comptes/{}", account.id),
        base: here,
        csrf: signed.csrf(),
        done,
        name: format!("{} {}", account.given_name, account.family_name),
        login: account.login.clone(),
        profile: profile_label(account.profile),
        pupil: account.profile == Profile::Pupil,
        state: state_label(account.state),
        disabled: account.state == AccountState::Disabled,
        class: file.class.clone(),
        ine: file.ine.clone(),
        created: french_date(account.created_at),
        last_login: file.last_login.map(french_time),
        throttled: file.throttled,
        verified_email: account.verified_email.clone(),
        email: account.email.clone(),
        phone: account.phone.clone(),
        relatives,
        notifications,
        messages,
        events,
        contact,
    }
}

/// The account page, `status`, with what was done or what was refused.
pub async fn render(
    app: &AppState,
    signed: &Signed,
    uai: &Uai,
    account_id: &str,
    status: StatusCode,
    done: Option<&'static str>,
    contact: ContactError,
) -> Result<Response, OperationError> {
    let files = place::files(app);
    let file =
        establishments::account_file(&signed.actor, &files, uai, account_id, app.now_ms()).await?;
    let chrome = place::chrome(app, signed, uai, Section::Accounts).await?;
    let page = view(signed, uai, chrome, file, done, contact);
    Ok(private(pages::render_with_script(status, &page)))
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    Path((code, account_id)): Path<(String, String)>,
    Query(query): Query<Done>,
) -> Response {
    let uai = match place::uai(&code) {
        Ok(uai) => uai,
        Err(response) => return response,
    };
    let here = format!("{}/comptes/{account_id}", base(&uai));
    render(
        &app,
        &signed,
        &uai,
        &account_id,
        StatusCode::OK,
        done_message(&query.fait),
        ContactError::default(),
    )
    .await
    .unwrap_or_else(|error| refusal(error, &here))
}
