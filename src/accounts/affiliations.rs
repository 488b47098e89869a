//! Where an account belongs: for a pupil, their national number and the establishments they are
//! enrolled in; for a guardian or person in charge, how each establishment records them and
//! their children. Read to build the claims (`docs/claims.md`); written by the Siècle import.

/// Everything current: enrolments a pupil left and records an establishment dropped are not here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Affiliations {
    /// The INE, for a pupil.
    pub ine: Option<String>,
    pub enrolments: Vec<Enrolment>,
    /// A guardian as each establishment records them.
    pub records: Vec<PersonRecord>,
    pub children: Vec<Child>,
}

/// A pupil in one establishment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub uai: String,
    /// Siècle `ELEVE_ID`.
    pub eleve_id: String,
    /// The class.
    pub division: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRecord {
    pub uai: String,
    pub family_name: String,
    pub given_name: String,
}

/// A child of a guardian, in one of the child's establishments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Child {
    pub account_id: String,
    pub given_name: String,
    pub family_name: String,
    pub enrolment: Enrolment,
    /// Legal guardian (`RESP_LEGAL` 1 or 2, or attached by hand with proof), rather than another
    /// person in charge.
    pub legal: bool,
    /// The guardian's names as the child's establishment records them (ENTs match on these).
    pub guardian_family_name: String,
    pub guardian_given_name: String,
}

impl Affiliations {
    /// Establishments the person belongs to, each once, in a stable order.
    pub fn establishments(&self) -> Vec<&str> {
        let mut uais: Vec<&str> = self
            .enrolments
            .iter()
            .map(|e| e.uai.as_str())
            .chain(self.records.iter().map(|r| r.uai.as_str()))
            .collect();
        uais.sort_unstable();
        uais.dedup();
        uais
    }
}
