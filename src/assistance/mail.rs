//! The e-mails of assistance requests, in French, as plain text and HTML (askama templates
//! `templates/email/assistance_*`, the HTML escaped), sealed for the outbox: a new request, to
//! the académie's agents; a comment or a change of status, to whoever filed it. Each says the
//! request's number, its establishment, what changed, and links to the request's page; never a
//! secret (a request carries none).

use askama::Template;

use super::{AssistanceEvent, AssistanceRequest, Desk};
use crate::outbox::{Email, Outgoing, Purpose};
use crate::staff::Staff;

#[derive(Template)]
#[template(path = "email/assistance_filed.txt")]
struct FiledText<'a> {
    staff: &'a Staff,
    request: &'a AssistanceRequest,
    establishment: &'a str,
    category: &'static str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/assistance_filed.html")]
struct FiledHtml<'a> {
    staff: &'a Staff,
    request: &'a AssistanceRequest,
    establishment: &'a str,
    category: &'static str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/assistance_update.txt")]
struct UpdateText<'a> {
    staff: &'a Staff,
    request: &'a AssistanceRequest,
    establishment: &'a str,
    author: &'a str,
    status: Option<&'static str>,
    comment: Option<&'a str>,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/assistance_update.html")]
struct UpdateHtml<'a> {
    staff: &'a Staff,
    request: &'a AssistanceRequest,
    establishment: &'a str,
    author: &'a str,
    status: Option<&'static str>,
    comment: Option<&'a str>,
    link: &'a str,
}

/// The request's page.
fn link(desk: &Desk<'_>, request: &AssistanceRequest) -> String {
    format!(
        "{}/gestion/assistance/{}",
        desk.service_url.trim_end_matches('/'),
        request.id
    )
}

/// Tells `agent` of a new request of their académie.
pub(super) fn filed(
    desk: &Desk<'_>,
    agent: &Staff,
    request: &AssistanceRequest,
    establishment: &str,
    now_ms: i64,
) -> anyhow::Result<Outgoing> {
    let link = link(desk, request);
    let category = request.category.label();
    let email = Email {
        to: agent.email.clone(),
        subject: format!(
            "Nouvelle demande d'assistance n° {} — {establishment} ({})",
            request.id, request.uai
        ),
        text: FiledText {
            staff: agent,
            request,
            establishment,
            category,
            link: &link,
        }
        .render()?,
        html: FiledHtml {
            staff: agent,
            request,
            establishment,
            category,
            link: &link,
        }
        .render()?,
    };
    Outgoing::email(desk.kek, &email, Purpose::AssistanceFiled, None, now_ms)
}

/// Tells `staff` (the requester, or an agent) of `event`.
pub(super) fn updated(
    desk: &Desk<'_>,
    staff: &Staff,
    request: &AssistanceRequest,
    event: &AssistanceEvent,
    establishment: &str,
    now_ms: i64,
) -> anyhow::Result<Outgoing> {
    let link = link(desk, request);
    let status = event.status.map(|s| s.label());
    let comment = event.body.as_deref();
    let what = match event.status {
        Some(super::Status::Closed) => "clôturée",
        Some(super::Status::Open) => "rouverte",
        Some(super::Status::InProgress) => "prise en charge",
        None => "commentée",
    };
    let author = event.author_name.as_str();
    let email = Email {
        to: staff.email.clone(),
        subject: format!(
            "Demande d'assistance n° {} {what} — {establishment} ({})",
            request.id, request.uai
        ),
        text: UpdateText {
            staff,
            request,
            establishment,
            author,
            status,
            comment,
            link: &link,
        }
        .render()?,
        html: UpdateHtml {
            staff,
            request,
            establishment,
            author,
            status,
            comment,
            link: &link,
        }
        .render()?,
    };
    Outgoing::email(desk.kek, &email, Purpose::AssistanceUpdate, None, now_ms)
}
