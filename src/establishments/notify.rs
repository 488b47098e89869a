//! Notifying accounts (*notifier*): an establishment picks pupils or guardians — all of them, a
//! class, or given logins — and each gets a temporary password (`accounts::lifecycle`), except
//! an active account notified without a reset, whose letter says its password stays valid. The
//! notification is recorded. What carries it (a PDF letter, an e-mail) is the caller's; this
//! returns, in the order letters are handed out, what each one says.

use super::model::{NotificationRecord, NotificationTarget};
use super::{Actor, OperationError};
use crate::accounts::lifecycle::{self, StateChangeError};
use crate::accounts::password::PasswordHasher;
use crate::accounts::sessions::Sessions;
use crate::accounts::temporary::TemporaryPassword;
use crate::accounts::{AccountState, Profile};
use crate::siecle::Uai;
use crate::store::{AccountStore, DirectoryStore};

/// Whom of the establishment's pupils or guardians.
#[derive(Clone, Debug)]
pub enum Selection {
    All,
    /// A class (division), e.g. `5B`: its pupils, or the guardians of its pupils.
    Class(String),
    /// Given accounts, by login.
    Logins(Vec<String>),
}

/// What a notification does to an **active** account's password (the others always get a
/// temporary one: they have no usable password yet). FAQ: an active account can be notified
/// with or without a reset; in bulk the reset defaults to off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivePasswords {
    Keep,
    Reset,
}

/// What a notification needs: the stores, the hasher, and the sessions a reset ends.
pub struct Notifier<'a> {
    pub directory: &'a dyn DirectoryStore,
    pub accounts: &'a dyn AccountStore,
    pub passwords: &'a PasswordHasher,
    pub sessions: &'a dyn Sessions,
}

/// One person notified: what their letter or message says.
pub struct Notified {
    pub target: NotificationTarget,
    /// `None`: an active account kept its password.
    pub password: Option<TemporaryPassword>,
}

/// Notifies `profile`'s accounts of `selection` in `uai`; their temporary passwords are valid
/// until `valid_until_ms`.
#[allow(clippy::too_many_arguments)] // each is one decision of the caller
pub async fn notify(
    actor: &Actor,
    notifier: &Notifier<'_>,
    uai: &Uai,
    profile: Profile,
    selection: &Selection,
    active: ActivePasswords,
    valid_until_ms: i64,
    now_ms: i64,
) -> Result<Vec<Notified>, OperationError> {
    actor.require(uai)?;
    if notifier
        .directory
        .establishment(uai.as_str())
        .await?
        .is_none()
    {
        return Err(OperationError::UnknownEstablishment(uai.clone()));
    }
    let targets = notifier
        .directory
        .notification_targets(uai.as_str(), profile)
        .await?;
    let chosen: Vec<NotificationTarget> = match selection {
        Selection::All => targets,
        Selection::Class(class) => targets.into_iter().filter(|t| in_class(t, class)).collect(),
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
    };
    let mut notified = Vec::with_capacity(chosen.len());
    for target in chosen {
        let keep = target.account.state == AccountState::Active && active == ActivePasswords::Keep;
        let password = if keep {
            None
        } else {
            let issued = lifecycle::issue_temporary_password(
                notifier.accounts,
                notifier.passwords,
                notifier.sessions,
                &target.account,
                valid_until_ms,
                now_ms,
            )
            .await
            .map_err(|e| match e {
                StateChangeError::Disabled { login } => OperationError::NotNotifiable(login),
                StateChangeError::Store(e) => OperationError::Internal(e),
            })?;
            Some(issued)
        };
        notified.push(Notified { target, password });
    }
    let record = NotificationRecord {
        id: crate::secrets::random_b64(12),
        uai: uai.as_str().to_owned(),
        actor: actor.label().to_owned(),
        profile,
        reset: active == ActivePasswords::Reset,
        account_ids: notified
            .iter()
            .map(|n| n.target.account.id.clone())
            .collect(),
        created_at: now_ms,
    };
    notifier.directory.record_notification(&record).await?;
    tracing::info!(actor = %actor, %uai, count = notified.len(), reset = record.reset, "accounts notified");
    Ok(notified)
}

/// A pupil of the class, or a guardian with a child in it.
fn in_class(target: &NotificationTarget, class: &str) -> bool {
    target.class.as_deref() == Some(class)
        || target
            .children
            .iter()
            .any(|c| c.class.as_deref() == Some(class))
}
