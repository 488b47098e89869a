//! Filing a request: the establishment's staff who may file (`Right::FileRequest`: heads,
//! deputies, delegates) for their establishment; the national operators for any, on behalf of
//! the guardian who called or wrote (whose name and contact are then required). The request is
//! routed to the académie of the UAI — a UAI of no académie cannot file — and the académie's
//! assistance agents are told by e-mail, queued with the request.

use super::model::{AssistanceRequest, Category, Concerned, Field, OnBehalf, Status};
use super::{invalid, mail, new_number, refused, text, Desk};
use crate::accounts::{Account, LoginId};
use crate::audit::{self, Action, Event, Outcome};
use crate::establishments::{Actor, OperationError, Right};
use crate::siecle::Uai;
use crate::staff::{RoleKind, Staff, StaffState};

/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 4000;
/// The most accounts one request names.
pub const MAX_ACCOUNTS: usize = 50;
/// The longest name or contact of the person a request is filed for.
const MAX_ON_BEHALF: usize = 200;

/// An account named in a request: by login (as the staff types it) or by id (the API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountRef {
    Login(String),
    Id(String),
}

/// A request to file, as typed.
#[derive(Clone, Debug)]
pub struct Filing {
    pub uai: Uai,
    /// `None`: none was chosen.
    pub category: Option<Category>,
    pub accounts: Vec<AccountRef>,
    pub description: String,
    pub on_behalf: Option<OnBehalf>,
}

