//! Siècle exports (issue #4): the two XML files an establishment hands over
//! (`ElevesSansAdresses.xml`, `ResponsablesAvecAdresses.xml`, layout in
//! `../shared/fixtures/siecle/README.md`), read and checked before anything is imported.
//!
//! A file that cannot be trusted as a whole (malformed, truncated, wrongly encoded, wrong root
//! element, invalid or mismatched UAI, duplicated ids, a link to an unknown pupil or person) is
//! refused with every problem found, each naming the file, the line, the element and the id.
//! Records that are invalid on their own (an invalid INE, a missing name, an impossible date) are
//! listed as rejected; the caller decides whether they refuse the import or are left out.

pub mod ids;
pub mod level;
mod limits;
mod read;
mod records;
mod validate;
mod xml;

use std::fmt;
use std::path::{Path, PathBuf};

pub use ids::{Ine, Uai};
pub use level::Level;
pub use limits::{Interrupt, Interruption, Limits};
pub use read::{read_establishment, read_establishment_bytes, read_establishment_bytes_within};

pub const PUPILS_FILE: &str = "ElevesSansAdresses.xml";
pub const GUARDIANS_FILE: &str = "ResponsablesAvecAdresses.xml";

/// A problem that makes a whole file untrustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl FileError {
    pub fn new(file: &str, line: usize, message: impl Into<String>) -> FileError {
        FileError {
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, ligne {} : {}", self.file, self.line, self.message)
    }
}

/// A record left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub file: String,
    pub line: usize,
    /// `ELEVE ELEVE_ID=100654`, `PERSONNE PERSONNE_ID=...`, `RESPONSABLE_ELEVE ELEVE_ID=... PERSONNE_ID=...`.
    pub record: String,
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, ligne {} : {} : {}",
            self.file, self.line, self.record, self.reason
        )
    }
}

/// A calendar date (`DD/MM/YYYY` in the exports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// The UTC calendar date of an instant (days since 1970-01-01, proleptic Gregorian).
    pub fn from_epoch_ms(ms: i64) -> Date {
        // H. Hinnant's civil_from_days.
        let z = ms.div_euclid(86_400_000) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    pub fn parse_french(value: &str) -> Option<Date> {
        let mut parts = value.trim().split('/');
        let day: u8 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let year: u16 = parts.next()?.parse().ok()?;
        if parts.next().is_some() || !(1900..=2200).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A pupil as one establishment records them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pupil {
    /// Siècle `ELEVE_ID`, local to the establishment.
    pub eleve_id: String,
    pub ine: Ine,
    pub family_name: String,
    pub usage_name: Option<String>,
    pub given_name: String,
    pub birth_date: Date,
    pub entry_date: Option<Date>,
    /// Set when the pupil has left the establishment.
    pub exit_date: Option<Date>,
    /// The class (`TYPE_STRUCTURE` D).
    pub division: Option<String>,
    /// `CODE_MEF`, whose first three digits are the level (`level.rs`); absent from some
    /// exports.
    pub mef: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Address {
    pub lines: Vec<String>,
    pub postal_code: Option<String>,
    pub town: Option<String>,
    pub country: Option<String>,
}

/// A guardian or person in charge as one establishment records them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Siècle `PERSONNE_ID`, local to the establishment.
    pub personne_id: String,
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub address: Option<Address>,
}

/// What a person is to a pupil (`RESP_LEGAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Legal guardian 1 or 2.
    LegalGuardian(u8),
    /// Another person (`RESP_LEGAL` 0): a person in charge, not a legal guardian.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub eleve_id: String,
    pub personne_id: String,
    pub role: Role,
    /// `CODE_PARENTE` (10 father, 20 mother, 50 other...).
    pub relationship: Option<String>,
}

/// One establishment's export, checked.
#[derive(Clone, Debug)]
pub struct Export {
    pub uai: Uai,
    pub school_year: Option<String>,
    pub export_date: Option<Date>,
    pub pupils: Vec<Pupil>,
    pub persons: Vec<Person>,
    pub links: Vec<Link>,
    pub rejected: Vec<Rejected>,
    pub rejected_ids: RejectedIds,
}

/// The ids of the rejected records: what a partial import must leave as it is (a pupil whose
/// record is rejected this time has not left the establishment).
#[derive(Clone, Debug, Default)]
pub struct RejectedIds {
    pub pupils: std::collections::HashSet<String>,
    pub persons: std::collections::HashSet<String>,
    /// (`ELEVE_ID`, `PERSONNE_ID`)
    pub links: std::collections::HashSet<(String, String)>,
}

/// The two files of each establishment under `paths`: a folder holding both files, a folder of
/// such folders, or the two files themselves.
pub fn find_exports(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let mut pairs = Vec::new();
    let mut loose: Vec<&PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            if path.join(PUPILS_FILE).is_file() || path.join(GUARDIANS_FILE).is_file() {
                pairs.push(pair_in(path)?);
                continue;
            }
            let mut subdirs: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{} : {e}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            subdirs.sort();
            if subdirs.is_empty() {
                return Err(format!(
                    "{} : ni {PUPILS_FILE} ni {GUARDIANS_FILE}, ni dossier d'établissement",
                    path.display()
                ));
            }
            for dir in subdirs {
                pairs.push(pair_in(&dir)?);
            }
        } else if path.is_file() {
            loose.push(path);
        } else {
            return Err(format!("{} : introuvable", path.display()));
        }
    }
    if !loose.is_empty() {
        let named = |name: &str| {
            loose
                .iter()
                .find(|p| p.file_name().is_some_and(|f| f == name))
                .map(|p| p.to_path_buf())
        };
        match (named(PUPILS_FILE), named(GUARDIANS_FILE)) {
            (Some(pupils), Some(guardians)) if loose.len() == 2 => pairs.push((pupils, guardians)),
            _ => {
                return Err(format!(
                    "donnez les deux fichiers {PUPILS_FILE} et {GUARDIANS_FILE} d'un même \
                     établissement, ou leur dossier"
                ))
            }
        }
    }
    Ok(pairs)
}

fn pair_in(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let (pupils, guardians) = (dir.join(PUPILS_FILE), dir.join(GUARDIANS_FILE));
    for file in [&pupils, &guardians] {
        if !file.is_file() {
            return Err(format!("{} : fichier absent", file.display()));
        }
    }
    Ok((pupils, guardians))
}

#[cfg(test)]
mod tests {
    use super::Date;

    #[test]
    fn dates_of_instants_are_utc_calendar_dates() {
        let date = |ms| Date::from_epoch_ms(ms).to_string();
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(date(1_788_220_799_999), "2026-08-31");
        assert_eq!(date(1_788_220_800_000), "2026-09-01");
    }
}
