//! Notifying accounts and the identifiers file through the administration API: the JSON body
//! read into an `establishments::Request` (every mistake a precise 400), the notification run
//! by `notify::run::send`, answered with the letters' PDF or the queued e-mails; the
//! identifiers file as CSV or PDF.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::errors::body_rejection;
use super::{found, uai, AdminError};
use crate::accounts::Profile;
use crate::app::AppState;
use crate::establishments::model::{CarrierKind, NotificationTarget};
use crate::establishments::{self, ActivePasswords, Actor, Request, Selection};
use crate::http::error::no_store;
use crate::notify::{identifiers, run};
use crate::outbox::Status;
use crate::siecle::Level;

/// `POST /admin/establishments/{uai}/notifications`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NotifyBody {
    /// `pupil`, `guardian` or `person_in_charge`.
    profile: String,
    /// At most one of `class`, `level`, `logins`; none: all of the profile.
    class: Option<String>,
    level: Option<String>,
    logins: Option<Vec<String>>,
    /// Also give active accounts a new temporary password (default: they keep theirs).
    #[serde(default)]
    reset_password: bool,
    /// `pdf` (the answer is the letters) or `email` (queued in the outbox).
    carrier: String,
    /// Only say what the notification implies; nothing is written.
    #[serde(default)]
    dry_run: bool,
}

fn request(uai: crate::siecle::Uai, body: &NotifyBody) -> Result<Request, AdminError> {
    let profile = Profile::parse(&body.profile).ok_or_else(|| {
        AdminError::invalid_request(format!(
            "profile « {} » inconnu : pupil, guardian ou person_in_charge",
            body.profile
        ))
    })?;
    let selection = match (&body.class, &body.level, &body.logins) {
        (None, None, None) => Selection::All,
        (Some(class), None, None) if !class.trim().is_empty() => {
            Selection::Class(class.trim().to_owned())
        }
        (Some(_), None, None) => return Err(AdminError::invalid_request("class vide")),
        (None, Some(level), None) => {
            Selection::Level(Level::parse(level).map_err(AdminError::invalid_request)?)
        }
        (None, None, Some(logins)) if !logins.is_empty() => Selection::Logins(logins.clone()),
        (None, None, Some(_)) => {
            return Err(AdminError::invalid_request(
                "logins vide : donnez au moins un identifiant",
            ))
        }
        _ => {
            return Err(AdminError::invalid_request(
                "class, level et logins s'excluent : donnez-en un au plus",
            ))
        }
    };
    Ok(Request {
        uai,
        profile,
        selection,
        active: if body.reset_password {
            ActivePasswords::Reset
        } else {
            ActivePasswords::Keep
        },
    })
}

fn logins(targets: &[NotificationTarget]) -> Vec<&str> {
    targets.iter().map(|t| t.account.login.as_str()).collect()
}

fn without_address(targets: &[NotificationTarget]) -> serde_json::Value {
    json!({
        "count": targets.len(),
        "logins": logins(targets),
        "message": (!targets.is_empty()).then(|| format!(
            "{} compte(s) sans adresse électronique ne sont pas notifiés par courriel : \
             notifiez-les par courrier (carrier pdf, logins).",
            targets.len()
        )),
    })
}

pub(super) async fn notify(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    body: Result<Json<NotifyBody>, JsonRejection>,
) -> Result<Response, AdminError> {
    let uai = uai(&code)?;
    let Json(body) = body.map_err(body_rejection)?;
    let carrier = CarrierKind::parse(&body.carrier).ok_or_else(|| {
        AdminError::invalid_request(format!(
            "carrier « {} » inconnu : pdf ou email",
            body.carrier
        ))
    })?;
    let request = request(uai.clone(), &body)?;
    if body.dry_run {
        let preview = establishments::preview(&actor, &*app.durable, &request, carrier).await?;
        return Ok(found(json!({
            "dry_run": true,
            "carrier": carrier.as_str(),
            "accounts": preview.targets.len(),
            "logins": logins(&preview.targets),
            "without_address": without_address(&preview.without_address),
            "bulk_guardians": preview.bulk_guardians,
        })));
    }
    let sent = run::send(&app, &actor, &request, carrier, None).await?;
    let notification = &sent.notification;
    if let Some(pdf) = sent.pdf {
        let filename = format!("attachment; filename=\"courriers-{uai}.pdf\"");
        let id = HeaderValue::from_str(&notification.id).map_err(anyhow::Error::from)?;
        return Ok((
            no_store(),
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&filename).map_err(anyhow::Error::from)?,
                ),
                (HeaderName::from_static("x-notification-id"), id),
            ],
            pdf,
        )
            .into_response());
    }
    let queued: Vec<_> = notification
        .notified
        .iter()
        .filter_map(|n| {
            n.message.as_ref().map(|m| {
                json!({
                    "id": m.id,
                    "recipient": m.recipient,
                    "login": n.target.account.login,
                    "temporary_password": n.password.is_some(),
                    "status": Status::Pending.as_str(),
                })
            })
        })
        .collect();
    Ok(found(json!({
        "notification_id": notification.id,
        "carrier": carrier.as_str(),
        "queued": queued,
        "without_address": without_address(&notification.without_address),
        "bulk_guardians": notification.bulk_guardians,
    })))
}

/// `GET /admin/establishments/{uai}/identifiers.csv`: the next identifiers file (producing it
/// records it).
pub(super) async fn identifiers_csv(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    identifiers_file(&app, &actor, &code, "csv").await
}

/// `GET /admin/establishments/{uai}/identifiers.pdf`: the same, as a table.
pub(super) async fn identifiers_pdf(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, AdminError> {
    identifiers_file(&app, &actor, &code, "pdf").await
}

async fn identifiers_file(
    app: &AppState,
    actor: &Actor,
    code: &str,
    format: &str,
) -> Result<Response, AdminError> {
    let uai = uai(code)?;
    let shown = establishments::establishment(actor, &*app.durable, &uai).await?;
    let file = establishments::identifiers_file(actor, &*app.durable, &uai, app.now_ms()).await?;
    let (content_type, bytes) = match format {
        "csv" => (
            "text/csv; charset=utf-8",
            identifiers::csv(&file).into_bytes(),
        ),
        _ => {
            let name = shown.name.unwrap_or_else(|| format!("Établissement {uai}"));
            ("application/pdf", identifiers::pdf(&file, &name)?)
        }
    };
    let filename = format!("attachment; filename=\"identifiants-{uai}.{format}\"");
    Ok((
        no_store(),
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&filename).map_err(anyhow::Error::from)?,
            ),
        ],
        bytes,
    )
        .into_response())
}
