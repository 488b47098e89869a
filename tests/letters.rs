//! Notification letters as a family reads them: the PDF rendered by `notify::letters::render`,
//! checked with poppler (`pdfinfo`, `pdftotext`, installed by `.ci/run`). Without poppler these
//! tests fail: they never skip.

use std::path::Path;
use std::process::Command;

use educonnect::accounts::{LoginId, Profile};
use educonnect::notify::letters::{render, Child, EstablishmentHeading, Letter, LetterPassword};
use educonnect::secrets::Secret;
use educonnect::siecle::{Date, Uai};

const SERVICE: &str = "https://educonnect.example.fr";

fn establishment() -> EstablishmentHeading {
    EstablishmentHeading {
        name: "Collège Émile Zola, établissement d'enseignement public".to_owned(),
        uai: Uai::parse("0751234J").expect("a UAI"),
    }
}

fn date(year: u16, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn letter(given: &str, family: &str, profile: Profile, login: &str) -> Letter {
    Letter {
        establishment: establishment(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        profile,
        login: LoginId::parse(login).expect("a login"),
        password: LetterPassword::Unchanged,
        service_url: SERVICE.to_owned(),
        issued_on: date(2026, 12, 1),
        children: Vec::new(),
    }
}

fn temporary(password: &str) -> LetterPassword {
    LetterPassword::Temporary {
        password: Secret::from_presented(password),
        valid_until: date(2027, 3, 1),
    }
}

/// A pupil with a temporary password, a guardian of two children, an active account kept.
fn three_letters() -> Vec<Letter> {
    let mut pupil = letter("Clément", "Durand", Profile::Pupil, "c.durand07");
    pupil.password = temporary("KXPR-7MWD-4TFA");
    let mut guardian = letter("Hélène", "Lefèvre", Profile::Guardian, "h.lefevre12");
    guardian.password = temporary("QZ7N-HB3C-RWEY");
    guardian.children = vec![
        child("Zoé", "Lefèvre", "6B"),
        child("Jérôme", "Lefèvre", "4A"),
    ];
    let active = letter("Maëlle", "Nguyen", Profile::Pupil, "m.nguyen03");
    vec![pupil, guardian, active]
}

fn child(given: &str, family: &str, class: &str) -> Child {
    Child {
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        class: class.to_owned(),
    }
}

fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let output = Command::new(tool)
        .args(args)
        .arg(pdf)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("poppler writes UTF-8")
}

/// A page's words, one space apart: sentences wrapped over several lines read as one.
fn flat(page: &str) -> String {
    page.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of each page, as `pdftotext -layout` extracts it (pages end with a form feed).
fn pages(pdf: &[u8]) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letters.pdf");
    std::fs::write(&path, pdf).unwrap();
    let info = poppler("pdfinfo", &[], &path);
    let text = poppler("pdftotext", &["-layout", "-enc", "UTF-8"], &path);
    let pages = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .map(str::to_owned)
        .collect();
    (info, pages)
}

fn pages_count(info: &str) -> usize {
    let line = info
        .lines()
        .find(|l| l.starts_with("Pages:"))
        .expect("pdfinfo gives Pages");
    line["Pages:".len()..].trim().parse().unwrap()
}

#[test]
fn each_letter_is_one_a4_page_in_the_order_given() {
    let (info, pages) = pages(&render(&three_letters()).unwrap());
    assert_eq!(pages_count(&info), 3);
    assert_eq!(pages.len(), 3);
    // A4 is 595 x 842 points.
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    assert!(pages[0].contains("c.durand07"));
    assert!(pages[1].contains("h.lefevre12"));
    assert!(pages[2].contains("m.nguyen03"));
}

#[test]
fn every_page_names_the_establishment_the_person_and_the_service() {
    let letters = three_letters();
    let (_, pages) = pages(&render(&letters).unwrap());
    for (page, letter) in pages.iter().zip(&letters) {
        let page = &flat(page);
        assert!(
            page.contains("Collège Émile Zola, établissement d'enseignement"),
            "{page}"
        );
        assert!(
            page.contains(&format!("UAI {}", letter.establishment.uai)),
            "{page}"
        );
        assert!(page.contains(&format!("{} {}", letter.given_name, letter.family_name)));
        assert!(page.contains(SERVICE), "{page}");
        assert!(page.contains("« Se connecter avec EduConnect »"), "{page}");
        assert!(page.contains("Le 1er décembre 2026"), "{page}");
    }
    assert!(pages[0].contains("Profil : Élève"));
    assert!(pages[1].contains("Profil : Représentant légal"));
}

#[test]
fn a_temporary_password_is_printed_as_given_with_its_validity_in_french() {
    let (_, pages) = pages(&render(&three_letters()).unwrap());
    assert!(pages[0].contains("KXPR-7MWD-4TFA"), "{}", pages[0]);
    assert!(pages[1].contains("QZ7N-HB3C-RWEY"));
    for page in &pages[..2] {
        let page = &flat(page);
        assert!(page.contains("Mot de passe provisoire"));
        assert!(page.contains("valable jusqu'au 1er mars 2027"), "{page}");
        assert!(page.contains("Choisissez un nouveau mot de passe"));
    }
}

#[test]
fn an_active_account_kept_gets_no_password_and_is_told_nothing_changes() {
    let (_, pages) = pages(&render(&three_letters()).unwrap());
    let active = &flat(&pages[2]);
    assert!(active.contains("votre mot de passe actuel reste valable et rien ne change"));
    assert!(!active.contains("Mot de passe provisoire"), "{active}");
    assert!(!active.contains("valable jusqu'au"));
    for password in ["KXPR-7MWD-4TFA", "QZ7N-HB3C-RWEY"] {
        assert!(!active.contains(password));
    }
}

#[test]
fn a_guardian_letter_lists_the_children_in_that_establishment() {
    let (_, pages) = pages(&render(&three_letters()).unwrap());
    let guardian = &pages[1];
    assert!(guardian.contains("Vos enfants dans cet établissement"));
    for (given, class) in [("Zoé", "6B"), ("Jérôme", "4A")] {
        let row = guardian
            .lines()
            .find(|l| l.contains(given))
            .expect("a row per child");
        assert!(
            row.contains("Lefèvre") && row.trim_end().ends_with(class),
            "{row}"
        );
    }
    assert!(!pages[0].contains("Vos enfants"));
}

#[test]
fn a_letter_that_cannot_fit_on_one_page_is_refused() {
    let mut guardian = letter("Hélène", "Lefèvre", Profile::Guardian, "h.lefevre12");
    guardian.children = (0..40)
        .map(|i| child(&format!("Enfant{i}"), "Lefèvre", "6B"))
        .collect();
    let error = render(&[guardian]).unwrap_err().to_string();
    assert!(
        error.contains("h.lefevre12") && error.contains("40 children"),
        "{error}"
    );
}

#[test]
fn the_password_is_not_in_the_debug_output_of_a_letter() {
    let letters = three_letters();
    assert!(!format!("{letters:?}").contains("KXPR-7MWD-4TFA"));
}

/// `cargo test --release --test letters -- --ignored --nocapture`: the time per page.
#[test]
#[ignore]
fn time_per_page() {
    let letters: Vec<Letter> = three_letters().into_iter().cycle().take(1000).collect();
    let start = std::time::Instant::now();
    let pdf = render(&letters).unwrap();
    let elapsed = start.elapsed();
    let example = std::env::temp_dir().join("letter-example.pdf");
    std::fs::write(&example, render(&letters[..3]).unwrap()).unwrap();
    println!("three letters in {}", example.display());
    println!(
        "1000 letters: {elapsed:?} ({:?} per page), {} KiB",
        elapsed / 1000,
        pdf.len() / 1024
    );
}
