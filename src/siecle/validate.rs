//! From raw records to a checked `Export`: file-level problems refuse the establishment's
//! export as a whole, record-level ones (`records.rs`) reject the record (and the links that
//! need it). The fields read here are the ones `read.rs`'s layouts keep.

use super::records::{person, pupil, typed};
use super::xml::{RawFile, RawRecord};
use super::{
    Date, Export, FileError, Ine, Link, Rejected, RejectedIds, Role, Uai, GUARDIANS_FILE,
    PUPILS_FILE,
};
use std::collections::{HashMap, HashSet};

/// The UAI a file's `PARAMETRES/UAJ` names.
fn uai_of(file: &str, raw: &RawFile, errors: &mut Vec<FileError>) -> Option<Uai> {
    let line = raw.parameters.line.max(1);
    match raw.parameters.field("UAJ") {
        None => {
            errors.push(FileError::new(
                file,
                line,
                "PARAMETRES/UAJ absent : l'établissement n'est pas identifié",
            ));
            None
        }
        Some(value) => Uai::parse(value)
            .map_err(|e| errors.push(FileError::new(file, line, format!("PARAMETRES/UAJ : {e}"))))
            .ok(),
    }
}

/// Ids of `records` (by attribute or field `key`): missing and duplicated ids are file errors.
fn unique_ids<'a>(
    file: &str,
    element: &str,
    key: &str,
    records: &'a [RawRecord],
    errors: &mut Vec<FileError>,
) -> HashMap<&'a str, &'a RawRecord> {
    let mut ids = HashMap::new();
    for record in records {
        let Some(id) = record.attribute(key).or_else(|| record.field(key)) else {
            errors.push(FileError::new(
                file,
                record.line,
                format!("{element} sans {key}"),
            ));
            continue;
        };
        if let Some(first) = ids.insert(id, record) {
            errors.push(FileError::new(
                file,
                record.line,
                format!("{element} {key}={id} en double (déjà ligne {})", first.line),
            ));
        }
    }
    ids
}

