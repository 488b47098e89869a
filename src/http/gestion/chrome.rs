//! What every back-office page's layout shows (`templates/backoffice/layout.html`): who is
//! signed in (and whether with the second factor), the sign-out form, and the menu — of the
//! establishment the page is about, by the rights the staff member holds there, or the
//! staff member's own. A menu entry is shown for a right held with or without the second
//! factor (following it asks for the factor); hiding an entry is never what guards it.

use super::signed::Signed;
use crate::establishments::{Refusal, Right};
use crate::siecle::Uai;

/// The page a menu entry leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Home,
    Dashboard,
    Accounts,
    Troubleshooting,
    Identifiers,
    Delegations,
    Journal,
    Assistance,
    Queue,
    Staff,
}

pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

pub struct Chrome {
    pub staff_name: String,
    pub second_factor: bool,
    pub csrf: String,
    /// The establishment the page is about: its UAI and name.
    pub establishment: Option<(String, String)>,
    pub nav: Vec<NavItem>,
}

impl Chrome {
    /// The layout of a page about no establishment in particular.
    pub fn new(signed: &Signed, current: Section) -> Chrome {
        let actor = &signed.actor;
        let mut nav = vec![item(
            "/gestion/accueil".into(),
            "Accueil",
            Section::Home,
            current,
        )];
        if actor.holds(Right::Assist) {
            nav.push(item(
                "/gestion/assistance".into(),
                "Demandes d'assistance",
                Section::Queue,
                current,
            ));
        }
        if actor.holds_nationally(Right::Audit) {
            nav.push(item(
                "/gestion/journal".into(),
                "Journal national",
                Section::Journal,
                current,
            ));
        }
        if actor.holds_nationally(Right::Staff) {
            nav.push(item(
                "/gestion/personnels".into(),
                "Personnels",
                Section::Staff,
                current,
            ));
        }
        Chrome::with(signed, None, nav)
    }

    /// The layout of a page about an establishment (`name` as the directory holds it).
    pub fn of(signed: &Signed, uai: &Uai, name: &str, current: Section) -> Chrome {
        let actor = &signed.actor;
        let base = format!("/gestion/etablissements/{uai}");
        let held = |right| actor.check(uai, right) != Err(Refusal::OutOfScope);
        let mut nav = vec![item(
            "/gestion/accueil".into(),
            "Accueil",
            Section::Home,
            current,
        )];
        let entries: [(Right, &str, &'static str, Section); 7] = [
            (Right::View, "", "Tableau de bord", Section::Dashboard),
            (Right::View, "/comptes", "Comptes", Section::Accounts),
            (
                Right::Pupils,
                "/depannage",
                "Dépannage élève",
                Section::Troubleshooting,
            ),
            (
                Right::Guardians,
                "/identifiants",
                "Nouveaux identifiants",
                Section::Identifiers,
            ),
            (
                Right::Delegate,
                "/delegations",
                "Délégations",
                Section::Delegations,
            ),
            (Right::Audit, "/journal", "Journal", Section::Journal),
            (
                Right::FileRequest,
                "/assistance",
                "Assistance",
                Section::Assistance,
            ),
        ];
        for (right, path, label, section) in entries {
            if held(right) {
                nav.push(item(format!("{base}{path}"), label, section, current));
            }
        }
        Chrome::with(
            signed,
            Some((uai.as_str().to_owned(), name.to_owned())),
            nav,
        )
    }

    fn with(signed: &Signed, establishment: Option<(String, String)>, nav: Vec<NavItem>) -> Chrome {
        Chrome {
            staff_name: signed.staff.display_name(),
            second_factor: signed.session.second_factor(),
            csrf: signed.csrf(),
            establishment,
            nav,
        }
    }
}

fn item(href: String, label: &'static str, section: Section, current: Section) -> NavItem {
    NavItem {
        href,
        label,
        current: section == current,
    }
}
