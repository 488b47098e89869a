//! Reading and checking Siècle exports: the shared sample fixtures read in full, and hand-made
//! bad files (each made from a fixture by one change) refused with a precise message.

use std::path::{Path, PathBuf};

use educonnect::siecle::{self, FileError, Role, GUARDIANS_FILE, PUPILS_FILE};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/siecle/sample")
}

fn sample_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(samples())
        .expect("../shared/fixtures/siecle/sample")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

/// A copy of the first sample establishment in which `edit` changed one file (as Latin-9 text).
fn edited(file: &str, edit: impl FnOnce(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let source = &sample_dirs()[0];
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(source.join(file)).unwrap();
    let (text, _, _) = encoding_rs::ISO_8859_15.decode(&bytes);
    let changed = edit(text.into_owned());
    let (encoded, _, unmappable) = encoding_rs::ISO_8859_15.encode(&changed);
    assert!(!unmappable);
    std::fs::write(dir.path().join(file), &encoded).unwrap();
    for name in [PUPILS_FILE, GUARDIANS_FILE]
        .into_iter()
        .filter(|n| *n != file)
    {
        std::fs::copy(source.join(name), dir.path().join(name)).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn read(dir: &Path) -> Result<siecle::Export, Vec<FileError>> {
    siecle::read_establishment(&dir.join(PUPILS_FILE), &dir.join(GUARDIANS_FILE))
}

fn refused(dir: &Path) -> Vec<String> {
    read(dir)
        .expect_err("the export must be refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn count(path: &Path, element: &str) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let (text, _, _) = encoding_rs::ISO_8859_15.decode(&bytes);
    text.matches(&format!("<{element}")).count()
        - text.matches(&format!("<{element}S")).count()
        - text.matches(&format!("<{element}_")).count()
}

#[test]
fn the_sample_exports_are_read_in_full() {
    let dirs = sample_dirs();
    assert_eq!(dirs.len(), 2);
    for dir in &dirs {
        let export = read(dir).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            export.uai.as_str(),
            dir.file_name().unwrap().to_str().unwrap()
        );
        assert!(export.rejected.is_empty(), "{:?}", export.rejected);
        assert_eq!(export.pupils.len(), count(&dir.join(PUPILS_FILE), "ELEVE"));
        assert_eq!(
            export.persons.len(),
            count(&dir.join(GUARDIANS_FILE), "PERSONNE")
        );
        assert_eq!(
            export.links.len(),
            count(&dir.join(GUARDIANS_FILE), "RESPONSABLE_ELEVE")
        );
        assert!(export.pupils.iter().all(|p| p.division.is_some()));
        assert!(export
            .links
            .iter()
            .any(|l| l.role == Role::LegalGuardian(1)));
        assert!(export.persons.iter().all(|p| p.address.is_some()));
    }
}

#[test]
fn latin9_accents_are_decoded() {
    let export = read(&sample_dirs()[0]).unwrap();
    let names: Vec<&str> = export
        .pupils
        .iter()
        .map(|p| p.given_name.as_str())
        .chain(export.persons.iter().map(|p| p.given_name.as_str()))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains('é') || n.contains('è') || n.contains('ï')),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.contains('Ã')), "{names:?}");
}

#[test]
fn a_truncated_file_is_refused() {
    let (_d, dir) = edited(GUARDIANS_FILE, |t| t[..t.len() * 2 / 3].to_owned());
    let errors = refused(&dir);
    assert!(
        errors
            .iter()
            .any(|e| e.contains(GUARDIANS_FILE) && e.contains("tronqué")),
        "{errors:?}"
    );
}

#[test]
fn a_wrong_root_element_is_refused() {
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replace("BEE_ELEVES", "BEE_NOMENCLATURES")
    });
    let errors = refused(&dir);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("<BEE_NOMENCLATURES>") && e.contains("<BEE_ELEVES> attendu")),
        "{errors:?}"
    );
}

#[test]
fn malformed_xml_is_refused_with_its_line() {
    let (_d, dir) = edited(PUPILS_FILE, |t| t.replacen("</PRENOM>", "</PRENOMS>", 1));
    let errors = refused(&dir);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("XML mal formé") && e.contains("ligne")),
        "{errors:?}"
    );
}

