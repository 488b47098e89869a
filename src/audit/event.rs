//! What the audit trail records (the store exchanges these): the event, its action, its
//! outcome.

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
    /// A staff member disabled (can no longer sign in) or enabled again.
    StaffDisabled,
    StaffEnabled,
    /// A staff member's second factor forgotten: the next sign-in enrols a new one.
    StaffSecondFactorReset,
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
    // Delegations, journal and staff management (#16): what a refusal names as attempted
    // when a page was refused (its detail); the pages themselves are not recorded when shown.
    DelegationsRead,
    JournalRead,
    StaffRead,
    /// An account's page (what a refusal names as attempted).
    AccountRead,
    /// A staff member changed their own password.
    StaffPasswordChanged,
    // Families' self-service (#17).
    /// A forgotten password's link or code was sent to the account's confirmed contact.
    AccountRecoveryRequested,
    /// A forgotten password replaced through a link or a code.
    AccountPasswordRecovered,
    /// The account's identifier was sent to its confirmed contact.
    AccountIdentifierReminded,
    // Mon compte (#17): the person's own changes.
    AccountEmailChanged,
    AccountMobileChanged,
    AccountConsentRevoked,
    /// A guardian registered by SMS and their children's birth dates (issue #17).
    AccountSelfRegistered,
    // FranceConnect (#18): an upstream identity tied to the account, or the tie undone.
    AccountFranceConnectTied,
    AccountFranceConnectUntied,
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
            Action::StaffDisabled => "staff.disabled",
            Action::StaffEnabled => "staff.enabled",
            Action::StaffSecondFactorReset => "staff.second_factor_reset",
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
            // Delegations, journal and staff management (#16).
            Action::DelegationsRead => "delegations.read",
            Action::JournalRead => "journal.read",
            Action::StaffRead => "staff.read",
            Action::AccountRead => "account.read",
            Action::AccountEmailChanged => "account.email_changed",
            Action::AccountMobileChanged => "account.mobile_changed",
            Action::AccountConsentRevoked => "account.consent_revoked",
            Action::StaffPasswordChanged => "staff.password_changed",
            Action::AccountRecoveryRequested => "account.recovery_requested",
            Action::AccountPasswordRecovered => "account.password_recovered",
            Action::AccountIdentifierReminded => "account.identifier_reminded",
            Action::AccountSelfRegistered => "account.self_registered",
            Action::AccountFranceConnectTied => "account.franceconnect_tied",
            Action::AccountFranceConnectUntied => "account.franceconnect_untied",
        }
    }

    /// In French, for the journal page.
    pub fn label(name: &str) -> &'static str {
        match name {
            "account.sign_in" => "Connexion du compte",
            "account.password_changed" => "Mot de passe changé",
            "account.activated" => "Compte activé",
            "account.self_registered" => "Inscription par SMS",
            "account.franceconnect_tied" => "Identité FranceConnect rattachée",
            "account.franceconnect_untied" => "Rattachement FranceConnect défait",
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
            "staff.disabled" => "Personnel désactivé",
            "staff.enabled" => "Personnel réactivé",
            "staff.second_factor_reset" => "Second facteur réinitialisé",
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
            // Delegations, journal and staff management (#16).
            "delegations.read" => "Consultation des délégations",
            "journal.read" => "Consultation du journal",
            "account.read" => "Consultation d'un compte",
            "staff.password_changed" => "Mot de passe de gestion changé",
            "staff.read" => "Consultation des personnels",
            "account.recovery_requested" => "Mot de passe oublié : lien ou code envoyé",
            "account.password_recovered" => "Mot de passe oublié : nouveau mot de passe",
            "account.identifier_reminded" => "Identifiant oublié : identifiant envoyé",
            // Mon compte (#17).
            "account.email_changed" => "Adresse électronique changée (Mon compte)",
            "account.mobile_changed" => "Numéro de mobile changé (Mon compte)",
            "account.consent_revoked" => "Accès d'un service révoqué (Mon compte)",
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
