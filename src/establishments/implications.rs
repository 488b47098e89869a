//! What notifying guardians in bulk implies, said before anything is written (issue #15:
//! "choosing to notify guardians in bulk shows what it implies"): how many accounts, whether
//! active ones get a new password (only if asked: the reset defaults to off), and how many
//! guardians also have children in other establishments, which may each send them a letter.

use serde::Serialize;

use super::model::{ActivePasswords, NotificationTarget, Request, Selection};
use crate::accounts::{AccountState, Profile};

/// The implications of notifying guardians (or persons in charge) of a class, a level or all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BulkGuardians {
    /// Accounts notified.
    pub accounts: usize,
    /// Of them, accounts already active.
    pub active: usize,
    /// Whether those active accounts' passwords are reset.
    pub reset: bool,
    /// Guardians with children in other establishments too: each establishment notifies
    /// them, so they may receive several letters.
    pub in_several_establishments: usize,
    /// All of the above, in French, for the person who asked.
    pub message: String,
}

/// `None` unless guardians are chosen in bulk (a class, a level, all): given logins are a
/// choice made one by one.
pub fn bulk_guardians(request: &Request, targets: &[NotificationTarget]) -> Option<BulkGuardians> {
    if request.profile == Profile::Pupil || matches!(request.selection, Selection::Logins(_)) {
        return None;
    }
    let accounts = targets.len();
    let active = targets
        .iter()
        .filter(|t| t.account.state == AccountState::Active)
        .count();
    let reset = request.active == ActivePasswords::Reset;
    let in_several_establishments = targets.iter().filter(|t| t.establishments > 1).count();
    let mut message = format!("{accounts} compte(s) de responsables seront notifiés. ");
    message += &match (active, reset) {
        (0, _) => "Aucun n'est encore activé : chacun reçoit un mot de passe provisoire. ".into(),
        (n, true) => format!(
            "{n} compte(s) déjà activé(s) recevront un nouveau mot de passe provisoire : leur \
             mot de passe actuel cessera de fonctionner et leurs sessions seront fermées. "
        ),
        (n, false) => format!(
            "{n} compte(s) déjà activé(s) gardent leur mot de passe (la réinitialisation \
             n'est pas demandée) ; les autres reçoivent un mot de passe provisoire. "
        ),
    };
    message += &match in_several_establishments {
        0 => "Aucun n'a d'enfant dans un autre établissement.".to_owned(),
        n => format!(
            "{n} responsable(s) ont aussi des enfants dans d'autres établissements : ils peuvent \
             recevoir plusieurs courriers, un par établissement."
        ),
    };
    Some(BulkGuardians {
        accounts,
        active,
        reset,
        in_several_establishments,
        message,
    })
}