/// Files `filing` for `filer` (the signed-in staff member; `None` for an administration
/// token); returns the request as stored.
pub async fn file(
    actor: &Actor,
    desk: &Desk<'_>,
    filer: Option<&Staff>,
    filing: &Filing,
    now_ms: i64,
) -> Result<AssistanceRequest, OperationError> {
    let uai = &filing.uai;
    if let Err(error) = actor.require(uai, Right::FileRequest) {
        let subject = format!("establishment:{uai}");
        let attempted = Action::AssistanceFiled.as_str();
        refused(
            desk,
            actor,
            attempted,
            subject,
            Some(uai.as_str()),
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    // Filed nationally (an operator), a request speaks for someone who reached the national
    // assistance; the establishment's own staff file for their establishment.
    let national = actor.holds_nationally(Right::FileRequest);
    let on_behalf = on_behalf(national, filing.on_behalf.as_ref())?;
    let Some(academy) = uai.academy() else {
        return Err(invalid(
            Field::Establishment,
            format!(
                "l'établissement {uai} ne relève d'aucune académie : aucune assistance ne peut \
                 recevoir sa demande"
            ),
        ));
    };
    let Some(establishment) = desk.directory.establishment(uai.as_str()).await? else {
        return Err(OperationError::UnknownEstablishment(uai.clone()));
    };
    let category = filing
        .category
        .ok_or_else(|| invalid(Field::Category, "choisissez la nature de la demande"))?;
    let description = text(&filing.description, MAX_DESCRIPTION).ok_or_else(|| {
        invalid(
            Field::Description,
            format!("décrivez la demande : 1 à {MAX_DESCRIPTION} caractères"),
        )
    })?;
    let accounts = concerned(desk, uai, &filing.accounts).await?;

    let mut request = AssistanceRequest {
        id: new_number(),
        uai: uai.as_str().to_owned(),
        academy: academy.to_owned(),
        category,
        description,
        status: Status::Open,
        accounts,
        filed_by: filer.map(|s| s.id.clone()),
        filed_by_label: actor.label().to_owned(),
        on_behalf,
        created_at: now_ms,
        updated_at: now_ms,
    };
    let agents: Vec<Staff> = desk
        .staff
        .staff_of_academy(academy, RoleKind::Assistance)
        .await?
        .into_iter()
        .filter(|s| s.state == StaffState::Active)
        .collect();
    let name = establishment.name.as_deref().unwrap_or("Établissement");
    // A number drawn twice (one chance in 650 billion per pair) is drawn again.
    let mut filed = false;
    for _ in 0..3 {
        let messages = agents
            .iter()
            .map(|agent| mail::filed(desk, agent, &request, name, now_ms))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if desk.requests.insert_assistance(&request, &messages).await? {
            filed = true;
            break;
        }
        request.id = new_number();
    }
    if !filed {
        return Err(anyhow::anyhow!("no free assistance request number").into());
    }
    let accounts: Vec<&str> = request
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let mut detail = format!("category:{}", category.as_str());
    if !accounts.is_empty() {
        detail.push_str(&format!(" accounts:{}", accounts.join(",")));
    }
    if request.on_behalf.is_some() {
        detail.push_str(" on_behalf");
    }
    let event = Event::new(actor.label(), Action::AssistanceFiled, Outcome::Ok, now_ms)
        .on(format!("request:{}", request.id))
        .at_establishment(uai.as_str())
        .detail(detail);
    audit::record_by(desk.audit, actor, event).await;
    tracing::info!(actor = %actor, %uai, request = %request.id, "assistance request filed");
    Ok(request)
}

/// Whom a request is filed for: required of an operator, refused of anyone else.
fn on_behalf(national: bool, given: Option<&OnBehalf>) -> Result<Option<OnBehalf>, OperationError> {
    match (national, given) {
        (true, Some(given)) => {
            let name = text(&given.name, MAX_ON_BEHALF);
            let contact = text(&given.contact, MAX_ON_BEHALF);
            match (name, contact) {
                (Some(name), Some(contact)) if !name.contains('\n') && !contact.contains('\n') => {
                    Ok(Some(OnBehalf { name, contact }))
                }
                _ => Err(invalid(
                    Field::OnBehalf,
                    format!(
                        "indiquez le nom et le moyen de contacter le représentant légal : 1 à \
                         {MAX_ON_BEHALF} caractères chacun, sur une ligne"
                    ),
                )),
            }
        }
        (true, None) => Err(invalid(
            Field::OnBehalf,
            "une demande déposée par l'assistance nationale indique pour quel représentant \
             légal : son nom et le moyen de le contacter",
        )),
        (false, Some(_)) => Err(invalid(
            Field::OnBehalf,
            "seule l'assistance nationale dépose une demande pour le compte d'un représentant \
             légal",
        )),
        (false, None) => Ok(None),
    }
}

/// The accounts named, each once, each belonging to the establishment (a pupil enrolled, a
/// guardian recorded there now). One that does not, or does not exist, is refused with the
/// same words: nothing is learned of accounts elsewhere.
async fn concerned(
    desk: &Desk<'_>,
    uai: &Uai,
    named: &[AccountRef],
) -> Result<Vec<Concerned>, OperationError> {
    if named.len() > MAX_ACCOUNTS {
        return Err(invalid(
            Field::Accounts,
            format!("une demande concerne au plus {MAX_ACCOUNTS} comptes"),
        ));
    }
    let mut accounts: Vec<Concerned> = Vec::new();
    for reference in named {
        let shown = match reference {
            AccountRef::Login(login) | AccountRef::Id(login) => login.trim(),
        };
        let not_here = || {
            invalid(
                Field::Accounts,
                format!(
                    "le compte « {shown} » ne fait pas partie des comptes de cet établissement"
                ),
            )
        };
        let account = match reference {
            AccountRef::Login(login) => match LoginId::parse(login) {
                Some(login) => desk.accounts.account_by_login(login.as_str()).await?,
                None => None,
            },
            AccountRef::Id(id) => desk.accounts.account(id.trim()).await?,
        };
        let Some(account) = account else {
            return Err(not_here());
        };
        if !belongs(desk, uai, &account).await? {
            return Err(not_here());
        }
        if !accounts.iter().any(|a| a.account_id == account.id) {
            accounts.push(Concerned {
                account_id: account.id,
                login: account.login,
                given_name: account.given_name,
                family_name: account.family_name,
                profile: account.profile,
            });
        }
    }
    Ok(accounts)
}

/// The account is a pupil enrolled at `uai`, or a guardian `uai` records, now.
async fn belongs(desk: &Desk<'_>, uai: &Uai, account: &Account) -> anyhow::Result<bool> {
    let affiliations = desk.directory.affiliations(&account.id).await?;
    Ok(affiliations.establishments().contains(&uai.as_str()))
}
