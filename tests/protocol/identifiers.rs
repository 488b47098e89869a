//! The identifiers file (issue #15): per establishment, the accounts not listed in an earlier
//! file — login, names, class, profile, state — as `;`-separated CSV (parsed back here) and as a
//! PDF table (read with poppler's `pdftotext`); producing it records it, so the next file holds
//! only the accounts that came after; the "new identifiers available" notice links to it. On
//! both backends, from the demo export.

use std::process::Command;

use crate::common::{Backend, TestOp};
use crate::demo::{demo_op as demo, COLLEGE};
use crate::notify::national;
use crate::on_both_backends;
use educonnect::establishments::{identifiers_file, Actor, OperationError, Scope};
use educonnect::notify::identifiers;
use educonnect::siecle::Uai;

on_both_backends!(
    a_second_file_lists_only_the_accounts_that_came_after_the_first,
    the_pdf_table_holds_every_account_on_as_many_pages_as_needed,
    the_new_identifiers_notice_links_to_the_file,
);

/// A CSV as a spreadsheet reads it: the byte-order mark, `;` fields, quoted ones, `\r\n`.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark");
    let mut rows = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (';', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}

/// `pdftotext -layout` of a PDF, and its page count (`pdfinfo`).
pub(crate) fn pdf_text(pdf: &[u8]) -> (String, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file.pdf");
    std::fs::write(&path, pdf).unwrap();
    let run = |tool: &str, args: &[&str]| {
        let out = Command::new(tool)
            .args(args)
            .arg(&path)
            .args(if tool == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
        assert!(out.status.success(), "{tool} failed");
        String::from_utf8(out.stdout).unwrap()
    };
    let info = run("pdfinfo", &[]);
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (run("pdftotext", &["-layout", "-enc", "UTF-8"]), pages)
}

/// The demo collège's export with one more pupil, Yanis Haddad in 6A, exported a day later.
fn with_a_new_pupil() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demo/siecle")
        .join(COLLEGE);
    let target = dir.path().join(COLLEGE);
    std::fs::create_dir_all(&target).unwrap();
    let raw = std::fs::read(source.join(educonnect::siecle::PUPILS_FILE)).unwrap();
    let (pupils, _, _) = encoding_rs::ISO_8859_15.decode(&raw);
    let pupils = pupils
        .replace("01/12/2026", "02/12/2026")
        .replace(
            "</ELEVES>",
            "<ELEVE ELEVE_ID=\"4199\" ELENOET=\"199\">\n<ID_NATIONAL>099990199ZZ</ID_NATIONAL>\n\
             <NOM_DE_FAMILLE>Haddad</NOM_DE_FAMILLE>\n<PRENOM>Yanis</PRENOM>\n\
             <DATE_NAISS>03/05/2015</DATE_NAISS>\n<CODE_SEXE>1</CODE_SEXE>\n\
             <CODE_MEF>10010012110</CODE_MEF>\n<DATE_ENTREE>02/12/2026</DATE_ENTREE>\n</ELEVE>\n\
             </ELEVES>",
        )
        .replace(
            "</STRUCTURES>",
            "<STRUCTURES_ELEVE ELEVE_ID=\"4199\">\n<STRUCTURE>\n<CODE_STRUCTURE>6A</CODE_STRUCTURE>\n\
             <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n</STRUCTURE>\n</STRUCTURES_ELEVE>\n</STRUCTURES>",
        );
    let (encoded, _, _) = encoding_rs::ISO_8859_15.encode(&pupils);
    std::fs::write(target.join(educonnect::siecle::PUPILS_FILE), encoded).unwrap();
    let raw = std::fs::read(source.join(educonnect::siecle::GUARDIANS_FILE)).unwrap();
    let (guardians, _, _) = encoding_rs::ISO_8859_15.decode(&raw);
    let guardians = guardians.replace("01/12/2026", "02/12/2026");
    let (encoded, _, _) = encoding_rs::ISO_8859_15.encode(&guardians);
    std::fs::write(target.join(educonnect::siecle::GUARDIANS_FILE), encoded).unwrap();
    dir
}

async fn produce(op: &TestOp) -> educonnect::establishments::IdentifiersFile {
    let uai = Uai::parse(COLLEGE).unwrap();
    identifiers_file(&national(), &*op.app.durable, &uai, op.app.now_ms())
        .await
        .unwrap()
}

