//! Who performs an establishment operation, and with what rights over which establishments.
//! Every operation checks the actor's right itself before it reads or writes anything of an
//! establishment; the label names the actor in the logs and in the audit trail.

use std::fmt;

use super::OperationError;
use crate::accounts::Profile;
use crate::siecle::Uai;

/// The establishments an actor may act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every establishment: the national administration (today's administration tokens; the
    /// `operator` role of the back-office).
    National,
    /// The establishments of one académie (the back-office's `assistance`), as `Uai::academy`
    /// names it.
    Academy(&'static str),
    /// One establishment (its head, deputy and delegates in the back-office).
    Establishment(Uai),
}

impl Scope {
    /// The académie of an establishment, as a scope; `None` for a UAI of no département.
    pub fn academy_of(uai: &Uai) -> Option<Scope> {
        uai.academy().map(Scope::Academy)
    }

    pub fn covers(&self, uai: &Uai) -> bool {
        match self {
            Scope::National => true,
            Scope::Academy(academy) => uai.academy() == Some(*academy),
            Scope::Establishment(own) => own == uai,
        }
    }
}

/// What an actor may do within a scope. Each establishment operation names the right it needs
/// and checks it itself (`Actor::require`), so a page that hides a button is never the only
/// guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Right {
    /// See the establishment: its dashboard, notices, imports, the account list.
    View,
    /// Administer pupil accounts (*Dépannage élève*): notify, new temporary password, disable
    /// or enable, unblock, attachment codes. A password sign-in is enough.
    Pupils,
    /// Administer guardian accounts: the same over guardians, correcting their contact details,
    /// confirming or declining link candidates, the identifiers file. Needs the second factor.
    Guardians,
    /// Grant and revoke delegations (heads). Needs the second factor.
    Delegate,
    /// Read the audit trail of the establishment (heads, operators). Needs the second factor.
    Audit,
    /// Import a Siècle export, name the establishment.
    Import,
    /// File an assistance request for the establishment (whoever administers its accounts).
    FileRequest,
    /// Handle the assistance requests of the scope (the académie's `assistance` agents).
    Assist,
    /// Create and disable staff, give heads and deputies their roles (operators). Needs the
    /// second factor.
    Staff,
}

impl Right {
    /// Rights that a password alone does not open: the "ODA/OTP key" is asked for first.
    pub fn needs_second_factor(self) -> bool {
        matches!(
            self,
            Right::Guardians | Right::Delegate | Right::Audit | Right::Staff
        )
    }

    /// The right over accounts of `profile`: pupils', or guardians' (and persons in charge).
    pub fn over(profile: Profile) -> Right {
        match profile {
            Profile::Pupil => Right::Pupils,
            _ => Right::Guardians,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Right::View => "view",
            Right::Pupils => "pupils",
            Right::Guardians => "guardians",
            Right::Delegate => "delegate",
            Right::Audit => "audit",
            Right::Import => "import",
            Right::FileRequest => "file_request",
            Right::Assist => "assist",
            Right::Staff => "staff",
        }
    }
}

/// Some rights over one scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub scope: Scope,
    pub rights: Vec<Right>,
}

/// Who acts, and over what.
#[derive(Clone, Debug)]
pub struct Actor {
    label: String,
    grants: Vec<Grant>,
    /// The second factor was presented in this sign-in (or the actor is a machine holding a
    /// national token, which is its own strong credential).
    second_factor: bool,
    /// Where the request came from, for the audit trail.
    address: Option<String>,
}

/// Every right there is: what `Actor::new` gives over its scope.
pub const EVERY_RIGHT: [Right; 9] = [
    Right::View,
    Right::Pupils,
    Right::Guardians,
    Right::Delegate,
    Right::Audit,
    Right::Import,
    Right::FileRequest,
    Right::Assist,
    Right::Staff,
];

/// Why an actor may not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing in the actor's grants opens it.
    OutOfScope,
    /// A grant opens it, once the second factor is presented (a step-up).
    SecondFactor,
}

impl Actor {
    /// An actor with every right over `scope`, second factor included: the national
    /// administration tokens and the CLI (operators), and tests. `label` names the actor in
    /// logs and in the audit trail: never a secret (a token's digest prefix, a staff login).
    pub fn new(label: impl Into<String>, scope: Scope) -> Actor {
        Actor {
            label: label.into(),
            grants: vec![Grant {
                scope,
                rights: EVERY_RIGHT.to_vec(),
            }],
            second_factor: true,
            address: None,
        }
    }

    /// A staff member signed in to the back-office, with the grants of their live roles.
    pub fn staff(label: impl Into<String>, grants: Vec<Grant>, second_factor: bool) -> Actor {
        Actor {
            label: label.into(),
            grants,
            second_factor,
            address: None,
        }
    }

