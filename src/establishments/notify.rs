//! Notifying accounts (*notifier*): an establishment picks pupils or guardians — all of them, a
//! class, a level, or given logins — and each gets a temporary password (`accounts::lifecycle`),
//! except an active account notified without a reset, whose letter says its password stays
//! valid. The notification is recorded. It is carried by printed letters (the caller renders
//! what this returns) or by e-mail (queued here in the outbox, each message in the same
//! transaction as its password); an account without an address is then left out and reported.
//!
//! `preview` says what a notification implies before anything is written (`implications.rs`).

use futures_util::stream::{self, StreamExt};

use super::implications::{self, BulkGuardians};
use super::model::{
    ActivePasswords, CarrierKind, NotificationRecord, NotificationTarget, Request, Selection,
};
use super::Right;
use super::{Actor, OperationError};
use crate::accounts::lifecycle::{self, StateChangeError};
use crate::accounts::password::PasswordHasher;
use crate::accounts::sessions::Sessions;
use crate::accounts::temporary::TemporaryPassword;
use crate::accounts::AccountState;
use crate::audit::{self, Action, Event, Outcome};
use crate::outbox::Outgoing;
use crate::siecle::Level;
use crate::store::{AccountStore, AuditStore, DirectoryStore, OutboxStore};

/// Makes the e-mail that notifies one person (`notify::email::Composer`): the letter's content,
/// sealed for the outbox. `password` is `None` for an active account that keeps its own.
pub trait Compose: Send + Sync {
    fn compose(
        &self,
        target: &NotificationTarget,
        password: Option<&TemporaryPassword>,
        now_ms: i64,
    ) -> anyhow::Result<Outgoing>;
}

/// How a notification reaches people.
#[derive(Clone, Copy)]
pub enum Carrier<'a> {
    Letters,
    Email(&'a dyn Compose),
}

impl Carrier<'_> {
    pub fn kind(&self) -> CarrierKind {
        match self {
            Carrier::Letters => CarrierKind::Letters,
            Carrier::Email(_) => CarrierKind::Email,
        }
    }
}

/// Called as each account is done: (done, total), in hand-out order.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// What a notification needs: the stores, the hasher, the sessions a reset ends, and whom to
/// tell of its progress.
pub struct Notifier<'a> {
    pub directory: &'a dyn DirectoryStore,
    pub accounts: &'a dyn AccountStore,
    pub outbox: &'a dyn OutboxStore,
    /// Where each account notified is recorded (`crate::audit`).
    pub audit: &'a dyn AuditStore,
    pub passwords: &'a PasswordHasher,
    pub sessions: &'a dyn Sessions,
    pub progress: Option<Progress<'a>>,
}

/// One person notified: what their letter or message says.
pub struct Notified {
    pub target: NotificationTarget,
    /// `None`: an active account kept its password.
    pub password: Option<TemporaryPassword>,
    /// The e-mail queued, when notified by e-mail.
    pub message: Option<Outgoing>,
}

/// What a notification implies, before anything is written.
#[derive(Clone, Debug)]
pub struct Preview {
    /// The people who would be notified, in hand-out order.
    pub targets: Vec<NotificationTarget>,
    /// Selected, but not notified by e-mail: no address (the letter is for them).
    pub without_address: Vec<NotificationTarget>,
    /// Guardians notified in bulk: what it means for them.
    pub bulk_guardians: Option<BulkGuardians>,
}

/// A notification carried out.
pub struct Notification {
    pub id: String,
    /// In the order letters are handed out.
    pub notified: Vec<Notified>,
    pub without_address: Vec<NotificationTarget>,
    pub bulk_guardians: Option<BulkGuardians>,
}

/// What notifying `request` by `carrier` would do; nothing is written.
pub async fn preview(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    request: &Request,
    carrier: CarrierKind,
) -> Result<Preview, OperationError> {
    actor.require(&request.uai, Right::over(request.profile))?;
    if directory
        .establishment(request.uai.as_str())
        .await?
        .is_none()
    {
        return Err(OperationError::UnknownEstablishment(request.uai.clone()));
    }
    let targets = directory
        .notification_targets(request.uai.as_str(), request.profile)
        .await?;
    let chosen = select(targets, &request.selection)?;
    let (targets, without_address) = match carrier {
        CarrierKind::Letters => (chosen, Vec::new()),
        CarrierKind::Email => chosen.into_iter().partition(|t| address(t).is_some()),
    };
    let bulk_guardians = implications::bulk_guardians(request, &targets);
    Ok(Preview {
        targets,
        without_address,
        bulk_guardians,
    })
}