pub(super) fn check(
    pupils_file: &RawFile,
    guardians_file: &RawFile,
) -> Result<Export, Vec<FileError>> {
    let mut errors = Vec::new();
    let uai = uai_of(PUPILS_FILE, pupils_file, &mut errors);
    let other_uai = uai_of(GUARDIANS_FILE, guardians_file, &mut errors);
    if let (Some(a), Some(b)) = (&uai, &other_uai) {
        if a != b {
            errors.push(FileError::new(
                GUARDIANS_FILE,
                guardians_file.parameters.line.max(1),
                format!("PARAMETRES/UAJ {b} ne correspond pas à celui de {PUPILS_FILE} ({a})"),
            ));
        }
    }
    let eleves = unique_ids(
        PUPILS_FILE,
        "ELEVE",
        "ELEVE_ID",
        pupils_file.records("ELEVE"),
        &mut errors,
    );
    let personnes = unique_ids(
        GUARDIANS_FILE,
        "PERSONNE",
        "PERSONNE_ID",
        guardians_file.records("PERSONNE"),
        &mut errors,
    );
    let adresses = unique_ids(
        GUARDIANS_FILE,
        "ADRESSE",
        "ADRESSE_ID",
        guardians_file.records("ADRESSE"),
        &mut errors,
    );
    // The same INE twice in one establishment is one pupil recorded twice.
    let mut ines: HashMap<String, &RawRecord> = HashMap::new();
    for record in pupils_file.records("ELEVE") {
        if let Some(ine) = record.field("ID_NATIONAL").and_then(|v| Ine::parse(v).ok()) {
            if let Some(first) = ines.insert(ine.to_string(), record) {
                errors.push(FileError::new(
                    PUPILS_FILE,
                    record.line,
                    format!(
                        "ELEVE ELEVE_ID={} : INE {ine} déjà porté par ELEVE_ID={} (ligne {})",
                        record.attribute("ELEVE_ID").unwrap_or("?"),
                        first.attribute("ELEVE_ID").unwrap_or("?"),
                        first.line
                    ),
                ));
            }
        }
    }
    let mut divisions: HashMap<&str, String> = HashMap::new();
    for structures in pupils_file.records("STRUCTURES_ELEVE") {
        let Some(id) = structures.attribute("ELEVE_ID") else {
            errors.push(FileError::new(
                PUPILS_FILE,
                structures.line,
                "STRUCTURES_ELEVE sans ELEVE_ID",
            ));
            continue;
        };
        if !eleves.contains_key(id) {
            errors.push(FileError::new(
                PUPILS_FILE,
                structures.line,
                format!("STRUCTURES_ELEVE ELEVE_ID={id} : aucun ELEVE ne porte cet ELEVE_ID"),
            ));
            continue;
        }
        if let Some(code) = structures
            .children
            .iter()
            .find(|s| s.field("TYPE_STRUCTURE") == Some("D"))
            .and_then(|s| s.field("CODE_STRUCTURE"))
        {
            divisions.insert(id, code.to_owned());
        }
    }
    for record in personnes.values() {
        if let Some(address_id) = record.field("ADRESSE_ID") {
            if !adresses.contains_key(address_id) {
                errors.push(FileError::new(
                    GUARDIANS_FILE,
                    record.line,
                    format!(
                        "PERSONNE PERSONNE_ID={} : ADRESSE_ID={address_id} ne désigne aucune ADRESSE",
                        record.attribute("PERSONNE_ID").unwrap_or("?")
                    ),
                ));
            }
        }
    }
    let mut link_keys = HashSet::new();
    for link in guardians_file.records("RESPONSABLE_ELEVE") {
        let (eleve, personne) = (link.field("ELEVE_ID"), link.field("PERSONNE_ID"));
        let name = format!(
            "RESPONSABLE_ELEVE ELEVE_ID={} PERSONNE_ID={}",
            eleve.unwrap_or("?"),
            personne.unwrap_or("?")
        );
        match (eleve, personne) {
            (Some(e), Some(p)) => {
                if !eleves.contains_key(e) {
                    errors.push(FileError::new(
                        GUARDIANS_FILE,
                        link.line,
                        format!("{name} : aucun ELEVE ne porte ELEVE_ID={e} dans {PUPILS_FILE}"),
                    ));
                }
                if !personnes.contains_key(p) {
                    errors.push(FileError::new(
                        GUARDIANS_FILE,
                        link.line,
                        format!("{name} : aucune PERSONNE ne porte PERSONNE_ID={p}"),
                    ));
                }
                if !link_keys.insert((e, p)) {
                    errors.push(FileError::new(
                        GUARDIANS_FILE,
                        link.line,
                        format!("{name} en double"),
                    ));
                }
            }
            _ => errors.push(FileError::new(
                GUARDIANS_FILE,
                link.line,
                format!("{name} : ELEVE_ID et PERSONNE_ID sont obligatoires"),
            )),
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        return Err(errors);
    }

    let mut rejected = Vec::new();
    let pupils = typed(
        PUPILS_FILE,
        "ELEVE",
        "ELEVE_ID",
        pupils_file.records("ELEVE"),
        |record, id| pupil(record, id, &divisions),
        &mut rejected,
    );
    let persons = typed(
        GUARDIANS_FILE,
        "PERSONNE",
        "PERSONNE_ID",
        guardians_file.records("PERSONNE"),
        |record, id| person(record, id, &adresses),
        &mut rejected,
    );
    let kept_pupils: HashSet<&str> = pupils.iter().map(|p| p.eleve_id.as_str()).collect();
    let kept_persons: HashSet<&str> = persons.iter().map(|p| p.personne_id.as_str()).collect();
    let mut ids = RejectedIds {
        pupils: eleves
            .keys()
            .filter(|id| !kept_pupils.contains(*id))
            .map(|id| id.to_string())
            .collect(),
        persons: personnes
            .keys()
            .filter(|id| !kept_persons.contains(*id))
            .map(|id| id.to_string())
            .collect(),
        links: HashSet::new(),
    };
    let mut links = Vec::new();
    for record in guardians_file.records("RESPONSABLE_ELEVE") {
        let (e, p) = (
            record.field("ELEVE_ID").expect("checked above"),
            record.field("PERSONNE_ID").expect("checked above"),
        );
        let reject = |reason: String| Rejected {
            file: GUARDIANS_FILE.into(),
            line: record.line,
            record: format!("RESPONSABLE_ELEVE ELEVE_ID={e} PERSONNE_ID={p}"),
            reason,
        };
        let role = match record.field("RESP_LEGAL") {
            Some("1") => Role::LegalGuardian(1),
            Some("2") => Role::LegalGuardian(2),
            Some("0") => Role::Other,
            other => {
                ids.links.insert((e.to_owned(), p.to_owned()));
                rejected.push(reject(format!(
                    "RESP_LEGAL « {} » : 0, 1 ou 2 attendu",
                    other.unwrap_or("")
                )));
                continue;
            }
        };
        if !kept_pupils.contains(e) || !kept_persons.contains(p) {
            ids.links.insert((e.to_owned(), p.to_owned()));
            rejected.push(reject("l'élève ou la personne liés ont été rejetés".into()));
            continue;
        }
        links.push(Link {
            eleve_id: e.to_owned(),
            personne_id: p.to_owned(),
            role,
            relationship: record.field("CODE_PARENTE").map(str::to_owned),
        });
    }
    Ok(Export {
        uai: uai.expect("checked above"),
        school_year: pupils_file
            .parameters
            .field("ANNEE_SCOLAIRE")
            .map(str::to_owned),
        export_date: pupils_file
            .parameters
            .field("DATE_EXPORT")
            .and_then(Date::parse_french),
        pupils,
        persons,
        links,
        rejected,
        rejected_ids: ids,
    })
}
