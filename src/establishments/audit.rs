//! The journal: the audit trail as the back-office and the API read it — an establishment's
//! events for its head (`Right::Audit`, second factor), the history of one of its accounts, and
//! every event for the operators (`Right::Audit` nationally). Newest first, a page at a time
//! (`JournalCursor`); who acted and on whom named where the directory still knows them.

use std::collections::HashMap;

use super::{Actor, OperationError, Right};
use crate::audit::{self, Action, Event};
use crate::siecle::Uai;
use crate::store::{
    AccountStore, AuditStore, DirectoryStore, JournalCursor, JournalQuery, JournalStore, StaffStore,
};

/// Events on a page, unless asked otherwise.
pub const PAGE: i64 = 50;
/// The most events on one page.
pub const MAX_PAGE: i64 = 200;

/// What reading the journal needs.
#[derive(Clone, Copy)]
pub struct Journal<'a> {
    pub events: &'a dyn JournalStore,
    pub audit: &'a dyn AuditStore,
    pub accounts: &'a dyn AccountStore,
    pub staff: &'a dyn StaffStore,
    pub directory: &'a dyn DirectoryStore,
}

/// Which page of the journal.
#[derive(Clone, Debug, Default)]
pub struct TrailRequest {
    /// One account's history, by its login.
    pub account: Option<String>,
    /// The national journal only: the events at this establishment.
    pub uai: Option<Uai>,
    pub before: Option<JournalCursor>,
    /// Events on the page (`PAGE` when 0; at most `MAX_PAGE`).
    pub limit: i64,
}

/// One event, as the journal shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub event: Event,
    /// What happened, in French.
    pub what: String,
    /// Who acted, named when the directory knows them.
    pub who: String,
    /// On whom, named when the directory knows them.
    pub whom: Option<String>,
    /// When the subject is an account: its login (the link to its history).
    pub account_login: Option<String>,
}

/// A page of the journal.
#[derive(Clone, Debug)]
pub struct TrailPage {
    pub entries: Vec<Entry>,
    /// Where the next (older) page starts; `None` on the last one.
    pub next: Option<JournalCursor>,
    /// The account whose history this is: its login and name.
    pub account: Option<(String, String)>,
}

impl JournalCursor {
    /// `<ms>` or `<ms>.<id>`, as `as_param` writes it.
    pub fn parse(value: &str) -> Option<JournalCursor> {
        let (at, id) = match value.split_once('.') {
            Some((at, id)) => (at, Some(id)),
            None => (value, None),
        };
        let at = at.parse().ok()?;
        let id = match id {
            Some(id)
                if !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) =>
            {
                Some(id.to_owned())
            }
            Some(_) => return None,
            None => None,
        };
        Some(JournalCursor { at, id })
    }

    pub fn as_param(&self) -> String {
        match &self.id {
            Some(id) => format!("{}.{id}", self.at),
            None => self.at.to_string(),
        }
    }
}

/// The establishment's journal — its events, and what its staff did at no establishment (signing
/// in, the second factor) — or the history of one of its accounts (the account's events at the
/// establishment and at none: its sign-ins). An account that is not the establishment's answers
/// as one that does not exist.
pub async fn trail(
    actor: &Actor,
    journal: &Journal<'_>,
    uai: &Uai,
    request: &TrailRequest,
    now_ms: i64,
) -> Result<TrailPage, OperationError> {
    if let Err(error) = actor.require(uai, Right::Audit) {
        if matches!(error, OperationError::OutOfScope) {
            let subject = format!("establishment:{uai}");
            let attempted = Action::JournalRead.as_str();
            let (subject, uai) = (Some(subject.as_str()), Some(uai.as_str()));
            audit::refused(
                journal.audit,
                actor,
                attempted,
                subject,
                uai,
                &error,
                now_ms,
            )
            .await;
        }
        return Err(error);
    }
    let account = match &request.account {
        Some(login) => Some(account_of(journal, login, Some(uai)).await?),
        None => None,
    };
    let mut query = JournalQuery {
        uai: Some(uai.as_str().to_owned()),
        before: request.before.clone(),
        limit: limit(request.limit),
        ..JournalQuery::default()
    };
    match &account {
        Some((id, _, _)) => {
            let subject = format!("account:{id}");
            query.unplaced_about = vec![subject.clone()];
            query.subject = Some(subject);
        }
        None => {
            // What the establishment's staff did at no establishment: signing in, the second
            // factor (roles never revoked, ended delegations included).
            for (_, staff) in journal.staff.roles_at(uai.as_str()).await? {
                query.unplaced_about.push(format!("staff:{}", staff.id));
                query.unplaced_by.push(format!("staff:{}", staff.login));
            }
            query.unplaced_about.dedup();
            query.unplaced_by.dedup();
        }
    }
    page(journal, query, account).await
}

