//! *Dépannage élève*: a pupil found by name, login or class (BTS students are pupils like any
//! other), with what a secretary needs to help at once — login, state, whether the login is
//! throttled, the last letter issued. `Right::Pupils`: a password sign-in is enough. Acting on
//! a pupil found (a new temporary password, unblocking, an attachment code) goes through the
//! account page's actions (`account_actions`).

use super::account_file::{throttled, Files};
use super::account_list::{folded, rows, AccountRow};
use super::model::CarrierKind;
use super::records::known;
use super::{Actor, OperationError, Right};
use crate::accounts::Profile;
use crate::siecle::Uai;

/// The most pupils a search shows (a class holds fewer).
pub const FOUND: usize = 60;

/// One pupil found.
#[derive(Clone, Debug)]
pub struct PupilFound {
    pub row: AccountRow,
    pub throttled: bool,
    /// The last letter (PDF) that carried a notification to them here.
    pub last_letter: Option<i64>,
}

/// What the search found: at most `FOUND` pupils, and how many matched.
#[derive(Clone, Debug)]
pub struct Found {
    pub pupils: Vec<PupilFound>,
    pub matched: usize,
}

/// The establishment's pupils whose name or login holds every word of `search`, or whose class
/// is `search`; by class then name.
pub async fn find_pupils(
    actor: &Actor,
    files: &Files<'_>,
    uai: &Uai,
    search: &str,
    now_ms: i64,
) -> Result<Found, OperationError> {
    let (directory, roster) = (files.directory, files.roster);
    actor.require(uai, Right::Pupils)?;
    known(uai, directory.establishment(uai.as_str()).await?)?;
    let words = folded(search);
    let words: Vec<&str> = words.split_whitespace().collect();
    if words.is_empty() {
        return Ok(Found {
            pupils: Vec::new(),
            matched: 0,
        });
    }
    let class = search.trim().to_uppercase();
    let mut matched: Vec<AccountRow> = rows(directory, roster, uai)
        .await?
        .into_iter()
        .filter(|r| r.account.profile == Profile::Pupil)
        .filter(|r| {
            let a = &r.account;
            let whole = folded(&format!("{} {} {}", a.given_name, a.family_name, a.login));
            r.classes.iter().any(|c| c.to_uppercase() == class)
                || words.iter().all(|w| whole.contains(w))
        })
        .collect();
    matched.sort_by_key(|r| {
        (
            r.classes.first().cloned(),
            folded(&r.account.family_name),
            folded(&r.account.given_name),
        )
    });
    let count = matched.len();
    let letters: Vec<_> = directory
        .notifications(uai.as_str())
        .await?
        .into_iter()
        .filter(|n| n.carrier == CarrierKind::Letters)
        .collect();
    let mut pupils = Vec::new();
    for row in matched.into_iter().take(FOUND) {
        let last_letter = letters
            .iter()
            .filter(|n| n.account_ids.contains(&row.account.id))
            .map(|n| n.created_at)
            .max();
        pupils.push(PupilFound {
            throttled: throttled(files.ephemeral, files.throttle, &row.account.login, now_ms)
                .await?,
            last_letter,
            row,
        });
    }
    Ok(Found {
        pupils,
        matched: count,
    })
}
