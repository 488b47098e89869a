//! What happens to a request after it is filed: comments (the académie's assistance and the
//! establishment's staff), changes of status (the assistance only: taken in hand, closed,
//! reopened). Each change is an event, written with the e-mails it causes: to whoever filed the
//! request when someone else changed it, to the académie's agents when the establishment wrote.

use super::read::readable;
use super::{invalid, mail, refused, text, AssistanceEvent, Desk, Field, Status, MAX_DESCRIPTION};
use crate::audit::{self, Action, Event, Outcome};
use crate::establishments::{Actor, OperationError};
use crate::outbox::Outgoing;
use crate::staff::{RoleKind, Staff, StaffState};

/// A change to make: a comment, a new status, or both.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub comment: Option<String>,
    pub status: Option<Status>,
}

/// Makes `change` to request `id` as `author` (the signed-in staff member; `None` for an
/// administration token); returns the event recorded.
pub async fn update(
    actor: &Actor,
    desk: &Desk<'_>,
    author: Option<&Staff>,
    id: &str,
    change: &Change,
    now_ms: i64,
) -> Result<AssistanceEvent, OperationError> {
    let attempted = Action::AssistanceUpdated.as_str();
    let subject = format!("request:{id}");
    let (request, access) = match readable(actor, desk, id).await {
        Ok(found) => found,
        Err(error) => {
            refused(desk, actor, attempted, subject, None, &error, now_ms).await;
            return Err(error);
        }
    };
    // Only those who handle the request change its status; the establishment comments.
    if change.status.is_some() && !access.handle {
        let error = OperationError::OutOfScope;
        tracing::warn!(actor = %actor, request = %id, "assistance status change outside the actor's rights");
        refused(
            desk,
            actor,
            attempted,
            subject,
            Some(&request.uai),
            &error,
            now_ms,
        )
        .await;
        return Err(error);
    }
    let comment = match change.comment.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(typed) => Some(text(typed, MAX_DESCRIPTION).ok_or_else(|| {
            invalid(
                Field::Comment,
                format!("commentaire attendu : 1 à {MAX_DESCRIPTION} caractères"),
            )
        })?),
    };
    if let Some(next) = change.status {
        if !request.status.may_become(next) {
            return Err(invalid(
                Field::Status,
                format!(
                    "une demande « {} » ne peut pas passer à « {} »",
                    request.status.label(),
                    next.label()
                ),
            ));
        }
    }
    if comment.is_none() && change.status.is_none() {
        return Err(invalid(
            Field::Comment,
            "écrivez un commentaire ou choisissez un nouveau statut",
        ));
    }
    let event = AssistanceEvent {
        id: crate::accounts::new_account_id(now_ms),
        request_id: request.id.clone(),
        at: now_ms,
        author: actor.label().to_owned(),
        author_name: author
            .map(Staff::display_name)
            .unwrap_or_else(|| actor.label().to_owned()),
        by_assistance: access.handle,
        body: comment,
        previous_status: change.status.map(|_| request.status),
        status: change.status,
    };
    let messages = messages(desk, author, &request, &event, now_ms).await?;
    if !desk
        .requests
        .add_assistance_event(&event, &messages)
        .await?
    {
        return Err(OperationError::AssistanceChanged);
    }
    let mut detail = Vec::new();
    if event.body.is_some() {
        detail.push("comment".to_owned());
    }
    if let (Some(from), Some(to)) = (event.previous_status, event.status) {
        detail.push(format!("status:{}->{}", from.as_str(), to.as_str()));
    }
    let record = Event::new(
        actor.label(),
        Action::AssistanceUpdated,
        Outcome::Ok,
        now_ms,
    )
    .on(format!("request:{}", request.id))
    .at_establishment(&request.uai)
    .detail(detail.join(" "));
    audit::record_by(desk.audit, actor, record).await;
    Ok(event)
}

/// Whom a change is told to: the requester, when someone else made it; the académie's agents,
/// when the establishment wrote.
async fn messages(
    desk: &Desk<'_>,
    author: Option<&Staff>,
    request: &super::AssistanceRequest,
    event: &AssistanceEvent,
    now_ms: i64,
) -> Result<Vec<Outgoing>, OperationError> {
    let author_id = author.map(|a| a.id.as_str());
    let mut told: Vec<Staff> = Vec::new();
    if let Some(filer) = request
        .filed_by
        .as_deref()
        .filter(|f| Some(*f) != author_id)
    {
        if let Some(staff) = desk.staff.staff(filer).await? {
            told.push(staff);
        }
    }
    if !event.by_assistance {
        told.extend(
            desk.staff
                .staff_of_academy(&request.academy, RoleKind::Assistance)
                .await?
                .into_iter()
                .filter(|s| Some(s.id.as_str()) != author_id),
        );
    }
    // Each active staff member once (the requester may also be an agent of the académie).
    let mut seen = std::collections::HashSet::new();
    told.retain(|s| s.state == StaffState::Active && seen.insert(s.id.clone()));
    let name = desk
        .directory
        .establishment(&request.uai)
        .await?
        .and_then(|e| e.name)
        .unwrap_or_else(|| "Établissement".to_owned());
    Ok(told
        .iter()
        .map(|staff| mail::updated(desk, staff, request, event, &name, now_ms))
        .collect::<anyhow::Result<Vec<_>>>()?)
}
