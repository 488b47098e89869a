//! What the store answers about an establishment's accounts for the back-office (records only:
//! the store imports this file; nothing here reads the store).

use crate::accounts::Account;

/// An account an establishment currently records: one of its pupils (enrolled), or a guardian
/// or person in charge of one of its records. Disabled accounts included (the back-office
/// enables them again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EstablishmentAccount {
    pub account: Account,
    /// A pupil's class there; a guardian's children's classes there, sorted, each once.
    pub classes: Vec<String>,
}

/// A guardian (or person in charge) of a pupil, as one of the pupil's establishments records
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PupilGuardian {
    pub account_id: String,
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub profile: crate::accounts::Profile,
    /// The establishment whose record links them.
    pub uai: String,
    /// A legal guardian (`RESP_LEGAL` 1 or 2), rather than another person in charge.
    pub legal: bool,
}
