//! Creating staff and giving them roles, as domain functions checked by the `Actor`:
//! operators create heads, deputies, assistance agents and operators (`Right::Staff`); a head
//! designates delegates at their establishment with the rights to grant (`Right::Delegate`),
//! each with an optional end date, and revokes them. A delegate holds no `Right::Delegate`, so
//! a delegate cannot delegate. Operators also disable and enable staff, reset a lost second
//! factor, and list everyone (`Right::Staff` nationally: the CLI, `educonnect staff`). Every
//! change is in the audit trail.

use super::{Role, RoleKind, RoleScope, Staff, StaffState};
use crate::accounts::password::PasswordHasher;
use crate::audit::{self, Action, Event, Outcome};
use crate::establishments::{Actor, OperationError, Right};
use crate::secrets::{random_b64, Secret};
use crate::siecle::Uai;
use crate::store::{AuditStore, InsertStaffError, StaffStore};

/// What the directory functions need.
#[derive(Clone, Copy)]
pub struct Directory<'a> {
    pub staff: &'a dyn StaffStore,
    pub audit: &'a dyn AuditStore,
    pub passwords: &'a PasswordHasher,
}

/// A staff member to create.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
}

/// A role to give.
#[derive(Clone, Debug)]
pub struct RoleRequest {
    pub kind: RoleKind,
    pub scope: RoleScope,
    /// A delegate's rights.
    pub pupils: bool,
    pub guardians: bool,
    pub ends_at: Option<i64>,
}

impl RoleRequest {
    pub fn head(uai: Uai) -> RoleRequest {
        RoleRequest::at(RoleKind::Head, uai)
    }

    pub fn at(kind: RoleKind, uai: Uai) -> RoleRequest {
        RoleRequest {
            kind,
            scope: RoleScope::Establishment(uai),
            pupils: false,
            guardians: false,
            ends_at: None,
        }
    }
}

/// The longest name or login, in characters.
const FIELD_CHARS: usize = 100;

fn invalid(message: &str) -> OperationError {
    OperationError::InvalidStaff(message.to_owned())
}

fn checked(new: &NewStaff) -> Result<NewStaff, OperationError> {
    let login = super::signin::normalize(&new.login);
    if login.is_empty()
        || login.chars().count() > FIELD_CHARS
        || !login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(invalid(
            "identifiant attendu : lettres sans accent, chiffres, point, tiret ou soulignement",
        ));
    }
    let name = |value: &str, what: &str| {
        let value = value.trim();
        if value.is_empty()
            || value.chars().count() > FIELD_CHARS
            || value.chars().any(char::is_control)
        {
            Err(invalid(&format!(
                "{what} attendu : 1 à {FIELD_CHARS} caractères"
            )))
        } else {
            Ok(value.to_owned())
        }
    };
    let email = new.email.trim();
    if email.parse::<lettre::Address>().is_err() {
        return Err(invalid("adresse électronique invalide"));
    }
    Ok(NewStaff {
        login,
        given_name: name(&new.given_name, "prénom")?,
        family_name: name(&new.family_name, "nom")?,
        email: email.to_owned(),
    })
}

/// Whether `actor` may give (or take back) a role of this kind there: a delegate needs
/// `Right::Delegate` at its establishment (a head), anything else `Right::Staff` over the
/// role's scope (an operator).
fn may_manage(
    actor: &Actor,
    request_kind: RoleKind,
    scope: &RoleScope,
) -> Result<(), OperationError> {
    match (request_kind, scope) {
        (RoleKind::Delegate, RoleScope::Establishment(uai)) => actor.require(uai, Right::Delegate),
        (RoleKind::Delegate, _) => Err(invalid("une délégation porte sur un établissement")),
        (RoleKind::Head | RoleKind::Deputy, RoleScope::Establishment(uai)) => {
            actor.require(uai, Right::Staff)
        }
        (RoleKind::Assistance, RoleScope::Academy(_))
        | (RoleKind::Operator, RoleScope::National) => actor.require_national(Right::Staff),
        _ => Err(invalid("ce rôle ne porte pas sur ce périmètre")),
    }
}

/// Records a refusal (outside the actor's rights, or the second factor missing).
async fn refused(
    directory: &Directory<'_>,
    actor: &Actor,
    action: Action,
    subject: &str,
    error: &OperationError,
    now_ms: i64,
) {
    let attempted = action.as_str();
    audit::refused(
        directory.audit,
        actor,
        attempted,
        Some(subject),
        None,
        error,
        now_ms,
    )
    .await
}

