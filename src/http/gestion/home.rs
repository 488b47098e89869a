//! The back-office's home: the establishments, académies and national functions of the
//! signed-in staff member, each with its role.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::chrome::{Chrome, Section};
use super::signed::{internal, private, Signed};
use crate::app::AppState;
use crate::http::pages;
use crate::staff::RoleScope;

pub struct Place {
    pub href: Option<String>,
    pub what: String,
    pub role: &'static str,
    pub rights: String,
    pub until: Option<String>,
}

#[derive(Template)]
#[template(path = "backoffice/home.html")]
struct HomePage {
    chrome: Option<Chrome>,
    given_name: String,
    places: Vec<Place>,
}

/// A date in French (`1er septembre 2026`), from epoch milliseconds (UTC).
pub fn french_date(ms: i64) -> String {
    crate::notify::letters::wording::french_date(crate::siecle::Date::from_epoch_ms(ms))
}

/// A date and time in French (`2 décembre 2026, 06:30 UTC`), from epoch milliseconds.
pub fn french_time(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!(
        "{}, {:02}:{:02} UTC",
        french_date(ms),
        minutes / 60,
        minutes % 60
    )
}

pub async fn page(State(app): State<AppState>, signed: Signed) -> Response {
    let result = async {
        let now = app.now_ms();
        let mut places = Vec::new();
        for role in signed.roles.iter().filter(|r| r.live(now)) {
            let (href, what) = match &role.scope {
                RoleScope::Establishment(uai) => {
                    let name = app
                        .durable
                        .establishment(uai.as_str())
                        .await?
                        .and_then(|e| e.name)
                        .unwrap_or_else(|| "Établissement".to_owned());
                    (
                        Some(format!("/gestion/etablissements/{uai}")),
                        format!("{name} ({uai})"),
                    )
                }
                RoleScope::Academy(academy) => (
                    Some("/gestion/assistance".to_owned()),
                    format!("Académie de {academy}"),
                ),
                RoleScope::National => (None, "Tous les établissements".to_owned()),
            };
            let mut rights = Vec::new();
            if role.kind == crate::staff::RoleKind::Delegate {
                if role.pupils {
                    rights.push("comptes élèves");
                }
                if role.guardians {
                    rights.push("comptes représentants légaux");
                }
            }
            places.push(Place {
                href,
                what,
                role: role.kind.label(),
                rights: rights.join(", "),
                until: role.ends_at.map(french_date),
            });
        }
        let page = HomePage {
            chrome: Some(Chrome::new(&signed, Section::Home)),
            given_name: signed.staff.given_name.clone(),
            places,
        };
        Ok::<_, anyhow::Error>(private(pages::render_with_script(StatusCode::OK, &page)))
    }
    .await;
    result.unwrap_or_else(internal)
}
