//! An establishment's dashboard: its last Siècle import (accounts appear once the export is
//! imported), its accounts counted by profile and state, the activation of each class, its
//! notices, and the linking candidates to confirm or decline — those only for whoever holds
//! `Right::Guardians` (with the second factor; without it the page says the factor opens them).

use super::records::known;
use super::{Actor, OperationError, Refusal, Right};
use crate::accounts::linking::LinkCandidate;
use crate::accounts::{AccountState, Profile};
use crate::provisioning::model::{Establishment, EstablishmentNotice, ImportRecord};
use crate::siecle::Uai;
use crate::store::{BackofficeQueries, DirectoryStore, LinkingStore};

/// Accounts of one profile, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateCounts {
    pub created: usize,
    pub notified: usize,
    pub active: usize,
    pub disabled: usize,
}

impl StateCounts {
    pub fn total(&self) -> usize {
        self.created + self.notified + self.active + self.disabled
    }

    fn count(&mut self, state: AccountState) {
        match state {
            AccountState::Created => self.created += 1,
            AccountState::Notified => self.notified += 1,
            AccountState::Active => self.active += 1,
            AccountState::Disabled => self.disabled += 1,
        }
    }
}

/// The pupils of one class: how many, how many active.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ClassActivation {
    pub class: String,
    pub pupils: usize,
    pub active: usize,
}

impl ClassActivation {
    /// The share of active accounts, in whole percent.
    pub fn percent(&self) -> usize {
        (self.active * 100).checked_div(self.pupils).unwrap_or(0)
    }
}

/// The linking candidates, as far as the actor may see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Candidates {
    Listed(Vec<LinkCandidate>),
    /// The actor holds `Right::Guardians` once the second factor is presented.
    SecondFactor,
    /// Not the actor's to see.
    NotHeld,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub establishment: Establishment,
    pub last_import: Option<ImportRecord>,
    pub pupils: StateCounts,
    /// Guardians and persons in charge.
    pub guardians: StateCounts,
    /// By class name.
    pub classes: Vec<ClassActivation>,
    /// Newest first.
    pub notices: Vec<EstablishmentNotice>,
    pub candidates: Candidates,
}

pub async fn dashboard(
    actor: &Actor,
    directory: &dyn DirectoryStore,
    roster: &dyn BackofficeQueries,
    links: &dyn LinkingStore,
    uai: &Uai,
) -> Result<Dashboard, OperationError> {
    actor.require(uai, Right::View)?;
    let establishment = known(uai, directory.establishment(uai.as_str()).await?)?;
    let last_import = known(uai, directory.imports(uai.as_str(), 1).await?)?
        .into_iter()
        .next();
    let notices = known(uai, directory.notices(uai.as_str()).await?)?;
    let mut pupils = StateCounts::default();
    let mut guardians = StateCounts::default();
    let mut classes: std::collections::BTreeMap<String, ClassActivation> = Default::default();
    for entry in roster.establishment_accounts(uai.as_str()).await? {
        let account = &entry.account;
        if account.profile != Profile::Pupil {
            guardians.count(account.state);
            continue;
        }
        pupils.count(account.state);
        for class in &entry.classes {
            let row = classes
                .entry(class.clone())
                .or_insert_with(|| ClassActivation {
                    class: class.clone(),
                    pupils: 0,
                    active: 0,
                });
            row.pupils += 1;
            if account.state == AccountState::Active {
                row.active += 1;
            }
        }
    }
    let candidates = match actor.check(uai, Right::Guardians) {
        Ok(()) => Candidates::Listed(known(
            uai,
            links.candidates_of_establishment(uai.as_str()).await?,
        )?),
        Err(Refusal::SecondFactor) => Candidates::SecondFactor,
        Err(Refusal::OutOfScope) => Candidates::NotHeld,
    };
    Ok(Dashboard {
        establishment,
        last_import,
        pupils,
        guardians,
        classes: classes.into_values().collect(),
        notices,
        candidates,
    })
}
