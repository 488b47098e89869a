//! Reading requests: an establishment's own (its staff who may file, and whoever handles its
//! requests), an académie's queue (its assistance agents, the operators), one request with
//! its events. A request outside the actor's scope answers like one that does not exist.

use super::{AssistanceEvent, AssistanceRequest, Desk, Status};
use crate::establishments::{Actor, OperationError, Right, Scope};
use crate::siecle::Uai;
use crate::store::AssistanceQuery;

/// The most requests a list shows.
const LISTED: i64 = 200;

/// What the actor may do with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Handle it: change its status (the académie's assistance, operators).
    pub handle: bool,
    /// Comment on it (the establishment's staff who may file, and those who handle it).
    pub comment: bool,
}

impl Access {
    /// What `actor` may do with the requests of `uai`; `None`: not even read them.
    pub fn of(actor: &Actor, uai: &str) -> Option<Access> {
        let uai = Uai::parse(uai).ok()?;
        let handle = actor.check(&uai, Right::Assist).is_ok();
        let file = actor.check(&uai, Right::FileRequest).is_ok();
        (handle || file).then_some(Access {
            handle,
            comment: true,
        })
    }
}

/// One request, its events (oldest first), and what the actor may do with it.
#[derive(Clone, Debug)]
pub struct Detail {
    pub request: AssistanceRequest,
    pub events: Vec<AssistanceEvent>,
    pub access: Access,
}

/// The requests of an establishment, newest first.
pub async fn establishment_requests(
    actor: &Actor,
    desk: &Desk<'_>,
    uai: &Uai,
) -> Result<Vec<AssistanceRequest>, OperationError> {
    if Access::of(actor, uai.as_str()).is_none() {
        // The message of a refusal names the right a file needs (what most readers hold).
        actor.require(uai, Right::FileRequest)?;
    }
    let query = AssistanceQuery {
        uai: Some(uai.as_str().to_owned()),
        limit: LISTED,
        ..AssistanceQuery::default()
    };
    Ok(desk.requests.assistance_requests(&query).await?)
}

/// Which requests of a queue.
#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    /// One académie (`Uai::academy`'s name); `None`: every académie the actor handles.
    pub academy: Option<&'static str>,
    pub status: Option<Status>,
}

/// The requests the actor handles (`Right::Assist`): those of their académie(s), every one for
/// an operator; newest first.
pub async fn queue(
    actor: &Actor,
    desk: &Desk<'_>,
    filter: &QueueFilter,
) -> Result<Vec<AssistanceRequest>, OperationError> {
    let scopes: Vec<&Scope> = actor.scopes(Right::Assist).collect();
    let national = scopes.contains(&&Scope::National);
    let query = |uai: Option<&str>, academy: Option<&str>| AssistanceQuery {
        uai: uai.map(str::to_owned),
        academy: academy.map(str::to_owned),
        status: filter.status,
        limit: LISTED,
    };
    if national {
        let query = query(None, filter.academy);
        return Ok(desk.requests.assistance_requests(&query).await?);
    }
    let mut found = Vec::new();
    let mut covered = false;
    for scope in scopes {
        let asked = match (scope, filter.academy) {
            (Scope::Academy(own), Some(academy)) if *own != academy => continue,
            (Scope::Academy(own), _) => query(None, Some(own)),
            (Scope::Establishment(uai), academy) => {
                if academy.is_some_and(|a| uai.academy() != Some(a)) {
                    continue;
                }
                query(Some(uai.as_str()), None)
            }
            (Scope::National, _) => unreachable!("handled above"),
        };
        covered = true;
        found.extend(desk.requests.assistance_requests(&asked).await?);
    }
    if !covered {
        tracing::warn!(actor = %actor, academy = ?filter.academy, "assistance queue outside the actor's rights");
        return Err(OperationError::OutOfScope);
    }
    found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    found.dedup_by(|a, b| a.id == b.id);
    found.truncate(LISTED as usize);
    Ok(found)
}

/// What the audit names a refused reading of a request.
const READ: &str = "assistance.read";

/// One request with its events.
pub async fn request(
    actor: &Actor,
    desk: &Desk<'_>,
    id: &str,
    now_ms: i64,
) -> Result<Detail, OperationError> {
    let (request, access) = match readable(actor, desk, id).await {
        Ok(readable) => readable,
        Err(error) => {
            super::refused(
                desk,
                actor,
                READ,
                format!("request:{id}"),
                None,
                &error,
                now_ms,
            )
            .await;
            return Err(error);
        }
    };
    let events = desk.requests.assistance_events(&request.id).await?;
    Ok(Detail {
        request,
        events,
        access,
    })
}

/// The request, if the actor may read it. What they may not read, and what does not exist,
/// are one answer (`OutOfScope`), unless they may read every request (an operator).
pub(super) async fn readable(
    actor: &Actor,
    desk: &Desk<'_>,
    id: &str,
) -> Result<(AssistanceRequest, Access), OperationError> {
    let found = desk.requests.assistance(id).await?;
    match found.and_then(|r| Access::of(actor, &r.uai).map(|access| (r, access))) {
        Some(readable) => Ok(readable),
        None if actor.holds_nationally(Right::Assist) => {
            Err(OperationError::UnknownAssistance(id.to_owned()))
        }
        None => {
            tracing::warn!(actor = %actor, request = %id, "assistance request outside the actor's rights");
            Err(OperationError::OutOfScope)
        }
    }
}
