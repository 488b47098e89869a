//! Record-level checks of a Siècle export: each pupil or guardian record converted to its type,
//! or rejected with the reason (French, for the establishment), without refusing the export.

use std::collections::HashMap;

use super::xml::RawRecord;
use super::{Address, Date, Ine, Person, Pupil, Rejected};

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

pub(super) fn pupil(
    record: &RawRecord,
    id: &str,
    divisions: &HashMap<&str, String>,
) -> Result<Pupil, String> {
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
            mef: record.field("CODE_MEF").and_then(super::level::mef),
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

pub(super) fn person(
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
pub(super) fn typed<T>(
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
