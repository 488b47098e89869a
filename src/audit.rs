//! The audit trail: every back-office action and every security event of an account (sign-ins
//! and their failures, password changes, resets, notifications, delegations), in the durable
//! store — who, on whom, what, when, from where, with what outcome. Read by the head for their
//! establishment and by operators (`establishments::audit`); purged after
//! `backoffice.audit_retention_days` by the purge job (`maintenance`). Never a secret in it:
//! no password, no code, no token.

use crate::store::AuditStore;

/// What happened. The names are stable: they are stored and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// An account signed in at the login page (`outcome`: ok or failed).
    AccountSignIn,
    AccountPasswordChanged,
    AccountActivated,
    /// A temporary password issued (a letter or an e-mail of notification).
    AccountNotified,
    AccountDisabled,
    AccountEnabled,
    AccountContactCorrected,
    AccountUnblocked,
    StaffSignIn,
    StaffSecondFactor,
    StaffSecondFactorEnrolled,
    StaffSignOut,
    StaffCreated,
    RoleGranted,
    RoleRevoked,
    DelegationGranted,
    DelegationRevoked,
    CandidateResolved,
    IdentifiersFile,
    Import,
    AssistanceFiled,
    AssistanceUpdated,
    /// A back-office operation refused (outside the actor's rights).
    Refused,
    // The establishment's accounts (back-office, #16).
    /// An attachment code issued for a pupil (never the code).
    AttachmentCodeIssued,
    /// An establishment notice marked read.
    NoticeRead,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::AccountSignIn => "account.sign_in",
            Action::AccountPasswordChanged => "account.password_changed",
            Action::AccountActivated => "account.activated",
            Action::AccountNotified => "account.notified",
            Action::AccountDisabled => "account.disabled",
            Action::AccountEnabled => "account.enabled",
            Action::AccountContactCorrected => "account.contact_corrected",
            Action::AccountUnblocked => "account.unblocked",
            Action::StaffSignIn => "staff.sign_in",
            Action::StaffSecondFactor => "staff.second_factor",
            Action::StaffSecondFactorEnrolled => "staff.second_factor_enrolled",
            Action::StaffSignOut => "staff.sign_out",
            Action::StaffCreated => "staff.created",
            Action::RoleGranted => "staff.role_granted",
            Action::RoleRevoked => "staff.role_revoked",
            Action::DelegationGranted => "delegation.granted",
            Action::DelegationRevoked => "delegation.revoked",
            Action::CandidateResolved => "candidate.resolved",
            Action::IdentifiersFile => "identifiers.file",
            Action::Import => "siecle.import",
            Action::AssistanceFiled => "assistance.filed",
            Action::AssistanceUpdated => "assistance.updated",
            Action::Refused => "refused",
            // The establishment's accounts (back-office, #16).
            Action::AttachmentCodeIssued => "account.attachment_code",
            Action::NoticeRead => "notice.read",
        }
    }

    /// In French, for the journal page.
    pub fn label(name: &str) -> &'static str {
        match name {
            "account.sign_in" => "Connexion du compte",
            "account.password_changed" => "Mot de passe changé",
            "account.activated" => "Compte activé",
            "account.notified" => "Notification (mot de passe provisoire)",
            "account.disabled" => "Compte désactivé",
            "account.enabled" => "Compte réactivé",
            "account.contact_corrected" => "Coordonnées corrigées",
            "account.unblocked" => "Connexion débloquée",
            "staff.sign_in" => "Connexion à la gestion",
            "staff.second_factor" => "Second facteur présenté",
            "staff.second_factor_enrolled" => "Second facteur enrôlé",
            "staff.sign_out" => "Déconnexion de la gestion",
            "staff.created" => "Personnel créé",
            "staff.role_granted" => "Rôle attribué",
            "staff.role_revoked" => "Rôle retiré",
            "delegation.granted" => "Délégation accordée",
            "delegation.revoked" => "Délégation retirée",
            "candidate.resolved" => "Rapprochement traité",
            "identifiers.file" => "Fichier des identifiants",
            "siecle.import" => "Import Siècle",
            "assistance.filed" => "Demande d'assistance déposée",
            "assistance.updated" => "Demande d'assistance mise à jour",
            "refused" => "Opération refusée",
            // The establishment's accounts (back-office, #16).
            "account.attachment_code" => "Code de rattachement émis",
            "notice.read" => "Notification lue",
            _ => "Autre",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Wrong password or code, throttled.
    Failed,
    /// Outside the actor's rights.
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
        }
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub at: i64,
    /// `staff:<login>`, `admin-token:<digest prefix>`, `account:<id>`, `cli`.
    pub actor: String,
    pub action: String,
    /// `account:<id>`, `staff:<id>`, `request:<id>`.
    pub subject: Option<String>,
    pub uai: Option<String>,
    pub address: Option<String>,
    pub outcome: String,
    /// What else tells the event apart (a carrier, the rights granted); never a secret.
    pub detail: Option<String>,
}

impl Event {
    pub fn new(actor: &str, action: Action, outcome: Outcome, at: i64) -> Event {
        Event {
            id: crate::accounts::new_account_id(at),
            at,
            actor: actor.to_owned(),
            action: action.as_str().to_owned(),
            subject: None,
            uai: None,
            address: None,
            outcome: outcome.as_str().to_owned(),
            detail: None,
        }
    }

    pub fn on_account(mut self, account_id: &str) -> Event {
        self.subject = Some(format!("account:{account_id}"));
        self
    }

    pub fn on(mut self, subject: impl Into<String>) -> Event {
        self.subject = Some(subject.into());
        self
    }

    pub fn at_establishment(mut self, uai: &str) -> Event {
        self.uai = Some(uai.to_owned());
        self
    }

    pub fn from_address(mut self, address: Option<&str>) -> Event {
        self.address = address.map(str::to_owned);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = Some(detail.into());
        self
    }
}

/// Records `event`. A failure to record is logged, never hidden, and never undoes what was
/// done (the action happened; the log line names it).
pub async fn record(store: &dyn AuditStore, event: Event) {
    if let Err(error) = store.record_event(&event).await {
        tracing::error!(%error, action = %event.action, actor = %event.actor, "audit event not recorded");
    }
}

/// Records what an actor did: the actor's label and address.
pub async fn record_by(store: &dyn AuditStore, actor: &crate::establishments::Actor, event: Event) {
    let event = Event {
        actor: actor.label().to_owned(),
        address: event.address.or_else(|| actor.address().map(str::to_owned)),
        ..event
    };
    record(store, event).await
}
