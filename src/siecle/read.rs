//! The reader's entry points: one establishment's two files, from disk or uploaded, each read
//! with its layout (the collections and the fields that `validate.rs` reads) within `Limits`,
//! then checked together.

use std::path::Path;

use super::limits::{Interrupt, Limits};
use super::validate::check;
use super::xml::{self, Layout, RawFile};
use super::{Export, FileError, GUARDIANS_FILE, PUPILS_FILE};

const PUPILS_LAYOUT: Layout = Layout {
    root: "BEE_ELEVES",
    collections: &[
        "DONNEES/ELEVES/ELEVE",
        "DONNEES/STRUCTURES/STRUCTURES_ELEVE",
    ],
    sub_records: &["STRUCTURE"],
    kept: &[
        "UAJ",
        "ANNEE_SCOLAIRE",
        "DATE_EXPORT",
        "ELEVE_ID",
        "ID_NATIONAL",
        "NOM_DE_FAMILLE",
        "NOM_USAGE",
        "PRENOM",
        "DATE_NAISS",
        "DATE_ENTREE",
        "DATE_SORTIE",
        "CODE_MEF",
        "TYPE_STRUCTURE",
        "CODE_STRUCTURE",
    ],
};

const GUARDIANS_LAYOUT: Layout = Layout {
    root: "BEE_RESPONSABLES",
    collections: &[
        "DONNEES/PERSONNES/PERSONNE",
        "DONNEES/RESPONSABLES/RESPONSABLE_ELEVE",
        "DONNEES/ADRESSES/ADRESSE",
    ],
    sub_records: &[],
    kept: &[
        "UAJ",
        "ANNEE_SCOLAIRE",
        "DATE_EXPORT",
        "PERSONNE_ID",
        "LC_CIVILITE",
        "NOM_DE_FAMILLE",
        "PRENOM",
        "TEL_PORTABLE",
        "MEL",
        "ADRESSE_ID",
        "LIGNE1_ADRESSE",
        "LIGNE2_ADRESSE",
        "LIGNE3_ADRESSE",
        "LIGNE4_ADRESSE",
        "CODE_POSTAL",
        "LIBELLE_POSTAL",
        "COMMUNE_ETRANGERE",
        "LL_PAYS",
        "ELEVE_ID",
        "RESP_LEGAL",
        "CODE_PARENTE",
    ],
};

fn read(path: &Path, layout: &Layout) -> Result<RawFile, FileError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bytes = std::fs::read(path)
        .map_err(|e| FileError::new(&name, 0, format!("lecture impossible : {e}")))?;
    parse(
        &name,
        &bytes,
        layout,
        &Limits::default(),
        &Interrupt::never(),
    )
}

fn parse(
    name: &str,
    bytes: &[u8],
    layout: &Layout,
    limits: &Limits,
    interrupt: &Interrupt,
) -> Result<RawFile, FileError> {
    let text = xml::decode(name, bytes)?;
    xml::parse(name, &text, layout, limits, interrupt)
}

/// Reads and checks one establishment's two files, within the default `Limits`.
pub fn read_establishment(
    pupils_path: &Path,
    guardians_path: &Path,
) -> Result<Export, Vec<FileError>> {
    checked(
        read(pupils_path, &PUPILS_LAYOUT),
        read(guardians_path, &GUARDIANS_LAYOUT),
    )
}

/// Checks one establishment's two files, uploaded rather than on disk, within the default
/// `Limits`.
pub fn read_establishment_bytes(pupils: &[u8], guardians: &[u8]) -> Result<Export, Vec<FileError>> {
    read_establishment_bytes_within(pupils, guardians, &Limits::default(), &Interrupt::never())
}

/// Checks one establishment's two files within `limits`, stopping when `interrupt` fires (the
/// guardians file is not read once the pupils file was interrupted).
pub fn read_establishment_bytes_within(
    pupils: &[u8],
    guardians: &[u8],
    limits: &Limits,
    interrupt: &Interrupt,
) -> Result<Export, Vec<FileError>> {
    let pupils = parse(PUPILS_FILE, pupils, &PUPILS_LAYOUT, limits, interrupt);
    if let (Err(error), Some(_)) = (&pupils, interrupt.fired()) {
        return Err(vec![error.clone()]);
    }
    checked(
        pupils,
        parse(
            GUARDIANS_FILE,
            guardians,
            &GUARDIANS_LAYOUT,
            limits,
            interrupt,
        ),
    )
}

fn checked(
    pupils: Result<RawFile, FileError>,
    guardians: Result<RawFile, FileError>,
) -> Result<Export, Vec<FileError>> {
    match (pupils, guardians) {
        (Ok(p), Ok(g)) => check(&p, &g),
        (p, g) => Err(p.err().into_iter().chain(g.err()).collect()),
    }
}
