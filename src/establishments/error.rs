//! Why an establishment operation was not carried out. Typed, so that a caller (the
//! administration API today, the back-office next) chooses its answer by variant, never by
//! comparing messages; the messages are French, for people.

use crate::provisioning::UploadError;
use crate::siecle::{Ine, Uai};

#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    /// The establishment, pupil or candidate lies outside the actor's scope. To a scoped actor,
    /// what does not exist looks the same (nothing is learned outside the scope).
    #[error("cette opération sort du périmètre qui vous est attribué")]
    OutOfScope,
    /// The actor holds the right once the second factor is presented (a step-up): the
    /// back-office asks for it, the API answers 403.
    #[error("cette opération demande votre second facteur d'authentification (clé OTP)")]
    SecondFactorRequired,
    #[error("l'établissement {0} n'a jamais été importé")]
    UnknownEstablishment(Uai),
    #[error("nom d'établissement attendu : 1 à 200 caractères, sans caractère de contrôle")]
    InvalidName,
    #[error("pas de notification {id} pour l'établissement {uai}")]
    UnknownNotice { uai: Uai, id: String },
    #[error("pas de rapprochement en attente entre ces deux comptes")]
    NoOpenCandidate,
    #[error("aucun élève d'INE {0}")]
    UnknownPupil(Ine),
    /// A login asked for is not among the establishment's pupils or guardians (or is disabled).
    #[error("le compte {0} ne fait pas partie des comptes que cet établissement peut notifier")]
    NotNotifiable(String),
    /// A staff member's details refused (the message says which and why).
    #[error("{0}")]
    InvalidStaff(String),
    #[error("l'identifiant {0} est déjà pris")]
    StaffLoginTaken(String),
    #[error("aucun personnel d'identifiant {0}")]
    UnknownStaff(String),
    #[error("pas de rôle en vigueur sous cet identifiant")]
    UnknownRole,
    // The establishment's accounts (back-office, #16).
    #[error("adresse électronique invalide : indiquez une adresse de la forme prenom.nom@exemple.fr, ou laissez le champ vide")]
    InvalidEmail,
    #[error("numéro de téléphone invalide : 10 chiffres commençant par 0 (06 12 34 56 78), ou un numéro international commençant par +, ou laissez le champ vide")]
    InvalidPhone,
    #[error("cette opération ne concerne que les comptes des représentants légaux")]
    NotAGuardian,
    #[error("cette opération ne concerne que les comptes des élèves")]
    NotAPupil,
    /// An account asked for by login is unknown, or is not among the establishment's pupils
    /// and guardians: the two answer the same.
    #[error("aucun compte d'identifiant {0} parmi les élèves et représentants légaux de l'établissement")]
    UnknownAccount(String),
    // Assistance requests (`crate::assistance`):
    /// A request's details refused: `field` says which (the form marks it), the message why.
    #[error("{message}")]
    InvalidAssistance {
        field: crate::assistance::model::Field,
        message: String,
    },
    /// No such request, to an actor who may read every request (to the others, a request they
    /// may not read and one that does not exist are both `OutOfScope`).
    #[error("aucune demande d'assistance {0}")]
    UnknownAssistance(String),
    /// The request changed status since the page was shown (two agents at once).
    #[error("la demande a changé de statut entre-temps : rechargez la page et recommencez")]
    AssistanceChanged,
    /// An upload turned away or interrupted (nothing written).
    #[error("envoi non traité")]
    Upload(UploadError),
    #[error("erreur interne")]
    Internal(#[from] anyhow::Error),
}

impl From<UploadError> for OperationError {
    fn from(error: UploadError) -> OperationError {
        match error {
            UploadError::Internal(error) => OperationError::Internal(error),
            other => OperationError::Upload(other),
        }
    }
}