#[test]
fn a_link_to_an_unknown_pupil_is_refused() {
    let (_d, dir) = edited(GUARDIANS_FILE, |t| {
        t.replacen("<ELEVE_ID>", "<ELEVE_ID>999", 1)
    });
    let errors = refused(&dir);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("RESPONSABLE_ELEVE ELEVE_ID=999") && e.contains("aucun ELEVE")),
        "{errors:?}"
    );
}

#[test]
fn an_invalid_uai_is_refused() {
    let uai = sample_dirs()[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let wrong = format!(
        "{}{}",
        &uai[..7],
        if uai.ends_with('A') { 'B' } else { 'A' }
    );
    let (_d, dir) = edited(PUPILS_FILE, |t| t.replace(&uai, &wrong));
    let errors = refused(&dir);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("PARAMETRES/UAJ") && e.contains("lettre de contrôle")),
        "{errors:?}"
    );
}

#[test]
fn duplicated_ids_are_refused() {
    let (_d, dir) = edited(GUARDIANS_FILE, |t| {
        let start = t.find("<PERSONNE ").unwrap();
        let end = t[start..].find("</PERSONNE>").unwrap() + start + "</PERSONNE>".len();
        let copy = t[start..end].to_owned();
        format!("{}{copy}\n{}", &t[..start], &t[start..])
    });
    let errors = refused(&dir);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("PERSONNE PERSONNE_ID=") && e.contains("en double")),
        "{errors:?}"
    );
}

#[test]
fn a_utf8_file_declared_latin9_is_refused() {
    let source = &sample_dirs()[0];
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(source.join(PUPILS_FILE)).unwrap();
    let (text, _, _) = encoding_rs::ISO_8859_15.decode(&bytes);
    std::fs::write(dir.path().join(PUPILS_FILE), text.as_bytes()).unwrap();
    std::fs::copy(source.join(GUARDIANS_FILE), dir.path().join(GUARDIANS_FILE)).unwrap();
    let errors = refused(dir.path());
    assert!(errors.iter().any(|e| e.contains("UTF-8")), "{errors:?}");
}

#[test]
fn an_invalid_ine_rejects_that_pupil_and_its_links_only() {
    let export = read(&sample_dirs()[0]).unwrap();
    let victim = export.pupils[0].clone();
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replace(
            &format!("<ID_NATIONAL>{}</ID_NATIONAL>", victim.ine),
            "<ID_NATIONAL>12AB</ID_NATIONAL>",
        )
    });
    let partial = read(&dir).expect("the other records are usable");
    assert_eq!(partial.pupils.len(), export.pupils.len() - 1);
    let rejected: Vec<String> = partial.rejected.iter().map(ToString::to_string).collect();
    assert!(
        rejected.iter().any(
            |r| r.contains(&format!("ELEVE ELEVE_ID={}", victim.eleve_id))
                && r.contains("INE « 12AB » invalide")
        ),
        "{rejected:?}"
    );
    let links_of_victim = export
        .links
        .iter()
        .filter(|l| l.eleve_id == victim.eleve_id)
        .count();
    assert!(links_of_victim > 0);
    assert_eq!(partial.links.len(), export.links.len() - links_of_victim);
    assert!(partial.links.iter().all(|l| l.eleve_id != victim.eleve_id));
}

#[test]
fn unknown_elements_are_ignored() {
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replace(
            "<DATE_NAISS>",
            "<ADRESSE_ID>1</ADRESSE_ID><BOURSIER>1</BOURSIER><DATE_NAISS>",
        )
        .replace("<DONNEES>", "<DONNEES><OPTIONS><OPTION/></OPTIONS>")
    });
    let export = read(&dir).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        export.pupils.len(),
        read(&sample_dirs()[0]).unwrap().pupils.len()
    );
}

#[test]
fn exports_are_found_by_folder_or_by_files() {
    let both = siecle::find_exports(&[samples()]).unwrap();
    assert_eq!(both.len(), 2);
    let one = siecle::find_exports(&[sample_dirs()[0].clone()]).unwrap();
    assert_eq!(one.len(), 1);
    let files = siecle::find_exports(&[
        sample_dirs()[0].join(GUARDIANS_FILE),
        sample_dirs()[0].join(PUPILS_FILE),
    ])
    .unwrap();
    assert_eq!(files, one);
    assert!(siecle::find_exports(&[sample_dirs()[0].join(PUPILS_FILE)]).is_err());
    assert!(siecle::find_exports(&[PathBuf::from("/nonexistent")]).is_err());
}
