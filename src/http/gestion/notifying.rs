//! Notifying chosen accounts from the back-office (the account list's selection, an account
//! page, the pupil troubleshooting), as `notify::run::send` does for one profile: the
//! selection split by profile, every part's rights checked and its accounts found before
//! anything is written (a mixed selection needs the right over pupils and over guardians),
//! then each part notified and each account notified recorded in the audit trail; for letters,
//! one PDF of every letter in hand-out order. A flow: it takes the `App`, and the back-office's
//! handlers call it alone.

use crate::accounts::Profile;
use crate::app::AppState;
use crate::audit::Action;
use crate::establishments::model::{CarrierKind, NotificationTarget};
use crate::establishments::{
    self, ActivePasswords, Actor, Carrier, Notified, Notifier, OperationError, Request, Selection,
};
use crate::notify::email::Composer;
use crate::notify::from_notified::{self, Context};
use crate::notify::letters::{self, EstablishmentHeading};
use crate::siecle::{Date, Uai};

/// What was done.
pub struct Sent {
    pub notified: Vec<Notified>,
    /// Chosen for an e-mail, but without an address (the letter is for them).
    pub without_address: Vec<NotificationTarget>,
    /// The letters, for `CarrierKind::Letters`.
    pub pdf: Option<Vec<u8>>,
}

/// Notifies the accounts `chosen` (profile, login) of `uai` by `carrier`.
pub async fn send(
    app: &AppState,
    actor: &Actor,
    uai: &Uai,
    chosen: &[(Profile, String)],
    carrier: CarrierKind,
    active: ActivePasswords,
) -> Result<Sent, OperationError> {
    let now = app.now_ms();
    let mut requests = Vec::new();
    for profile in [Profile::Pupil, Profile::Guardian, Profile::PersonInCharge] {
        let logins: Vec<String> = chosen
            .iter()
            .filter(|(p, _)| *p == profile)
            .map(|(_, login)| login.clone())
            .collect();
        if !logins.is_empty() {
            requests.push(Request {
                uai: uai.clone(),
                profile,
                selection: Selection::Logins(logins),
                active,
            });
        }
    }
    // Every part checked first: a refusal of one part writes nothing of the others.
    for request in &requests {
        let checked = establishments::preview(actor, &*app.durable, request, carrier).await;
        if let Err(error) = &checked {
            let attempted = Action::AccountNotified.as_str();
            let uai = Some(uai.as_str());
            crate::audit::refused(&*app.durable, actor, attempted, None, uai, error, now).await;
        }
        checked?;
    }
    let days = app.config.password.temporary_password_days;
    let valid_until = now + i64::try_from(days).unwrap_or(i64::MAX / 86_400_000) * 86_400_000;
    let shown = establishments::establishment(actor, &*app.durable, uai).await?;
    let context = Context {
        establishment: EstablishmentHeading {
            name: super::place::display_name(&shown.name, uai),
            uai: uai.clone(),
        },
        service_url: app.issuer().to_owned(),
        issued_on: Date::from_epoch_ms(now),
        valid_until: Date::from_epoch_ms(valid_until),
    };
    let notifier = Notifier {
        // Each account notified is recorded there (`establishments::notify`).
        audit: &*app.durable,
        directory: &*app.durable,
        accounts: &*app.durable,
        outbox: &*app.durable,
        passwords: &app.passwords,
        sessions: app,
        progress: None,
    };
    let composer = Composer {
        kek: app.keys.kek(),
        context: context.clone(),
    };
    let chosen_carrier = match carrier {
        CarrierKind::Letters => Carrier::Letters,
        CarrierKind::Email => Carrier::Email(&composer),
    };
    let mut sent = Sent {
        notified: Vec::new(),
        without_address: Vec::new(),
        pdf: None,
    };
    for request in &requests {
        let notification =
            establishments::notify(actor, &notifier, request, chosen_carrier, valid_until, now)
                .await?;
        sent.notified.extend(notification.notified);
        sent.without_address.extend(notification.without_address);
    }
    if carrier == CarrierKind::Letters {
        let letters = from_notified::letters(&sent.notified, &context)?;
        // Laying out many pages takes a while: not on an async worker.
        let pdf = tokio::task::spawn_blocking(move || letters::render(&letters))
            .await
            .map_err(|e| anyhow::anyhow!("the letters' thread failed: {e}"))??;
        sent.pdf = Some(pdf);
    }
    Ok(sent)
}

/// The letters as a download.
pub fn letters_download(pdf: Vec<u8>, filename: &str) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        crate::http::error::no_store(),
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response()
}