/// Creates a staff member with a first role; returns them and their initial password, shown
/// once to whoever created them (to be handed over, and changed at the first sign-in's
/// convenience).
pub async fn add_staff(
    actor: &Actor,
    directory: &Directory<'_>,
    new: &NewStaff,
    role: &RoleRequest,
    now_ms: i64,
) -> Result<(Staff, Secret), OperationError> {
    if let Err(error) = may_manage(actor, role.kind, &role.scope) {
        refused(
            directory,
            actor,
            Action::StaffCreated,
            &format!("staff-login:{}", new.login),
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    let new = checked(new)?;
    let staff = Staff {
        id: crate::accounts::new_account_id(now_ms),
        login: new.login,
        given_name: new.given_name,
        family_name: new.family_name,
        email: new.email,
        state: StaffState::Active,
        totp_enrolled_at: None,
        created_at: now_ms,
    };
    let password = Secret::from_presented(&random_b64(12));
    let hash = directory.passwords.hash(&password).await?;
    match directory.staff.insert_staff(&staff, &hash).await {
        Ok(()) => {}
        Err(InsertStaffError::LoginTaken(login)) => {
            return Err(OperationError::StaffLoginTaken(login))
        }
        Err(InsertStaffError::Store(error)) => return Err(error.into()),
    }
    let event = Event::new(actor.label(), Action::StaffCreated, Outcome::Ok, now_ms)
        .on(format!("staff:{}", staff.id))
        .detail(staff.login.clone());
    audit::record_by(directory.audit, actor, event).await;
    grant(actor, directory, &staff, role, now_ms).await?;
    Ok((staff, password))
}

/// Gives an existing staff member (by login) a role.
pub async fn grant_role(
    actor: &Actor,
    directory: &Directory<'_>,
    login: &str,
    role: &RoleRequest,
    now_ms: i64,
) -> Result<Role, OperationError> {
    if let Err(error) = may_manage(actor, role.kind, &role.scope) {
        refused(
            directory,
            actor,
            Action::RoleGranted,
            &format!("staff-login:{login}"),
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    let login = super::signin::normalize(login);
    let Some(staff) = directory
        .staff
        .staff_credentials(&login)
        .await?
        .map(|c| c.staff)
    else {
        return Err(OperationError::UnknownStaff(login));
    };
    grant(actor, directory, &staff, role, now_ms).await
}

async fn grant(
    actor: &Actor,
    directory: &Directory<'_>,
    staff: &Staff,
    request: &RoleRequest,
    now_ms: i64,
) -> Result<Role, OperationError> {
    if request.kind == RoleKind::Delegate && !request.pupils && !request.guardians {
        return Err(invalid(
            "une délégation donne au moins un droit : comptes élèves ou comptes représentants",
        ));
    }
    if request.ends_at.is_some_and(|end| end <= now_ms) {
        return Err(invalid("la date de fin d'une délégation est à venir"));
    }
    let role = Role {
        id: crate::accounts::new_account_id(now_ms),
        staff_id: staff.id.clone(),
        kind: request.kind,
        scope: request.scope.clone(),
        pupils: request.pupils,
        guardians: request.guardians,
        ends_at: request.ends_at,
        granted_by: actor.label().to_owned(),
        granted_at: now_ms,
        revoked_at: None,
    };
    directory.staff.insert_role(&role).await?;
    let action = if role.kind == RoleKind::Delegate {
        Action::DelegationGranted
    } else {
        Action::RoleGranted
    };
    let mut event = Event::new(actor.label(), action, Outcome::Ok, now_ms)
        .on(format!("staff:{}", staff.id))
        .detail(describe(&role));
    if let RoleScope::Establishment(uai) = &role.scope {
        event = event.at_establishment(uai.as_str());
    }
    audit::record_by(directory.audit, actor, event).await;
    Ok(role)
}

/// A role in words, for the audit trail.
fn describe(role: &Role) -> String {
    let mut words = vec![role.kind.as_str().to_owned()];
    if role.kind == RoleKind::Delegate {
        if role.pupils {
            words.push("pupils".into());
        }
        if role.guardians {
            words.push("guardians".into());
        }
    }
    if let Some(end) = role.ends_at {
        words.push(format!("until:{end}"));
    }
    words.join(" ")
}

/// Revokes a role: a delegation by the head of its establishment, any other by an operator.
pub async fn revoke_role(
    actor: &Actor,
    directory: &Directory<'_>,
    role_id: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    let Some(role) = directory.staff.role(role_id).await? else {
        return Err(actor_refused_or_unknown(actor));
    };
    if let Err(error) = may_manage(actor, role.kind, &role.scope) {
        refused(
            directory,
            actor,
            Action::RoleRevoked,
            &format!("role:{role_id}"),
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    if !directory.staff.revoke_role(role_id, now_ms).await? {
        return Err(OperationError::UnknownRole);
    }
    let action = if role.kind == RoleKind::Delegate {
        Action::DelegationRevoked
    } else {
        Action::RoleRevoked
    };
    let mut event = Event::new(actor.label(), action, Outcome::Ok, now_ms)
        .on(format!("staff:{}", role.staff_id))
        .detail(describe(&role));
    if let RoleScope::Establishment(uai) = &role.scope {
        event = event.at_establishment(uai.as_str());
    }
    audit::record_by(directory.audit, actor, event).await;
    Ok(())
}

/// An unknown role looks, to whoever holds no right to revoke roles, like one outside their
/// rights.
fn actor_refused_or_unknown(actor: &Actor) -> OperationError {
    if actor.holds(Right::Delegate) || actor.holds(Right::Staff) {
        OperationError::UnknownRole
    } else {
        OperationError::OutOfScope
    }
}

/// The staff of an establishment and their roles never revoked (heads, deputies, delegates),
/// for its head.
pub async fn establishment_staff(
    actor: &Actor,
    directory: &Directory<'_>,
    uai: &Uai,
) -> Result<Vec<(Role, Staff)>, OperationError> {
    actor.require(uai, Right::Delegate)?;
    Ok(directory.staff.roles_at(uai.as_str()).await?)
}

/// A staff member by login (normalized), or `UnknownStaff`.
async fn by_login(directory: &Directory<'_>, login: &str) -> Result<Staff, OperationError> {
    let login = super::signin::normalize(login);
    match directory.staff.staff_credentials(&login).await? {
        Some(credentials) => Ok(credentials.staff),
        None => Err(OperationError::UnknownStaff(login)),
    }
}

/// Operators only: what concerns a staff member whatever their roles (their state, their
/// second factor, the list of all staff). A refusal is in the audit trail.
async fn require_operator(
    directory: &Directory<'_>,
    actor: &Actor,
    action: Action,
    subject: &str,
    now_ms: i64,
) -> Result<(), OperationError> {
    if let Err(error) = actor.require_national(Right::Staff) {
        refused(directory, actor, action, subject, &error, now_ms).await;
        return Err(error);
    }
    Ok(())
}

/// Disables a staff member, or enables one again (operators). A disabled staff member cannot
/// sign in (`signin`); their roles are kept, in force again once enabled.
pub async fn set_state(
    actor: &Actor,
    directory: &Directory<'_>,
    login: &str,
    state: StaffState,
    now_ms: i64,
) -> Result<Staff, OperationError> {
    let action = match state {
        StaffState::Active => Action::StaffEnabled,
        StaffState::Disabled => Action::StaffDisabled,
    };
    let subject = format!("staff-login:{}", super::signin::normalize(login));
    require_operator(directory, actor, action, &subject, now_ms).await?;
    let staff = by_login(directory, login).await?;
    directory
        .staff
        .set_staff_state(&staff.id, state, now_ms)
        .await?;
    let event = Event::new(actor.label(), action, Outcome::Ok, now_ms)
        .on(format!("staff:{}", staff.id))
        .detail(staff.login.clone());
    audit::record_by(directory.audit, actor, event).await;
    Ok(Staff { state, ..staff })
}

/// Forgets a staff member's second factor (operators: a lost or replaced phone); the next
/// sign-in enrols a new one, and until then the rights that need it stay closed.
pub async fn reset_second_factor(
    actor: &Actor,
    directory: &Directory<'_>,
    login: &str,
    now_ms: i64,
) -> Result<Staff, OperationError> {
    let action = Action::StaffSecondFactorReset;
    let subject = format!("staff-login:{}", super::signin::normalize(login));
    require_operator(directory, actor, action, &subject, now_ms).await?;
    let staff = by_login(directory, login).await?;
    directory.staff.reset_staff_totp(&staff.id, now_ms).await?;
    let event = Event::new(actor.label(), action, Outcome::Ok, now_ms)
        .on(format!("staff:{}", staff.id))
        .detail(staff.login.clone());
    audit::record_by(directory.audit, actor, event).await;
    Ok(Staff {
        totp_enrolled_at: None,
        ..staff
    })
}

/// Every staff member (at most `limit`, by name) with their roles in force at `now_ms`
/// (operators).
pub async fn list(
    actor: &Actor,
    directory: &Directory<'_>,
    limit: i64,
    now_ms: i64,
) -> Result<Vec<(Staff, Vec<Role>)>, OperationError> {
    actor.require_national(Right::Staff)?;
    let mut listed = Vec::new();
    for staff in directory.staff.staff_list(limit).await? {
        let roles = directory
            .staff
            .roles_of(&staff.id)
            .await?
            .into_iter()
            .filter(|role| role.live(now_ms))
            .collect();
        listed.push((staff, roles));
    }
    Ok(listed)
}
