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

/// The line (from 1) of the first `needle` in `dir`'s `file`.
fn line_of(dir: &Path, file: &str, needle: &str) -> usize {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let (text, _, _) = encoding_rs::ISO_8859_15.decode(&bytes);
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

/// `dir`'s export read within `limits`, until `interrupt`.
fn read_within(
    dir: &Path,
    limits: &siecle::Limits,
    interrupt: &siecle::Interrupt,
) -> Result<siecle::Export, Vec<FileError>> {
    let pupils = std::fs::read(dir.join(PUPILS_FILE)).unwrap();
    let guardians = std::fs::read(dir.join(GUARDIANS_FILE)).unwrap();
    siecle::read_establishment_bytes_within(&pupils, &guardians, limits, interrupt)
}

fn messages(errors: Vec<FileError>) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn an_element_with_more_than_64_attributes_is_refused() {
    let attributes: String = (0..80).map(|n| format!(" A{n}=\"{n}\"")).collect();
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replacen("<ELEVE ", &format!("<ELEVE{attributes} "), 1)
    });
    let line = line_of(&dir, PUPILS_FILE, "<ELEVE ");
    let errors = refused(&dir);
    assert_eq!(
        errors,
        [format!(
            "{PUPILS_FILE}, ligne {line} : <ELEVE> : plus de 64 attributs sur un élément"
        )]
    );
    // On an element the reader otherwise skips, too.
    let (_d, dir) = edited(GUARDIANS_FILE, |t| {
        t.replacen("<DONNEES>", &format!("<DONNEES><OPTION{attributes}/>"), 1)
    });
    let errors = refused(&dir);
    assert!(
        errors.iter().any(|e| e.starts_with(GUARDIANS_FILE)
            && e.contains("<OPTION> : plus de 64 attributs")),
        "{errors:?}"
    );
    // 64 are read (and ignored).
    let attributes: String = (0..62).map(|n| format!(" A{n}=\"{n}\"")).collect();
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replacen("<ELEVE ", &format!("<ELEVE{attributes} "), 1)
    });
    read(&dir).unwrap_or_else(|e| panic!("{e:?}"));
}

#[test]
fn nesting_deeper_than_32_elements_is_refused() {
    let (open, close) = ("<N>".repeat(40), "</N>".repeat(40));
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replacen("<DONNEES>", &format!("<DONNEES>\n{open}{close}"), 1)
    });
    let line = line_of(&dir, PUPILS_FILE, "<N>");
    let errors = refused(&dir);
    assert_eq!(
        errors,
        [format!(
            "{PUPILS_FILE}, ligne {line} : <N> : plus de 32 éléments imbriqués"
        )]
    );
}

#[test]
fn a_file_of_too_many_elements_is_refused() {
    let tiny = "<A/>".repeat(2_000);
    let (_d, dir) = edited(GUARDIANS_FILE, |t| {
        t.replacen("<DONNEES>", &format!("<DONNEES>{tiny}"), 1)
    });
    let limits = siecle::Limits {
        elements_per_file: 1_000,
        ..siecle::Limits::default()
    };
    let errors = messages(read_within(&dir, &limits, &siecle::Interrupt::never()).unwrap_err());
    let line = line_of(&dir, GUARDIANS_FILE, "<A/>");
    assert_eq!(
        errors,
        [format!(
            "{GUARDIANS_FILE}, ligne {line} : <A> : plus de 1000 éléments dans le fichier"
        )]
    );
    // The same file within the default bound: the unknown elements are skipped.
    read(&dir).unwrap_or_else(|e| panic!("{e:?}"));
}

#[test]
fn a_file_of_too_many_records_is_refused() {
    let limits = siecle::Limits {
        records_per_file: 5,
        ..siecle::Limits::default()
    };
    let errors =
        messages(read_within(&sample_dirs()[0], &limits, &siecle::Interrupt::never()).unwrap_err());
    assert!(
        errors.iter().any(|e| e.starts_with(PUPILS_FILE)
            && e.contains("ligne ")
            && e.contains("<ELEVE> : plus de 5 fiches dans le fichier")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(GUARDIANS_FILE) && e.contains("plus de 5 fiches")),
        "{errors:?}"
    );
}

#[test]
fn a_record_of_more_than_256_elements_is_refused() {
    let many = "<BOURSIER>1</BOURSIER>".repeat(300);
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replacen("<DATE_NAISS>", &format!("{many}<DATE_NAISS>"), 1)
    });
    let record = line_of(&dir, PUPILS_FILE, "<ELEVE ");
    let line = line_of(&dir, PUPILS_FILE, "<BOURSIER>");
    let errors = refused(&dir);
    assert_eq!(
        errors,
        [format!(
            "{PUPILS_FILE}, ligne {line} : <ELEVE> (ligne {record}) : plus de 256 éléments \
             dans une fiche"
        )]
    );
}

#[test]
fn a_field_repeated_in_a_record_keeps_its_last_value() {
    let export = read(&sample_dirs()[0]).unwrap();
    let repeated = "<PRENOM>Autre</PRENOM>".repeat(100);
    let (_d, dir) = edited(PUPILS_FILE, |t| {
        t.replacen(
            "<DATE_NAISS>",
            &format!("{repeated}<PRENOM>Zélie</PRENOM><DATE_NAISS>"),
            1,
        )
    });
    let first = &read(&dir).unwrap().pupils[0];
    assert_eq!(first.eleve_id, export.pupils[0].eleve_id);
    assert_eq!(first.given_name, "Zélie");
}

#[test]
fn a_read_past_its_deadline_or_during_shutdown_stops() {
    let dir = &sample_dirs()[0];
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let passed = siecle::Interrupt::new(std::time::Instant::now(), stop.clone());
    let errors = messages(read_within(dir, &siecle::Limits::default(), &passed).unwrap_err());
    assert_eq!(
        errors,
        [format!(
            "{PUPILS_FILE}, ligne 1 : import interrompu : délai dépassé \
             (admin.import_deadline_seconds)"
        )]
    );
    let later = std::time::Instant::now() + std::time::Duration::from_secs(3600);
    let running = siecle::Interrupt::new(later, stop.clone());
    read_within(dir, &siecle::Limits::default(), &running).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let errors = messages(read_within(dir, &siecle::Limits::default(), &running).unwrap_err());
    assert_eq!(
        errors,
        [format!(
            "{PUPILS_FILE}, ligne 1 : import interrompu : le serveur s'arrête"
        )]
    );
}

#[test]
fn the_largest_establishments_are_within_the_limits() {
    // About 5,000 pupils: the largest lycées.
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/siecle/generate.py"))
        .arg(dir.path())
        .args(["--schools", "1", "--pupils-per-school", "5000"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the fixture generator");
    assert!(status.success());
    let pairs = siecle::find_exports(&[dir.path().to_path_buf()]).unwrap();
    let export = read(pairs[0].0.parent().unwrap()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(export.pupils.len(), 5000);
}
