//! Importing many establishments: each export is read and checked on a blocking thread, a few
//! establishments ahead, while the current one is written; each establishment is accepted or
//! refused on its own. Into a directory that holds no pupil and no guardian yet, a run of
//! `FIRST_LOAD_FROM` establishments or more is a first load: all of them applied in one
//! transaction written at the end (`DirectoryStore::begin_first_load`), all or nothing. After a
//! run that wrote many rows, the planner's statistics are refreshed (`refresh_statistics_if_large`).

use std::path::PathBuf;

use serde::Serialize;
use tokio::sync::mpsc;

use super::apply::apply;
use super::{import_establishment, EstablishmentReport};
use crate::siecle::{Export, FileError, Limits};
use crate::store::DirectoryStore;

/// Exports read ahead of the one being written.
const READ_AHEAD: usize = 3;

/// Establishments in a run from which an empty directory is filled by a first load.
pub const FIRST_LOAD_FROM: usize = 10;

/// What became of one establishment's export.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Imported(EstablishmentReport),
    /// Nothing of it was written.
    Refused {
        /// The establishment's folder, or its UAI.
        source: String,
        /// The files cannot be trusted as a whole (malformed, inconsistent...), rather than
        /// some records being invalid (which `skip_invalid` would have imported without them).
        invalid_file: bool,
        problems: Vec<String>,
    },
}

/// Called after each establishment, in order.
pub trait Progress: Send {
    fn done(&mut self, outcome: &Outcome);
    /// A first load has applied every establishment and now writes them all.
    fn writing(&mut self) {}
}

impl<F: FnMut(&Outcome) + Send> Progress for F {
    fn done(&mut self, outcome: &Outcome) {
        self(outcome)
    }
}

/// A checked export, or why it is refused: a file error always; a rejected record unless
/// `skip_invalid`.
pub fn accept(
    source: String,
    read: Result<Export, Vec<FileError>>,
    skip_invalid: bool,
    limits: &Limits,
) -> Result<Export, Box<Outcome>> {
    match read {
        Err(errors) => Err(Box::new(Outcome::Refused {
            source,
            invalid_file: true,
            problems: listed(&errors, limits.problems_listed),
        })),
        Ok(export) if !export.rejected.is_empty() && !skip_invalid => {
            Err(Box::new(Outcome::Refused {
                source: export.uai.to_string(),
                invalid_file: false,
                problems: listed(&export.rejected, limits.problems_listed),
            }))
        }
        Ok(export) => Ok(export),
    }
}

/// Review #13.4: a refusal lists the first `shown` problems, then how many more there are.
fn listed<T: ToString>(problems: &[T], shown: usize) -> Vec<String> {
    let mut lines: Vec<String> = problems.iter().take(shown).map(T::to_string).collect();
    if problems.len() > shown {
        lines.push(format!("… et {} autres problèmes", problems.len() - shown));
    }
    lines
}

/// Imports the establishments whose two files are `pairs` (see `siecle::find_exports`); a
/// first load from `first_load_from` establishments (`FIRST_LOAD_FROM`, or `usize::MAX`: never).
pub async fn import_exports(
    store: &dyn DirectoryStore,
    pairs: Vec<(PathBuf, PathBuf)>,
    skip_invalid: bool,
    source: &str,
    clock: &dyn crate::clock::Clock,
    progress: &mut dyn Progress,
    first_load_from: usize,
) -> anyhow::Result<Vec<Outcome>> {
    let mut first_load = if pairs.len() >= first_load_from {
        store.begin_first_load().await?
    } else {
        None
    };
    let (sender, mut receiver) = mpsc::channel(READ_AHEAD);
    let reader = tokio::spawn(async move {
        for (pupils, guardians) in pairs {
            let read = tokio::task::spawn_blocking(move || {
                let folder = pupils
                    .parent()
                    .map_or_else(String::new, |d| d.display().to_string());
                accept(
                    folder,
                    crate::siecle::read_establishment(&pupils, &guardians),
                    skip_invalid,
                    &Limits::default(),
                )
            });
            if sender.send(read).await.is_err() {
                return;
            }
        }
    });
    let mut outcomes = Vec::new();
    while let Some(read) = receiver.recv().await {
        let outcome = match read.await? {
            Err(refused) => *refused,
            Ok(export) => Outcome::Imported(match &mut first_load {
                Some(load) => apply(&mut **load, &export, source, clock.now_ms()).await?,
                None => import_establishment(store, &export, source, clock.now_ms()).await?,
            }),
        };
        progress.done(&outcome);
        outcomes.push(outcome);
    }
    reader.await?;
    if let Some(load) = first_load {
        progress.writing();
        load.commit().await?;
    }
    Ok(outcomes)
}

/// Rows written by a run from which the planner's statistics are refreshed after it.
// A large import leaves the planner's statistics behind (autovacuum may be late, or off).
const STATISTICS_AFTER: u64 = 10_000;

/// Whether a run that ended in `outcomes` wrote enough rows (accounts created, arrivals,
/// updates, links added, departures) to refresh the statistics.
fn statistics_outdated(outcomes: &[Outcome]) -> bool {
    let written: u64 = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Imported(r) => r.created() + r.arrived + r.updated + r.linked + r.left,
            Outcome::Refused { .. } => 0,
        })
        .sum();
    written >= STATISTICS_AFTER
}

/// After a run of `import_exports`: refreshes the planner's statistics
/// (`DirectoryStore::refresh_statistics`) if the run wrote `STATISTICS_AFTER` rows or more.
pub async fn refresh_statistics_if_large(
    store: &dyn DirectoryStore,
    outcomes: &[Outcome],
) -> anyhow::Result<()> {
    if statistics_outdated(outcomes) {
        let started = std::time::Instant::now();
        store.refresh_statistics().await?;
        let ms = started.elapsed().as_millis() as u64;
        tracing::debug!(ms, "statistics refreshed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(created: u64, updated: u64, unchanged: u64) -> Outcome {
        Outcome::Imported(EstablishmentReport {
            pupils_created: created,
            updated,
            unchanged,
            ..EstablishmentReport::default()
        })
    }

    #[test]
    fn statistics_are_refreshed_from_ten_thousand_rows_written_over_the_run() {
        let refused = Outcome::Refused {
            source: "0350001A".into(),
            invalid_file: true,
            problems: vec![],
        };
        assert!(!statistics_outdated(&[]));
        assert!(!statistics_outdated(&[imported(9_999, 0, 50_000), refused]));
        assert!(statistics_outdated(&[
            imported(5_000, 0, 0),
            imported(0, 5_000, 0)
        ]));
    }
}
