//! What the delegation and staff pages (and their API) do, over `directory.rs`: the head sees
//! the establishment's staff and designates a delegate — someone already in the directory, or
//! a new staff member created on the spot — with the rights granted and an optional end date,
//! and revokes delegations (`Right::Delegate`); operators list every staff member with their
//! roles (`Right::Staff`). Each function checks its right first and writes a refusal to the
//! audit trail.

use super::directory::{self, Directory, NewStaff, RoleRequest};
use super::{Role, RoleKind, RoleScope, Staff};
use crate::audit::{self, Action};
use crate::establishments::{Actor, OperationError, Right};
use crate::secrets::Secret;
use crate::siecle::{Date, Uai};

/// Staff members listed on the operators' page.
pub const STAFF_LIST: i64 = 500;

/// Who is designated.
#[derive(Clone, Debug)]
pub enum Designee {
    /// A staff member already in the directory, by login.
    Existing(String),
    /// A new staff member, created with the delegation.
    New(NewStaff),
}

/// A delegation to grant.
#[derive(Clone, Debug)]
pub struct Designation {
    pub designee: Designee,
    pub pupils: bool,
    pub guardians: bool,
    /// When it ends (exclusive, epoch ms); `None`: until revoked.
    pub ends_at: Option<i64>,
}

/// A delegation granted: to whom, the role, and for a new staff member their initial password
/// (shown once).
#[derive(Debug)]
pub struct Designated {
    pub staff: Staff,
    pub role: Role,
    pub initial_password: Option<Secret>,
}

/// The staff of the establishment and their roles never revoked (ended delegations included),
/// for its head.
pub async fn delegations(
    actor: &Actor,
    directory: &Directory<'_>,
    uai: &Uai,
    now_ms: i64,
) -> Result<Vec<(Role, Staff)>, OperationError> {
    match directory::establishment_staff(actor, directory, uai).await {
        Err(error @ OperationError::OutOfScope) => {
            let subject = format!("establishment:{uai}");
            let read = Action::DelegationsRead.as_str();
            let (subject, uai) = (Some(subject.as_str()), Some(uai.as_str()));
            audit::refused(directory.audit, actor, read, subject, uai, &error, now_ms).await;
            Err(error)
        }
        other => other,
    }
}

/// Designates a delegate at the establishment. The rights and the end date are checked before
/// anything is written (a new staff member is never left without the delegation they were
/// created for); a staff member who already holds a delegation in force there keeps it, and
/// this one is refused (revoke it first).
pub async fn designate(
    actor: &Actor,
    directory: &Directory<'_>,
    uai: &Uai,
    designation: &Designation,
    now_ms: i64,
) -> Result<Designated, OperationError> {
    if let Err(error) = actor.require(uai, Right::Delegate) {
        let subject = match &designation.designee {
            Designee::Existing(login) => format!("staff-login:{login}"),
            Designee::New(new) => format!("staff-login:{}", new.login),
        };
        let granted = Action::DelegationGranted.as_str();
        let (subject, uai) = (Some(subject.as_str()), Some(uai.as_str()));
        audit::refused(
            directory.audit,
            actor,
            granted,
            subject,
            uai,
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    if !designation.pupils && !designation.guardians {
        return Err(invalid(
            "une délégation donne au moins un droit : comptes élèves ou comptes représentants légaux",
        ));
    }
    if designation.ends_at.is_some_and(|end| end <= now_ms) {
        return Err(invalid("la date de fin d'une délégation est à venir"));
    }
    let request = RoleRequest {
        pupils: designation.pupils,
        guardians: designation.guardians,
        ends_at: designation.ends_at,
        ..RoleRequest::at(RoleKind::Delegate, uai.clone())
    };
    match &designation.designee {
        Designee::Existing(login) => {
            let login = super::signin::normalize(login);
            let Some(staff) = directory
                .staff
                .staff_credentials(&login)
                .await?
                .map(|c| c.staff)
            else {
                return Err(OperationError::UnknownStaff(login));
            };
            let roles = directory.staff.roles_of(&staff.id).await?;
            let here = RoleScope::Establishment(uai.clone());
            if roles
                .iter()
                .any(|r| r.kind == RoleKind::Delegate && r.scope == here && r.live(now_ms))
            {
                return Err(invalid(&format!(
                    "{} a déjà une délégation en vigueur dans l'établissement : retirez-la d'abord",
                    staff.login
                )));
            }
            let role = directory::grant_role(actor, directory, &login, &request, now_ms).await?;
            Ok(Designated {
                staff,
                role,
                initial_password: None,
            })
        }
        Designee::New(new) => {
            let (staff, password) =
                directory::add_staff(actor, directory, new, &request, now_ms).await?;
            let role = directory
                .staff
                .roles_of(&staff.id)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    anyhow::anyhow!("the delegation of a new staff member is missing")
                })?;
            Ok(Designated {
                staff,
                role,
                initial_password: Some(password),
            })
        }
    }
}

