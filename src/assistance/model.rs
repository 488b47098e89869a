//! The records of assistance requests, as the store exchanges them: a request, the accounts
//! it is about, its events; what it is about and where it is (`Category`, `Status`).

use serde::Serialize;

use crate::accounts::Profile;

/// What a request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// An account is missing after the import.
    AccountMissing,
    /// A child cannot be linked to a guardian.
    CannotLink,
    /// An account cannot be activated.
    CannotActivate,
    Other,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::AccountMissing,
        Category::CannotLink,
        Category::CannotActivate,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::AccountMissing => "account_missing",
            Category::CannotLink => "cannot_link",
            Category::CannotActivate => "cannot_activate",
            Category::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// As the pages and the e-mails name it.
    pub fn label(self) -> &'static str {
        match self {
            Category::AccountMissing => "Compte absent après l'import",
            Category::CannotLink => "Enfant impossible à rattacher",
            Category::CannotActivate => "Activation impossible",
            Category::Other => "Autre",
        }
    }
}

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed, not yet taken in hand.
    Open,
    /// An agent is on it.
    InProgress,
    Closed,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::InProgress, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "Ouverte",
            Status::InProgress => "En cours de traitement",
            Status::Closed => "Clôturée",
        }
    }

    /// Whether a request may go from `self` to `next`: forward, back to open, and a closed
    /// request only reopened (it is taken in hand again from there).
    pub fn may_become(self, next: Status) -> bool {
        match (self, next) {
            (from, to) if from == to => false,
            (Status::Closed, Status::InProgress) => false,
            _ => true,
        }
    }
}

/// An account a request is about, as it was when the request was filed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Concerned {
    pub account_id: String,
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    #[serde(serialize_with = "profile_name")]
    pub profile: Profile,
}

fn profile_name<S: serde::Serializer>(profile: &Profile, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(profile.as_str())
}

/// A request, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssistanceRequest {
    /// Its number (`DA-7K3F-9Q2M`), as the pages and the e-mails show it.
    pub id: String,
    pub uai: String,
    /// The académie it is routed to, from the UAI.
    pub academy: String,
    pub category: Category,
    pub description: String,
    pub status: Status,
    pub accounts: Vec<Concerned>,
    /// The staff member who filed it (`None` for an administration token).
    pub filed_by: Option<String>,
    /// The actor's label (`staff:<login>`, `admin-token:<prefix>`).
    pub filed_by_label: String,
    /// Who called or wrote, when an operator filed it on their behalf.
    pub on_behalf: Option<OnBehalf>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A comment, a change of status, or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssistanceEvent {
    pub id: String,
    pub request_id: String,
    pub at: i64,
    /// The actor's label.
    pub author: String,
    /// The name shown: a staff member's, or the actor's label.
    pub author_name: String,
    /// The author handles requests (assistance, operator) rather than belonging to the
    /// establishment that filed it.
    pub by_assistance: bool,
    pub body: Option<String>,
    pub previous_status: Option<Status>,
    pub status: Option<Status>,
}

/// Which field of a request was refused, for the form to mark it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Establishment,
    Category,
    Accounts,
    Description,
    OnBehalf,
    Comment,
    Status,
}

/// The guardian who called or wrote, for a request an operator files on their behalf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnBehalf {
    pub name: String,
    /// A telephone number, an address: free text.
    pub contact: String,
}
