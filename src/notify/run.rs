//! A notification from start to end, as the CLI and the administration API ask for it: the
//! establishment's heading read, `establishments::notify` run with the chosen carrier, and for
//! letters the PDF rendered (off the async threads). A flow: it takes the `App`, and the two
//! adapters call it alone.

use crate::app::AppState;
use crate::establishments::model::CarrierKind;
use crate::establishments::{self, Actor, Carrier, Notification, OperationError, Request};
use crate::notify::email::Composer;
use crate::notify::from_notified::{self, Context};
use crate::notify::letters::{self, EstablishmentHeading};
use crate::siecle::Date;

/// A notification carried out, with its letters when printed.
pub struct Sent {
    pub notification: Notification,
    /// The letters (one A4 page each, in hand-out order), for `CarrierKind::Letters`.
    pub pdf: Option<Vec<u8>>,
}

/// Notifies `request` by `carrier` as `actor`; `progress` hears of each account done.
pub async fn send(
    app: &AppState,
    actor: &Actor,
    request: &Request,
    carrier: CarrierKind,
    progress: Option<establishments::Progress<'_>>,
) -> Result<Sent, OperationError> {
    let now = app.now_ms();
    let days = app.config.password.temporary_password_days;
    let valid_until = now + i64::try_from(days).unwrap_or(i64::MAX / 86_400_000) * 86_400_000;
    let shown = establishments::establishment(actor, &*app.durable, &request.uai).await?;
    let context = Context {
        establishment: EstablishmentHeading {
            name: shown
                .name
                .unwrap_or_else(|| format!("Établissement {}", request.uai)),
            uai: request.uai.clone(),
        },
        service_url: app.issuer().to_owned(),
        issued_on: Date::from_epoch_ms(now),
        valid_until: Date::from_epoch_ms(valid_until),
    };
    let notifier = establishments::Notifier {
        directory: &*app.durable,
        accounts: &*app.durable,
        outbox: &*app.durable,
        audit: &*app.durable,
        passwords: &app.passwords,
        sessions: app,
        progress,
    };
    let composer = Composer {
        kek: app.keys.kek(),
        context: context.clone(),
    };
    let chosen = match carrier {
        CarrierKind::Letters => Carrier::Letters,
        CarrierKind::Email => Carrier::Email(&composer),
    };
    let notification =
        establishments::notify(actor, &notifier, request, chosen, valid_until, now).await?;
    let pdf = match carrier {
        CarrierKind::Email => None,
        CarrierKind::Letters => {
            let letters = from_notified::letters(&notification.notified, &context)?;
            // Laying out a thousand pages takes a while: not on an async worker.
            let pdf = tokio::task::spawn_blocking(move || letters::render(&letters))
                .await
                .map_err(|e| anyhow::anyhow!("the letters' thread failed: {e}"))??;
            Some(pdf)
        }
    };
    Ok(Sent { notification, pdf })
}