/// Revokes a delegation of the establishment (from its delegations page): a role elsewhere is
/// unknown here, and a role that is not a delegation (the head's own) stays, refused by
/// `directory::revoke_role` to whoever is not an operator.
pub async fn revoke_delegation(
    actor: &Actor,
    directory: &Directory<'_>,
    uai: &Uai,
    role_id: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    if let Err(error) = actor.require(uai, Right::Delegate) {
        let revoked = Action::DelegationRevoked.as_str();
        let subject = format!("role:{role_id}");
        let (subject, uai) = (Some(subject.as_str()), Some(uai.as_str()));
        audit::refused(
            directory.audit,
            actor,
            revoked,
            subject,
            uai,
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    let role = directory.staff.role(role_id).await?;
    if role.is_none_or(|r| r.scope != RoleScope::Establishment(uai.clone())) {
        return Err(OperationError::UnknownRole);
    }
    directory::revoke_role(actor, directory, role_id, now_ms).await
}

/// Every staff member (the first `STAFF_LIST`, by name) with their roles never revoked, for
/// the operators.
pub async fn staff_overview(
    actor: &Actor,
    directory: &Directory<'_>,
    now_ms: i64,
) -> Result<Vec<(Staff, Vec<Role>)>, OperationError> {
    if let Err(error) = actor.require_national(Right::Staff) {
        if matches!(error, OperationError::OutOfScope) {
            let read = Action::StaffRead.as_str();
            audit::refused(
                directory.audit,
                actor,
                read,
                Some("staff"),
                None,
                &error,
                now_ms,
            )
            .await;
        }
        return Err(error);
    }
    let mut listed = Vec::new();
    for staff in directory.staff.staff_list(STAFF_LIST).await? {
        let roles = directory
            .staff
            .roles_of(&staff.id)
            .await?
            .into_iter()
            .filter(|r| r.revoked_at.is_none())
            .collect();
        listed.push((staff, roles));
    }
    Ok(listed)
}

/// The role an operator gives: a head or deputy of an establishment, an assistance agent of an
/// académie, an operator. Delegations are the head's (`designate`).
pub fn staff_role(
    kind: RoleKind,
    uai: Option<Uai>,
    academy: Option<&'static str>,
) -> Result<RoleRequest, OperationError> {
    match (kind, uai, academy) {
        (RoleKind::Head | RoleKind::Deputy, Some(uai), _) => Ok(RoleRequest::at(kind, uai)),
        (RoleKind::Head | RoleKind::Deputy, None, _) => Err(invalid(
            "un chef d'établissement ou un adjoint est désigné pour une UAI",
        )),
        (RoleKind::Assistance, _, Some(academy)) => Ok(RoleRequest {
            kind,
            scope: RoleScope::Academy(academy),
            pupils: false,
            guardians: false,
            ends_at: None,
        }),
        (RoleKind::Assistance, _, None) => Err(invalid(
            "un agent d'assistance est désigné pour une académie",
        )),
        (RoleKind::Operator, _, _) => Ok(RoleRequest {
            kind,
            scope: RoleScope::National,
            pupils: false,
            guardians: false,
            ends_at: None,
        }),
        (RoleKind::Delegate, _, _) => Err(invalid(
            "une délégation est accordée par le chef d'établissement (page Délégations)",
        )),
    }
}

/// A date as `<input type="date">` sends it (`2026-07-04`).
pub fn parse_day(value: &str) -> Option<Date> {
    let mut parts = value.trim().split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    Date::parse_french(&format!("{day}/{month}/{year}"))
}

/// The start of `date`, UTC, in epoch ms: a delegation "until" a day ends as that day begins.
pub fn day_start_ms(date: Date) -> i64 {
    // H. Hinnant's days_from_civil, the inverse of `Date::from_epoch_ms`.
    let (month, day) = (i64::from(date.month), i64::from(date.day));
    let year = i64::from(date.year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

fn invalid(message: &str) -> OperationError {
    OperationError::InvalidStaff(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_midnight_utc_and_reads_back_as_the_same_date() {
        let date = parse_day("2026-07-04").unwrap();
        let start = day_start_ms(date);
        assert_eq!(start, 1_783_123_200_000);
        assert_eq!(Date::from_epoch_ms(start), date);
        assert_eq!(Date::from_epoch_ms(start - 1).day, 3);
        for day in ["2024-02-29", "2000-01-01", "1970-01-01", "2199-12-31"] {
            let date = parse_day(day).unwrap();
            assert_eq!(Date::from_epoch_ms(day_start_ms(date)), date, "{day}");
        }
        assert_eq!(day_start_ms(parse_day("1970-01-01").unwrap()), 0);
        for wrong in [
            "",
            "2026-7-4",
            "04/07/2026",
            "2026-02-30",
            "2026-07-04-01",
            "abcd-ef-gh",
        ] {
            assert_eq!(parse_day(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn an_operator_gives_each_role_its_scope_and_never_a_delegation() {
        let uai = Uai::parse("0699990J").unwrap();
        let head = staff_role(RoleKind::Head, Some(uai.clone()), None).unwrap();
        assert_eq!(head.scope, RoleScope::Establishment(uai.clone()));
        assert!(staff_role(RoleKind::Deputy, None, Some("Lyon")).is_err());
        let agent = staff_role(RoleKind::Assistance, Some(uai.clone()), Some("Lyon")).unwrap();
        assert_eq!(agent.scope, RoleScope::Academy("Lyon"));
        assert!(staff_role(RoleKind::Assistance, Some(uai.clone()), None).is_err());
        assert_eq!(
            staff_role(RoleKind::Operator, None, None).unwrap().scope,
            RoleScope::National
        );
        assert!(staff_role(RoleKind::Delegate, Some(uai), None).is_err());
    }
}