    /// The same actor, acting from `address` (recorded in the audit trail).
    pub fn from_address(mut self, address: impl Into<String>) -> Actor {
        self.address = Some(address.into());
        self
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    pub fn second_factor(&self) -> bool {
        self.second_factor
    }

    /// Whether the actor holds `right` over this establishment, and if not, why.
    pub fn check(&self, uai: &Uai, right: Right) -> Result<(), Refusal> {
        let granted = self
            .grants
            .iter()
            .any(|g| g.scope.covers(uai) && g.rights.contains(&right));
        if !granted {
            Err(Refusal::OutOfScope)
        } else if right.needs_second_factor() && !self.second_factor {
            Err(Refusal::SecondFactor)
        } else {
            Ok(())
        }
    }

    /// Whether the actor holds `right` somewhere (a menu entry, the académie's queue).
    pub fn holds(&self, right: Right) -> bool {
        self.grants.iter().any(|g| g.rights.contains(&right))
    }

    /// Whether the actor holds `right` nationally.
    pub fn holds_nationally(&self, right: Right) -> bool {
        self.grants
            .iter()
            .any(|g| g.scope == Scope::National && g.rights.contains(&right))
    }

    /// The scopes over which the actor holds `right`.
    pub fn scopes(&self, right: Right) -> impl Iterator<Item = &Scope> {
        self.grants
            .iter()
            .filter(move |g| g.rights.contains(&right))
            .map(|g| &g.scope)
    }

    /// The actor holds `right` over this establishment.
    pub fn require(&self, uai: &Uai, right: Right) -> Result<(), OperationError> {
        self.check(uai, right)
            .map_err(|refusal| self.refusal(refusal, right))
    }

    /// Whether a grant gives `right` over a UAI as the store returns it (valid once imported),
    /// the second factor aside (`require_strong` checks it).
    pub(super) fn grants_stored(&self, uai: &str, right: Right) -> bool {
        Uai::parse(uai).is_ok_and(|uai| {
            self.grants
                .iter()
                .any(|g| g.scope.covers(&uai) && g.rights.contains(&right))
        })
    }

    /// The second factor, when `right` needs it: for operations that find the establishment
    /// from the accounts they touch (`grants_stored`).
    pub(super) fn require_strong(&self, right: Right) -> Result<(), OperationError> {
        if right.needs_second_factor() && !self.second_factor {
            Err(self.refusal(Refusal::SecondFactor, right))
        } else {
            Ok(())
        }
    }

    /// The actor holds `right` nationally (what concerns no single establishment).
    pub fn require_national(&self, right: Right) -> Result<(), OperationError> {
        if !self.holds_nationally(right) {
            Err(self.refusal(Refusal::OutOfScope, right))
        } else if right.needs_second_factor() && !self.second_factor {
            Err(self.refusal(Refusal::SecondFactor, right))
        } else {
            Ok(())
        }
    }

    /// What is outside the actor's rights, whatever it is.
    pub(super) fn refused(&self) -> OperationError {
        self.refusal(Refusal::OutOfScope, Right::View)
    }

    fn refusal(&self, refusal: Refusal, right: Right) -> OperationError {
        match refusal {
            Refusal::OutOfScope => {
                tracing::warn!(actor = %self, right = right.as_str(), "establishment operation outside the actor's rights");
                OperationError::OutOfScope
            }
            Refusal::SecondFactor => OperationError::SecondFactorRequired,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uai(code: &str) -> Uai {
        Uai::parse(code).unwrap()
    }

    #[test]
    fn an_establishment_scope_covers_its_own_uai_only() {
        let own = Scope::Establishment(uai("0750001U"));
        assert!(own.covers(&uai("0750001U")));
        assert!(!own.covers(&uai("0750002V")));
        assert!(Scope::National.covers(&uai("0750002V")));
    }

    #[test]
    fn an_academy_scope_covers_the_establishments_of_its_departements() {
        let paris = Scope::academy_of(&uai("0750001U")).unwrap();
        assert_eq!(paris, Scope::Academy("Paris"));
        assert!(paris.covers(&uai("0750002V")));
        let lille = Scope::academy_of(&uai("0590001F")).unwrap();
        assert!(!paris.covers(&uai("0590001F")));
        assert!(lille.covers(&uai("0620001P")));
        // A UAI of no département belongs to no académie.
        assert!(Scope::academy_of(&uai("2530829B")).is_none());
        assert!(!paris.covers(&uai("2530829B")));
    }
}

#[cfg(test)]
mod right_tests {
    use super::*;

    #[test]
    fn a_right_needing_the_second_factor_is_refused_as_such_without_it() {
        let uai = Uai::parse("0750001U").unwrap();
        let grants = vec![Grant {
            scope: Scope::Establishment(uai.clone()),
            rights: vec![Right::View, Right::Pupils, Right::Guardians],
        }];
        let password_only = Actor::staff("s", grants.clone(), false);
        assert_eq!(password_only.check(&uai, Right::Pupils), Ok(()));
        assert_eq!(
            password_only.check(&uai, Right::Guardians),
            Err(Refusal::SecondFactor)
        );
        assert_eq!(
            password_only.check(&uai, Right::Delegate),
            Err(Refusal::OutOfScope)
        );
        let strong = Actor::staff("s", grants, true);
        assert_eq!(strong.check(&uai, Right::Guardians), Ok(()));
        let elsewhere = Uai::parse("0750002V").unwrap();
        assert_eq!(
            strong.check(&elsewhere, Right::View),
            Err(Refusal::OutOfScope)
        );
    }
}
