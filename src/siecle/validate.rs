//! From raw records to a checked `Export`: file-level problems refuse the establishment's
//! export as a whole, record-level ones reject the record (and the links that need it). The
//! fields read here are the ones `read.rs`'s layouts keep.

use super::xml::{RawFile, RawRecord};
use super::{
    Address, Date, Export, FileError, Ine, Link, Person, Pupil, Rejected, RejectedIds, Role, Uai,
    GUARDIANS_FILE, PUPILS_FILE,
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

fn date(record: &RawRecord, field: &str, problems: &mut Vec<String>) -> Option<Date> {
    let value = record.field(field)?;
    let parsed = Date::parse_french(value);
    if parsed.is_none() {
        problems.push(format!("{field} « {value} » n'est pas une date JJ/MM/AAAA"));
    }
    parsed
}

fn required(record: &RawRecord, field: &str, problems: &mut Vec<String>) -> String {
    match record.field(field) {
        Some(v) => v.to_owned(),
        None => {
            problems.push(format!("{field} absent"));
            String::new()
        }
    }
}

fn pupil(record: &RawRecord, id: &str, divisions: &HashMap<&str, String>) -> Result<Pupil, String> {
    let mut problems = Vec::new();
    let ine = match record.field("ID_NATIONAL") {
        None => {
            problems.push("ID_NATIONAL (INE) absent".to_owned());
            None
        }
        Some(v) => Ine::parse(v).map_err(|e| problems.push(e)).ok(),
    };
    let family_name = required(record, "NOM_DE_FAMILLE", &mut problems);
    let given_name = required(record, "PRENOM", &mut problems);
    let birth_date = date(record, "DATE_NAISS", &mut problems);
    if record.field("DATE_NAISS").is_none() {
        problems.push("DATE_NAISS absent".to_owned());
    }
    let entry_date = date(record, "DATE_ENTREE", &mut problems);
    let exit_date = date(record, "DATE_SORTIE", &mut problems);
    match (ine, birth_date) {
        (Some(ine), Some(birth_date)) if problems.is_empty() => Ok(Pupil {
            eleve_id: id.to_owned(),
            ine,
            family_name,
            usage_name: record.field("NOM_USAGE").map(str::to_owned),
            given_name,
            birth_date,
            entry_date,
            exit_date,
            division: divisions.get(id).cloned(),
        }),
        _ => Err(problems.join(" ; ")),
    }
}

fn address(record: &RawRecord) -> Address {
    Address {
        lines: (1..=4)
            .filter_map(|n| {
                record
                    .field(&format!("LIGNE{n}_ADRESSE"))
                    .map(str::to_owned)
            })
            .collect(),
        postal_code: record.field("CODE_POSTAL").map(str::to_owned),
        town: record
            .field("LIBELLE_POSTAL")
            .or_else(|| record.field("COMMUNE_ETRANGERE"))
            .map(str::to_owned),
        country: record.field("LL_PAYS").map(str::to_owned),
    }
}

fn person(
    record: &RawRecord,
    id: &str,
    addresses: &HashMap<&str, &RawRecord>,
) -> Result<Person, String> {
    let mut problems = Vec::new();
    let family_name = required(record, "NOM_DE_FAMILLE", &mut problems);
    let given_name = required(record, "PRENOM", &mut problems);
    let email = record.field("MEL").map(str::to_owned);
    if let Some(mail) = &email {
        let valid = mail.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !mail.contains(' ')
        });
        if !valid {
            problems.push(format!("MEL « {mail} » n'est pas une adresse électronique"));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join(" ; "));
    }
    Ok(Person {
        personne_id: id.to_owned(),
        civility: record.field("LC_CIVILITE").map(str::to_owned),
        family_name,
        given_name,
        mobile: record
            .field("TEL_PORTABLE")
            .map(|t| t.replace([' ', '.'], "")),
        email,
        address: record
            .field("ADRESSE_ID")
            .and_then(|a| addresses.get(a))
            .map(|a| address(a)),
    })
}

/// Each of `records` (ids checked present and unique) converted by `convert`, or listed in
/// `rejected` with the reason.
fn typed<T>(
    file: &str,
    element: &str,
    key: &str,
    records: &[RawRecord],
    convert: impl Fn(&RawRecord, &str) -> Result<T, String>,
    rejected: &mut Vec<Rejected>,
) -> Vec<T> {
    let mut kept = Vec::new();
    for record in records {
        let id = record.attribute(key).expect("ids checked before");
        match convert(record, id) {
            Ok(value) => kept.push(value),
            Err(reason) => rejected.push(Rejected {
                file: file.into(),
                line: record.line,
                record: format!("{element} {key}={id}"),
                reason,
            }),
        }
    }
    kept
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
