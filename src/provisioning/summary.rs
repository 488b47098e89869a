//! The totals of an import over many establishments, as the command prints them (French, for
//! the people who run imports).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::{EstablishmentReport, Outcome};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub establishments_imported: u64,
    pub establishments_refused: u64,
    /// Refusals whose only cause is invalid records (`--skip-invalid` would import the rest).
    pub refused_for_records: u64,
    pub totals: EstablishmentReport,
    pub seconds: f64,
}

impl Summary {
    pub fn of(outcomes: &[Outcome], elapsed: Duration) -> Summary {
        let mut summary = Summary {
            seconds: elapsed.as_secs_f64(),
            ..Summary::default()
        };
        let t = &mut summary.totals;
        for outcome in outcomes {
            match outcome {
                Outcome::Imported(r) => {
                    summary.establishments_imported += 1;
                    t.records += r.records;
                    t.pupils_created += r.pupils_created;
                    t.guardians_created += r.guardians_created;
                    t.arrived += r.arrived;
                    t.updated += r.updated;
                    t.unchanged += r.unchanged;
                    t.left += r.left;
                    t.linked += r.linked;
                    t.unlinked += r.unlinked;
                    t.recognized += r.recognized;
                    t.candidates += r.candidates;
                    t.ignored += r.ignored;
                    t.rejected.extend(r.rejected.iter().cloned());
                }
                Outcome::Refused { invalid_file, .. } => {
                    summary.establishments_refused += 1;
                    summary.refused_for_records += u64::from(!invalid_file);
                }
            }
        }
        summary
    }

    pub fn records_per_second(&self) -> f64 {
        self.totals.records as f64 / self.seconds.max(1e-9)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.totals;
        writeln!(
            f,
            "{} établissement(s) importé(s), {} refusé(s) ; {} fiches en {:.1} s ({:.0} fiches/s)",
            self.establishments_imported,
            self.establishments_refused,
            t.records,
            self.seconds,
            self.records_per_second()
        )?;
        writeln!(
            f,
            "  créés      : {} compte(s) élève, {} compte(s) responsable",
            t.pupils_created, t.guardians_created
        )?;
        writeln!(
            f,
            "  arrivés    : {} (comptes existants : élève venu d'un autre établissement, responsable reconnu : {})",
            t.arrived, t.recognized
        )?;
        writeln!(f, "  mis à jour : {}", t.updated)?;
        writeln!(f, "  inchangés  : {}", t.unchanged)?;
        writeln!(f, "  partis     : {} (détachés, comptes conservés)", t.left)?;
        writeln!(
            f,
            "  liens      : {} ajouté(s), {} retiré(s)",
            t.linked, t.unlinked
        )?;
        writeln!(
            f,
            "  à confirmer: {} rapprochement(s) possible(s) de comptes responsables",
            t.candidates
        )?;
        writeln!(f, "  ignorés    : {}", t.ignored)?;
        write!(f, "  rejetés    : {}", t.rejected.len())
    }
}
