//! The back-office's staff: a directory of its own, apart from EduConnect accounts (never
//! offered to relying parties, never able to log in at the login page, absent from every
//! claim). A staff member has a password (argon2id) and a TOTP second factor (RFC 6238, the
//! "OTP key", `totp.rs`), and roles (`Role`) that become the grants of the `Actor` the
//! establishment operations check. Signing in is `signin.rs`; the back-office session
//! `session.rs`; creating staff and delegating `directory.rs`;
//! what the back-office's delegation and staff pages do with them `delegations.rs`.

pub mod delegations;
pub mod directory;
pub mod session;
pub mod signin;
pub mod totp;

use crate::establishments::{Actor, Grant, Right, Scope};
use crate::siecle::Uai;

/// A staff member, as stored (the password hash and the sealed TOTP secret stay in the store
/// layer's hands: `StaffStore::staff_credentials`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: String,
    /// Lower-case, as typed at sign-in.
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub state: StaffState,
    /// When the second factor was enrolled; `None` until the first sign-in enrols it.
    pub totp_enrolled_at: Option<i64>,
    pub created_at: i64,
}

impl Staff {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffState {
    Active,
    Disabled,
}

impl StaffState {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffState::Active => "active",
            StaffState::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<StaffState> {
        match value {
            "active" => Some(StaffState::Active),
            "disabled" => Some(StaffState::Disabled),
            _ => None,
        }
    }
}

/// What a staff member's password hash and second factor are, for signing in.
#[derive(Clone, Debug)]
pub struct StaffCredentials {
    pub staff: Staff,
    pub password_hash: String,
    /// The TOTP secret sealed with the key-encryption key (`totp::open`).
    pub totp_sealed: Option<String>,
}

/// The kind of a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    /// The *chef d'établissement*: everything over the establishment, delegations included.
    Head,
    /// The deputy: everything but delegating and reading the audit.
    Deputy,
    /// Someone the head designated (secretariat, ENT referent), with the rights granted.
    Delegate,
    /// A rectorat agent handling the assistance requests of an académie.
    Assistance,
    /// The national operators.
    Operator,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Head => "head",
            RoleKind::Deputy => "deputy",
            RoleKind::Delegate => "delegate",
            RoleKind::Assistance => "assistance",
            RoleKind::Operator => "operator",
        }
    }

    pub fn parse(value: &str) -> Option<RoleKind> {
        match value {
            "head" => Some(RoleKind::Head),
            "deputy" => Some(RoleKind::Deputy),
            "delegate" => Some(RoleKind::Delegate),
            "assistance" => Some(RoleKind::Assistance),
            "operator" => Some(RoleKind::Operator),
            _ => None,
        }
    }

    /// As the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            RoleKind::Head => "Chef d'établissement",
            RoleKind::Deputy => "Adjoint",
            RoleKind::Delegate => "Délégataire",
            RoleKind::Assistance => "Assistance académique",
            RoleKind::Operator => "Opérateur national",
        }
    }
}

/// Where a role applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleScope {
    Establishment(Uai),
    Academy(&'static str),
    National,
}

/// One role of a staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub staff_id: String,
    pub kind: RoleKind,
    pub scope: RoleScope,
    /// A delegate's rights (heads and deputies hold both).
    pub pupils: bool,
    pub guardians: bool,
    /// When a delegation ends (exclusive); `None`: until revoked.
    pub ends_at: Option<i64>,
    /// Who granted it: a staff login, or `cli`/an administration token's label.
    pub granted_by: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
}

impl Role {
    /// In force at `now_ms`: not revoked, not ended.
    pub fn live(&self, now_ms: i64) -> bool {
        self.revoked_at.is_none() && self.ends_at.is_none_or(|end| now_ms < end)
    }