async fn a_second_file_lists_only_the_accounts_that_came_after_the_first(backend: Backend) {
    let op = demo(backend).await;
    let pupils = op
        .app
        .durable
        .notification_targets(COLLEGE, educonnect::accounts::Profile::Pupil)
        .await
        .unwrap();
    let guardians = op
        .app
        .durable
        .notification_targets(COLLEGE, educonnect::accounts::Profile::Guardian)
        .await
        .unwrap();
    let first = parse_csv(&identifiers::csv(&produce(&op).await));
    assert_eq!(
        first[0],
        ["Identifiant", "Nom", "Prénom", "Classe", "Profil", "État"]
    );
    let logins: Vec<&str> = first[1..].iter().map(|r| r[0].as_str()).collect();
    for t in pupils.iter().chain(&guardians) {
        assert!(
            logins.contains(&t.account.login.as_str()),
            "{}",
            t.account.login
        );
    }
    // Clément Martin (5B) and his mother, as the secretariat reads them; pupils come first.
    let clement = first.iter().find(|r| r[2] == "Clément").expect("Clément");
    assert_eq!((clement[3].as_str(), clement[4].as_str()), ("5B", "Élève"));
    assert_eq!(clement[5], "créé (à notifier)");
    let claire = first.iter().find(|r| r[0] == "c.martin02").expect("Claire");
    assert_eq!(
        (claire[3].as_str(), claire[4].as_str(), claire[5].as_str()),
        ("5B", "Représentant légal", "activé")
    );
    let first_guardian = first[1..].iter().position(|r| r[4] != "Élève").unwrap();
    assert!(first[1..][first_guardian..].iter().all(|r| r[4] != "Élève"));

    let second = parse_csv(&identifiers::csv(&produce(&op).await));
    assert_eq!(second.len(), 1, "nothing new: the header only");

    op.import_siecle(with_a_new_pupil().path()).await;
    let third = parse_csv(&identifiers::csv(&produce(&op).await));
    assert_eq!(third.len(), 2, "{third:?}");
    assert_eq!(
        (
            third[1][1].as_str(),
            third[1][2].as_str(),
            third[1][3].as_str()
        ),
        ("Haddad", "Yanis", "6A")
    );
    // A scoped actor gets only its own establishment's file.
    let elsewhere = Actor::new(
        "head",
        Scope::Establishment(Uai::parse("0699991K").unwrap()),
    );
    let refused = identifiers_file(
        &elsewhere,
        &*op.app.durable,
        &Uai::parse(COLLEGE).unwrap(),
        op.app.now_ms(),
    )
    .await;
    assert!(matches!(refused, Err(OperationError::OutOfScope)));
}

async fn the_pdf_table_holds_every_account_on_as_many_pages_as_needed(backend: Backend) {
    let op = demo(backend).await;
    let file = produce(&op).await;
    let (text, pages) = pdf_text(&identifiers::pdf(&file, "Collège de démonstration").unwrap());
    assert_eq!(
        pages,
        file.rows
            .len()
            .div_ceil(identifiers::rows_per_page())
            .max(1)
    );
    assert!(text.contains("Fichier des nouveaux identifiants EduConnect"));
    assert!(text.contains("Collège de démonstration"));
    for row in &file.rows {
        assert!(text.contains(&row.login), "{}", row.login);
        assert!(text.contains(&row.family_name), "{}", row.family_name);
    }
    assert!(text.contains("Représentant légal") && text.contains("Élève"));
    // More rows than one page holds: more pages, the header on each.
    let mut many = file.clone();
    while many.rows.len() <= identifiers::rows_per_page() * 2 {
        many.rows.extend(file.rows.clone());
    }
    let (text, pages) = pdf_text(&identifiers::pdf(&many, "Collège").unwrap());
    assert_eq!(
        pages,
        many.rows.len().div_ceil(identifiers::rows_per_page())
    );
    assert_eq!(text.matches("Identifiant").count(), pages);
    // An empty file says so.
    produce(&op).await;
    let empty = produce(&op).await;
    let (text, pages) = pdf_text(&identifiers::pdf(&empty, "Collège").unwrap());
    assert_eq!(pages, 1);
    assert!(text.contains("Aucun nouvel identifiant depuis le dernier fichier."));
}

async fn the_new_identifiers_notice_links_to_the_file(backend: Backend) {
    let op = demo(backend).await;
    let notices = op.app.durable.notices(COLLEGE).await.unwrap().unwrap();
    let notice = notices
        .iter()
        .find(|n| n.kind == "new_identifiers")
        .expect("the import left a notice");
    let link = format!("/admin/establishments/{COLLEGE}/identifiers.csv");
    assert_eq!(notice.link.as_deref(), Some(link.as_str()));
    assert!(notice.message.contains(&link), "{}", notice.message);
    let page = format!("/gestion/etablissements/{COLLEGE}/identifiants");
    assert!(notice.message.contains(&page), "{}", notice.message);
}