/// Every event, for the operators; by establishment or by account if asked.
pub async fn national_trail(
    actor: &Actor,
    journal: &Journal<'_>,
    request: &TrailRequest,
    now_ms: i64,
) -> Result<TrailPage, OperationError> {
    if let Err(error) = actor.require_national(Right::Audit) {
        if matches!(error, OperationError::OutOfScope) {
            let attempted = Action::JournalRead.as_str();
            audit::refused(
                journal.audit,
                actor,
                attempted,
                Some("journal"),
                None,
                &error,
                now_ms,
            )
            .await;
        }
        return Err(error);
    }
    let account = match &request.account {
        Some(login) => Some(account_of(journal, login, None).await?),
        None => None,
    };
    let query = JournalQuery {
        uai: request.uai.as_ref().map(|u| u.as_str().to_owned()),
        subject: account.as_ref().map(|(id, _, _)| format!("account:{id}")),
        before: request.before.clone(),
        limit: limit(request.limit),
        ..JournalQuery::default()
    };
    page(journal, query, account).await
}

fn limit(asked: i64) -> i64 {
    if asked <= 0 {
        PAGE
    } else {
        asked.min(MAX_PAGE)
    }
}

/// The account of `login` (its id, login, name), if it is one of `uai`'s pupils or guardians
/// (currently enrolled, a current guardian record there); any account when `uai` is `None`.
async fn account_of(
    journal: &Journal<'_>,
    login: &str,
    uai: Option<&Uai>,
) -> Result<(String, String, String), OperationError> {
    let login = login.trim().to_lowercase();
    let unknown = || OperationError::UnknownAccount(login.clone());
    let Some(account) = journal.accounts.account_by_login(&login).await? else {
        return Err(unknown());
    };
    if let Some(uai) = uai {
        let affiliations = journal.directory.affiliations(&account.id).await?;
        if !affiliations.establishments().contains(&uai.as_str()) {
            return Err(unknown());
        }
    }
    let name = format!("{} {}", account.given_name, account.family_name);
    Ok((account.id, account.login.as_str().to_owned(), name))
}

async fn page(
    journal: &Journal<'_>,
    mut query: JournalQuery,
    account: Option<(String, String, String)>,
) -> Result<TrailPage, OperationError> {
    let shown = query.limit;
    // One more than shown tells whether an older page exists.
    query.limit = shown + 1;
    let mut events = journal.events.journal(&query).await?;
    let next = if events.len() as i64 > shown {
        events.truncate(shown as usize);
        events.last().map(|e| JournalCursor {
            at: e.at,
            id: Some(e.id.clone()),
        })
    } else {
        None
    };
    let mut names = Names::new(journal);
    let mut entries = Vec::with_capacity(events.len());
    for event in events {
        let who = names.actor(&event.actor).await?;
        let (whom, account_login) = match &event.subject {
            Some(subject) => {
                let (name, login) = names.subject(subject).await?;
                (Some(name), login)
            }
            None => (None, None),
        };
        entries.push(Entry {
            what: what(&event),
            who,
            whom,
            account_login,
            event,
        });
    }
    Ok(TrailPage {
        entries,
        next,
        account: account.map(|(_, login, name)| (login, name)),
    })
}

/// The event's action in French; a refusal says what was attempted, and why (its detail is
/// `<action> (<why>)`, `audit::refused`).
fn what(event: &Event) -> String {
    let label = Action::label(&event.action);
    let refused = event
        .detail
        .as_deref()
        .filter(|_| event.action == "refused");
    let Some(detail) = refused else {
        return label.to_owned();
    };
    let (attempted, why) = match detail.split_once(' ') {
        Some((attempted, why)) => (attempted, Some(why)),
        None => (detail, None),
    };
    match (Action::label(attempted), why) {
        ("Autre", _) => label.to_owned(),
        (attempted, Some(why)) => format!("{label} : {} {why}", attempted.to_lowercase()),
        (attempted, None) => format!("{label} : {}", attempted.to_lowercase()),
    }
}