    /// The rights this role gives, over its scope.
    pub fn grant(&self) -> Grant {
        let (scope, rights) = match (&self.kind, &self.scope) {
            (RoleKind::Operator, _) | (_, RoleScope::National) => {
                (Scope::National, crate::establishments::EVERY_RIGHT.to_vec())
            }
            (RoleKind::Assistance, RoleScope::Academy(academy)) => {
                (Scope::Academy(academy), vec![Right::View, Right::Assist])
            }
            (RoleKind::Assistance, RoleScope::Establishment(uai)) => (
                Scope::Establishment(uai.clone()),
                vec![Right::View, Right::Assist],
            ),
            (kind, RoleScope::Establishment(uai)) => {
                let mut rights = vec![Right::View, Right::FileRequest];
                match kind {
                    RoleKind::Head => rights.extend([
                        Right::Pupils,
                        Right::Guardians,
                        Right::Delegate,
                        Right::Audit,
                        Right::Import,
                    ]),
                    RoleKind::Deputy => {
                        rights.extend([Right::Pupils, Right::Guardians, Right::Import])
                    }
                    _ => {
                        if self.pupils {
                            rights.push(Right::Pupils);
                        }
                        if self.guardians {
                            rights.push(Right::Guardians);
                        }
                    }
                }
                (Scope::Establishment(uai.clone()), rights)
            }
            (_, RoleScope::Academy(academy)) => (Scope::Academy(academy), vec![Right::View]),
        };
        Grant { scope, rights }
    }
}

/// The actor a signed-in staff member acts as: the grants of their live roles, and whether
/// the second factor was presented in this sign-in.
pub fn actor(staff: &Staff, roles: &[Role], second_factor: bool, now_ms: i64) -> Actor {
    let grants = roles
        .iter()
        .filter(|r| r.live(now_ms))
        .map(Role::grant)
        .collect();
    Actor::staff(format!("staff:{}", staff.login), grants, second_factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(kind: RoleKind, pupils: bool, guardians: bool, ends_at: Option<i64>) -> Role {
        Role {
            id: "r".into(),
            staff_id: "s".into(),
            kind,
            scope: RoleScope::Establishment(Uai::parse("0750001U").unwrap()),
            pupils,
            guardians,
            ends_at,
            granted_by: "t".into(),
            granted_at: 0,
            revoked_at: None,
        }
    }

    fn staff() -> Staff {
        Staff {
            id: "s".into(),
            login: "p.durand".into(),
            given_name: "Paul".into(),
            family_name: "Durand".into(),
            email: "p@example.fr".into(),
            state: StaffState::Active,
            totp_enrolled_at: None,
            created_at: 0,
        }
    }

    #[test]
    fn a_delegate_holds_only_the_rights_granted_and_never_delegates() {
        let uai = Uai::parse("0750001U").unwrap();
        let pupils_only = actor(
            &staff(),
            &[role(RoleKind::Delegate, true, false, None)],
            true,
            0,
        );
        assert!(pupils_only.check(&uai, Right::Pupils).is_ok());
        assert!(pupils_only.check(&uai, Right::Guardians).is_err());
        assert!(pupils_only.check(&uai, Right::Delegate).is_err());
        let head = actor(
            &staff(),
            &[role(RoleKind::Head, false, false, None)],
            true,
            0,
        );
        assert!(head.check(&uai, Right::Delegate).is_ok());
        let deputy = actor(
            &staff(),
            &[role(RoleKind::Deputy, false, false, None)],
            true,
            0,
        );
        assert!(deputy.check(&uai, Right::Guardians).is_ok());
        assert!(deputy.check(&uai, Right::Delegate).is_err());
    }

    #[test]
    fn an_ended_or_revoked_role_gives_nothing() {
        let uai = Uai::parse("0750001U").unwrap();
        let ended = role(RoleKind::Delegate, true, true, Some(1_000));
        assert!(actor(&staff(), std::slice::from_ref(&ended), true, 999)
            .check(&uai, Right::Pupils)
            .is_ok());
        assert!(actor(&staff(), &[ended], true, 1_000)
            .check(&uai, Right::View)
            .is_err());
        let mut revoked = role(RoleKind::Head, false, false, None);
        revoked.revoked_at = Some(5);
        assert!(actor(&staff(), &[revoked], true, 10)
            .check(&uai, Right::View)
            .is_err());
    }
}
