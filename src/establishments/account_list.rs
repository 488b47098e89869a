//! The list of an establishment's accounts (*Comptes*): filtered by name (folded: no case, no
//! accents), class, profile, state, e-mail present or not; sorted; a page at a time. Seeing the
//! list needs `Right::View` only: pupils' and guardians' rows alike (acting on a row needs the
//! right over its profile, which each action checks). An establishment records a few thousand
//! accounts at most: they are read at once and filtered here, the same on both dialects.

use std::collections::HashMap;

use super::records::known;
use super::{Actor, OperationError, Right};
use crate::accounts::{Account, AccountState, Profile};
use crate::siecle::Uai;
use crate::store::{BackofficeQueries, DirectoryStore};

/// Rows per page.
pub const PAGE_SIZE: usize = 50;

/// Which profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileFilter {
    Pupils,
    /// Guardians and persons in charge.
    Guardians,
}

/// Which states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StateFilter {
    #[default]
    Any,
    Is(AccountState),
    /// Never notified (`created`): at the start of the year, those still to get a letter.
    NotNotified,
    /// Not active yet (`created` or `notified`).
    NotActivated,
}

impl StateFilter {
    fn keeps(self, state: AccountState) -> bool {
        match self {
            StateFilter::Any => true,
            StateFilter::Is(wanted) => state == wanted,
            StateFilter::NotNotified => state == AccountState::Created,
            StateFilter::NotActivated => {
                matches!(state, AccountState::Created | AccountState::Notified)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Name,
    Class,
    Profile,
    State,
    LastNotified,
}

/// What the list is asked for.
#[derive(Clone, Debug, Default)]
pub struct AccountQuery {
    /// Part of a name or of the login, folded.
    pub name: Option<String>,
    pub class: Option<String>,
    pub profile: Option<ProfileFilter>,
    pub state: StateFilter,
    /// With (`true`) or without (`false`) an e-mail address to notify.
    pub email: Option<bool>,
    pub sort: Sort,
    pub descending: bool,
    /// From 1.
    pub page: usize,
}

/// One account of the list.
#[derive(Clone, Debug)]
pub struct AccountRow {
    pub account: Account,
    /// A pupil's class; a guardian's children's classes.
    pub classes: Vec<String>,
    /// The last notification that reached the account, from this establishment.
    pub last_notified: Option<i64>,
    /// An address a notification e-mail would go to (`notify::address`).
    pub email: bool,
}

/// A page of the list.
#[derive(Clone, Debug)]
pub struct AccountPage {
    pub rows: Vec<AccountRow>,
    /// Accounts matching the filters, all pages.
    pub total: usize,
    /// The page shown (from 1) and how many there are.
    pub page: usize,
    pub pages: usize,
    /// Every class of the establishment, for the class filter.
    pub classes: Vec<String>,
}

/// Lower case, accents gone: what the name filter compares.
pub fn folded(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

/// An address a notification e-mail would go to (as `notify::address` chooses it).
fn has_address(account: &Account) -> bool {
    account
        .verified_email
        .as_deref()
        .or(account.email.as_deref())
        .is_some_and(|a| !a.trim().is_empty())
}

/// Every account the establishment records, with its last notification, in no order.
pub(super) async fn rows(
    directory: &dyn DirectoryStore,
    roster: &dyn BackofficeQueries,
    uai: &Uai,
) -> Result<Vec<AccountRow>, OperationError> {
    let mut last: HashMap<String, i64> = HashMap::new();
    for record in directory.notifications(uai.as_str()).await? {
        for id in record.account_ids {
            let at = last.entry(id).or_insert(record.created_at);
            *at = (*at).max(record.created_at);
        }
    }
    Ok(roster
        .establishment_accounts(uai.as_str())
        .await?
        .into_iter()
        .map(|entry| AccountRow {
            last_notified: last.get(&entry.account.id).copied(),
            email: has_address(&entry.account),
            account: entry.account,
            classes: entry.classes,
        })
        .collect())
}

fn matches(row: &AccountRow, query: &AccountQuery, name: Option<&str>) -> bool {
    let account = &row.account;
    let profile = match query.profile {
        None => true,
        Some(ProfileFilter::Pupils) => account.profile == Profile::Pupil,
        Some(ProfileFilter::Guardians) => account.profile != Profile::Pupil,
    };
    let named = name.is_none_or(|name| {
        let whole = folded(&format!(
            "{} {} {}",
            account.given_name, account.family_name, account.login
        ));
        name.split_whitespace().all(|word| whole.contains(word))
    });
    profile
        && named
        && query.state.keeps(account.state)
        && query.email.is_none_or(|wanted| row.email == wanted)
        && query
            .class
            .as_ref()
            .is_none_or(|class| row.classes.iter().any(|c| c == class))
}

fn state_rank(state: AccountState) -> u8 {
    match state {
        AccountState::Created => 0,
        AccountState::Notified => 1,
        AccountState::Active => 2,
        AccountState::Disabled => 3,
    }
}

fn profile_rank(profile: Profile) -> u8 {
    match profile {
        Profile::Pupil => 0,
        Profile::Guardian => 1,
        Profile::PersonInCharge => 2,
    }
}

fn sort(rows: &mut [AccountRow], sort: Sort, descending: bool) {
    let name = |r: &AccountRow| {
        (
            folded(&r.account.family_name),
            folded(&r.account.given_name),
            r.account.login.clone(),
        )
    };
    rows.sort_by(|a, b| {
        let order = match sort {
            Sort::Name => std::cmp::Ordering::Equal,
            Sort::Class => a.classes.first().cmp(&b.classes.first()),
            Sort::Profile => profile_rank(a.account.profile).cmp(&profile_rank(b.account.profile)),
            Sort::State => state_rank(a.account.state).cmp(&state_rank(b.account.state)),
            Sort::LastNotified => a.last_notified.cmp(&b.last_notified),
        };
        let order = if descending { order.reverse() } else { order };
        // Then by name, always ascending (a descending name sort reverses the name itself).
        match (sort, descending) {
            (Sort::Name, true) => name(b).cmp(&name(a)),
            _ => order.then_with(|| name(a).cmp(&name(b))),
        }
    });
}

/// A page of the establishment's accounts.
pub async fn accounts(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    roster: &dyn BackofficeQueries,
    uai: &Uai,
    query: &AccountQuery,
) -> Result<AccountPage, OperationError> {
    actor.require(uai, Right::View)?;
    known(uai, directory.establishment(uai.as_str()).await?)?;
    let all = rows(directory, roster, uai).await?;
    let mut classes: Vec<String> = all
        .iter()
        .filter(|r| r.account.profile == Profile::Pupil)
        .flat_map(|r| r.classes.iter().cloned())
        .collect();
    classes.sort();
    classes.dedup();
    let name = query
        .name
        .as_deref()
        .map(folded)
        .filter(|n| !n.trim().is_empty());
    let mut kept: Vec<AccountRow> = all
        .into_iter()
        .filter(|r| matches(r, query, name.as_deref()))
        .collect();
    sort(&mut kept, query.sort, query.descending);
    let total = kept.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let rows = kept
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    Ok(AccountPage {
        rows,
        total,
        page,
        pages,
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::LoginId;

    fn row(given: &str, family: &str, class: &str, state: AccountState) -> AccountRow {
        let mut account = Account::new(
            LoginId::parse(&format!("{}.{}", &folded(given)[..1], folded(family))).unwrap(),
            Profile::Pupil,
            given,
            family,
            0,
        );
        account.state = state;
        AccountRow {
            account,
            classes: vec![class.into()],
            last_notified: None,
            email: false,
        }
    }

    #[test]
    fn the_name_filter_ignores_case_and_accents() {
        let lefevre = row("Éloi", "LEFÈVRE", "6A", AccountState::Created);
        let query = AccountQuery::default();
        assert!(matches(&lefevre, &query, Some(&folded("eloi lefevre"))));
        assert!(matches(&lefevre, &query, Some("lefe")));
        assert!(!matches(&lefevre, &query, Some("martin")));
    }

    #[test]
    fn not_activated_means_created_or_notified() {
        let query = AccountQuery {
            state: StateFilter::NotActivated,
            ..AccountQuery::default()
        };
        for (state, kept) in [
            (AccountState::Created, true),
            (AccountState::Notified, true),
            (AccountState::Active, false),
            (AccountState::Disabled, false),
        ] {
            assert_eq!(
                matches(&row("Léo", "Roux", "5B", state), &query, None),
                kept
            );
        }
    }

    #[test]
    fn sorting_by_class_then_name_and_by_name_descending() {
        let mut rows = vec![
            row("Léo", "Roux", "5B", AccountState::Created),
            row("Zoé", "Martin", "6A", AccountState::Created),
            row("Inès", "Bonnet", "6A", AccountState::Created),
        ];
        sort(&mut rows, Sort::Class, false);
        let names: Vec<_> = rows
            .iter()
            .map(|r| r.account.family_name.as_str())
            .collect();
        assert_eq!(names, ["Roux", "Bonnet", "Martin"]);
        sort(&mut rows, Sort::Name, true);
        let names: Vec<_> = rows
            .iter()
            .map(|r| r.account.family_name.as_str())
            .collect();
        assert_eq!(names, ["Roux", "Martin", "Bonnet"]);
    }
}
