//! What the store answers about the people an establishment notifies, and what a notification
//! asks for (records only: the store imports this file; nothing here reads the store).

use crate::accounts::{Account, Profile};
use crate::siecle::{Level, Uai};

/// A person an establishment may notify, with what the letter says of them there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationTarget {
    pub account: Account,
    /// A pupil's class (division) in the establishment.
    pub class: Option<String>,
    /// A pupil's MEF code there, whose prefix is the level (`siecle::Level`).
    pub mef: Option<String>,
    /// How many establishments record this person (a guardian with children in several
    /// establishments may be notified by each).
    pub establishments: usize,
    /// A guardian's children enrolled in the establishment, by class then name.
    pub children: Vec<ChildInClass>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInClass {
    pub given_name: String,
    pub family_name: String,
    pub class: Option<String>,
    pub mef: Option<String>,
}

impl NotificationTarget {
    /// Letters are handed out by class: a pupil's class, a guardian's first child's.
    pub fn sort_class(&self) -> Option<&str> {
        match &self.class {
            Some(class) => Some(class),
            None => self.children.iter().find_map(|c| c.class.as_deref()),
        }
    }
}

/// A notification as recorded: who, when, which accounts, reset or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: String,
    pub uai: String,
    /// The actor's label.
    pub actor: String,
    pub profile: crate::accounts::Profile,
    /// Whether the passwords of active accounts were reset (the others always get one).
    pub reset: bool,
    pub carrier: CarrierKind,
    pub account_ids: Vec<String>,
    pub created_at: i64,
}

/// How a notification reaches people, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CarrierKind {
    /// Printed letters (PDF).
    Letters,
    /// E-mail, through the outbox.
    Email,
}

impl CarrierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CarrierKind::Letters => "pdf",
            CarrierKind::Email => "email",
        }
    }

    pub fn parse(value: &str) -> Option<CarrierKind> {
        match value {
            "pdf" => Some(CarrierKind::Letters),
            "email" => Some(CarrierKind::Email),
            _ => None,
        }
    }
}

/// One line of an identifiers file: an account the establishment hands out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifierRow {
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    /// A pupil's class; a guardian's children's classes there, comma-separated.
    pub class: Option<String>,
    pub profile: crate::accounts::Profile,
    pub state: crate::accounts::AccountState,
}

/// Whom of the establishment's pupils or guardians.
#[derive(Clone, Debug)]
pub enum Selection {
    All,
    /// A class (division), e.g. `5B`: its pupils, or the guardians of its pupils.
    Class(String),
    /// A level (`6E`, `2NDE`…, from the pupils' MEF codes): its pupils, or their guardians.
    Level(Level),
    /// Given accounts, by login.
    Logins(Vec<String>),
}

/// What a notification does to an **active** account's password (the others always get a
/// temporary one: they have no usable password yet). FAQ: an active account can be notified
/// with or without a reset; in bulk the reset defaults to off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivePasswords {
    Keep,
    Reset,
}

/// What is asked: whom, and what becomes of active accounts' passwords.
#[derive(Clone, Debug)]
pub struct Request {
    pub uai: Uai,
    pub profile: Profile,
    pub selection: Selection,
    pub active: ActivePasswords,
}
