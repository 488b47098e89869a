//! Who performs an establishment operation, and over what. Every operation checks the actor's
//! scope itself before it reads or writes anything of an establishment; the label names the
//! actor in the logs (and, later, in the audit records).

use std::fmt;

use super::OperationError;
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

    /// `covers` for a UAI as the store returns it (valid once imported).
    pub(super) fn covers_stored(&self, uai: &str) -> bool {
        Uai::parse(uai).is_ok_and(|uai| self.covers(&uai))
    }
}

/// Who acts, and over what.
#[derive(Clone, Debug)]
pub struct Actor {
    label: String,
    scope: Scope,
}

impl Actor {
    /// `label` names the actor in logs: never a secret (a token's digest prefix, a staff id).
    pub fn new(label: impl Into<String>, scope: Scope) -> Actor {
        Actor {
            label: label.into(),
            scope,
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The actor may act on this establishment.
    pub(super) fn require(&self, uai: &Uai) -> Result<(), OperationError> {
        if self.scope.covers(uai) {
            Ok(())
        } else {
            Err(self.refused())
        }
    }

    /// What is outside the actor's scope, whatever it is.
    pub(super) fn refused(&self) -> OperationError {
        tracing::warn!(actor = %self, "establishment operation outside the actor's scope");
        OperationError::OutOfScope
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