/// Names found for one page, each looked up once.
struct Names<'a> {
    journal: &'a Journal<'a>,
    found: HashMap<String, (String, Option<String>)>,
}

impl<'a> Names<'a> {
    fn new(journal: &'a Journal<'a>) -> Names<'a> {
        Names {
            journal,
            found: HashMap::new(),
        }
    }

    /// An actor label: `staff:<login>`, `account:<id>`, `admin-token:<digest prefix>`, `cli`.
    async fn actor(&mut self, label: &str) -> anyhow::Result<String> {
        if let Some(token) = label.strip_prefix("admin-token:") {
            return Ok(format!("Jeton d'administration {token}"));
        }
        if label == "cli" {
            return Ok("Ligne de commande (opérateur)".to_owned());
        }
        if let Some(login) = label.strip_prefix("staff:") {
            let key = format!("staff-login:{login}");
            if let Some((name, _)) = self.found.get(&key) {
                return Ok(name.clone());
            }
            let name = match self.journal.staff.staff_credentials(login).await? {
                Some(c) => format!("{} ({login})", c.staff.display_name()),
                None => login.to_owned(),
            };
            self.found.insert(key, (name.clone(), None));
            return Ok(name);
        }
        if label.starts_with("account:") {
            return Ok(self.subject(label).await?.0);
        }
        Ok(label.to_owned())
    }

    /// A subject: `account:<id>`, `staff:<id>`, `staff-login:<login>`, `role:<id>`; its name,
    /// and an account's login.
    async fn subject(&mut self, subject: &str) -> anyhow::Result<(String, Option<String>)> {
        if let Some(found) = self.found.get(subject) {
            return Ok(found.clone());
        }
        let named = if let Some(id) = subject.strip_prefix("account:") {
            match self.journal.accounts.account(id).await? {
                Some(a) => (
                    format!("{} {} ({})", a.given_name, a.family_name, a.login.as_str()),
                    Some(a.login.as_str().to_owned()),
                ),
                None => ("Compte supprimé".to_owned(), None),
            }
        } else if let Some(id) = subject.strip_prefix("staff:") {
            match self.journal.staff.staff(id).await? {
                Some(s) => (format!("{} ({})", s.display_name(), s.login), None),
                None => ("Personnel inconnu".to_owned(), None),
            }
        } else if let Some(login) = subject.strip_prefix("staff-login:") {
            (login.to_owned(), None)
        } else if let Some(id) = subject.strip_prefix("role:") {
            let role = self.journal.staff.role(id).await?;
            let staff = match &role {
                Some(role) => self.journal.staff.staff(&role.staff_id).await?,
                None => None,
            };
            match (role, staff) {
                (Some(role), Some(s)) => (
                    format!(
                        "Rôle {} de {} ({})",
                        role.kind.label(),
                        s.display_name(),
                        s.login
                    ),
                    None,
                ),
                _ => ("Rôle inconnu".to_owned(), None),
            }
        } else if let Some(uai) = subject.strip_prefix("establishment:") {
            (format!("Établissement {uai}"), None)
        } else {
            (subject.to_owned(), None)
        };
        self.found.insert(subject.to_owned(), named.clone());
        Ok(named)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;

    #[test]
    fn a_cursor_reads_back_as_written_and_refuses_anything_else() {
        let cursor = JournalCursor {
            at: 1_700_000_000_123,
            id: Some("0AbC-x_9".into()),
        };
        assert_eq!(JournalCursor::parse(&cursor.as_param()), Some(cursor));
        assert_eq!(
            JournalCursor::parse("42"),
            Some(JournalCursor { at: 42, id: None })
        );
        for wrong in ["", "abc", "42.", "42.a b", "42.<script>"] {
            assert_eq!(JournalCursor::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn a_refusal_says_what_was_attempted() {
        let event = Event::new("staff:x", Action::Refused, Outcome::Refused, 0)
            .detail(Action::DelegationGranted.as_str());
        assert_eq!(what(&event), "Opération refusée : délégation accordée");
        let event = Event::new("staff:x", Action::Refused, Outcome::Refused, 0)
            .detail("journal.read (second facteur requis)");
        assert_eq!(
            what(&event),
            "Opération refusée : consultation du journal (second facteur requis)"
        );
        let event = Event::new("staff:x", Action::StaffCreated, Outcome::Ok, 0);
        assert_eq!(what(&event), "Personnel créé");
    }
}