/// Notifies `request`'s accounts by `carrier`; their temporary passwords are valid until
/// `valid_until_ms`. The argon2 hashes run concurrently, as many at once as the hasher takes
/// (`PasswordHasher::concurrency`); the result keeps the hand-out order.
pub async fn notify(
    actor: &Actor,
    notifier: &Notifier<'_>,
    request: &Request,
    carrier: Carrier<'_>,
    valid_until_ms: i64,
    now_ms: i64,
) -> Result<Notification, OperationError> {
    let Preview {
        targets,
        without_address,
        bulk_guardians,
    } = preview(actor, notifier.directory, request, carrier.kind()).await?;
    let total = targets.len();
    // Each person's audit event is written by its own future, right after its transaction:
    // this loop awaits nothing but the stream. (It used to write them itself; on SQLite, its
    // `INSERT` then waited for the write lock of a transaction the unpolled stream held open,
    // and a third writer timed out: a 500 after 5 s.)
    let mut done = stream::iter(targets)
        .map(|target| async move {
            let one = notify_one(
                notifier,
                request.active,
                carrier,
                target,
                valid_until_ms,
                now_ms,
            )
            .await?;
            let event = Event::new(actor.label(), Action::AccountNotified, Outcome::Ok, now_ms)
                .on_account(&one.target.account.id)
                .at_establishment(request.uai.as_str())
                .detail(format!(
                    "{} {}",
                    match carrier {
                        Carrier::Letters => "letter",
                        Carrier::Email(_) => "email",
                    },
                    if one.password.is_some() {
                        "temporary_password"
                    } else {
                        "password_kept"
                    }
                ));
            audit::record_by(notifier.audit, actor, event).await;
            Ok::<_, OperationError>(one)
        })
        .buffered(notifier.passwords.concurrency());
    let mut notified = Vec::with_capacity(total);
    while let Some(one) = done.next().await {
        notified.push(one?);
        if let Some(progress) = notifier.progress {
            progress(notified.len(), total);
        }
    }
    let record = NotificationRecord {
        id: crate::secrets::random_b64(12),
        uai: request.uai.as_str().to_owned(),
        actor: actor.label().to_owned(),
        profile: request.profile,
        reset: request.active == ActivePasswords::Reset,
        carrier: carrier.kind(),
        account_ids: notified
            .iter()
            .map(|n| n.target.account.id.clone())
            .collect(),
        created_at: now_ms,
    };
    notifier.directory.record_notification(&record).await?;
    tracing::info!(
        actor = %actor,
        uai = %request.uai,
        count = notified.len(),
        reset = record.reset,
        carrier = record.carrier.as_str(),
        "accounts notified"
    );
    Ok(Notification {
        id: record.id,
        notified,
        without_address,
        bulk_guardians,
    })
}

/// One person: a temporary password (with its e-mail, in the same transaction), or for an
/// active account kept, only the e-mail.
async fn notify_one(
    notifier: &Notifier<'_>,
    active: ActivePasswords,
    carrier: Carrier<'_>,
    target: NotificationTarget,
    valid_until_ms: i64,
    now_ms: i64,
) -> Result<Notified, OperationError> {
    let keep = target.account.state == AccountState::Active && active == ActivePasswords::Keep;
    if keep {
        let message = match carrier {
            Carrier::Letters => None,
            Carrier::Email(composer) => {
                let message = composer.compose(&target, None, now_ms)?;
                notifier.outbox.enqueue(&message).await?;
                Some(message)
            }
        };
        return Ok(Notified {
            target,
            password: None,
            message,
        });
    }
    let mut message = None;
    let password = lifecycle::issue_temporary_password(
        notifier.accounts,
        notifier.passwords,
        notifier.sessions,
        &target.account,
        valid_until_ms,
        now_ms,
        |password| match carrier {
            Carrier::Letters => Ok(None),
            Carrier::Email(composer) => {
                let composed = composer.compose(&target, Some(password), now_ms)?;
                message = Some(composed.clone());
                Ok(Some(composed))
            }
        },
    )
    .await
    .map_err(|e| match e {
        StateChangeError::Disabled { login } => OperationError::NotNotifiable(login),
        StateChangeError::Store(e) => OperationError::Internal(e),
    })?;
    Ok(Notified {
        target,
        password: Some(password),
        message,
    })
}

/// Where a person's notification e-mail goes: the account's own address, confirmed by a code
/// (activation), first; else the address the Siècle record gives (a guardian's; a pupil's
/// export has none, or the demo's hand-set one).
pub fn address(target: &NotificationTarget) -> Option<&str> {
    let account = &target.account;
    account
        .verified_email
        .as_deref()
        .or(account.email.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty())
}

fn select(
    targets: Vec<NotificationTarget>,
    selection: &Selection,
) -> Result<Vec<NotificationTarget>, OperationError> {
    Ok(match selection {
        Selection::All => targets,
        Selection::Class(class) => targets.into_iter().filter(|t| in_class(t, class)).collect(),
        Selection::Level(level) => targets.into_iter().filter(|t| in_level(t, level)).collect(),
        Selection::Logins(logins) => {
            let chosen: Vec<_> = targets
                .into_iter()
                .filter(|t| logins.contains(&t.account.login))
                .collect();
            if let Some(missing) = logins
                .iter()
                .find(|l| !chosen.iter().any(|t| &t.account.login == *l))
            {
                return Err(OperationError::NotNotifiable(missing.clone()));
            }
            chosen
        }
    })
}

/// A pupil of the class, or a guardian with a child in it.
fn in_class(target: &NotificationTarget, class: &str) -> bool {
    target.class.as_deref() == Some(class)
        || target
            .children
            .iter()
            .any(|c| c.class.as_deref() == Some(class))
}

/// A pupil of the level, or a guardian with a child of it.
fn in_level(target: &NotificationTarget, level: &Level) -> bool {
    level.holds(target.mef.as_deref())
        || target
            .children
            .iter()
            .any(|c| level.holds(c.mef.as_deref()))
}
