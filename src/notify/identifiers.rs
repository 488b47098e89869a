//! An establishment's identifiers file (`establishments::identifiers_file`), as the
//! secretariat opens it: CSV for a spreadsheet — `;` between fields, as French spreadsheets
//! expect, UTF-8 with a byte-order mark so that they read the accents right — or PDF, a table
//! on as many landscape A4 pages as needed, drawn with the letters' embedded fonts.

use krilla::configure::{Configuration, PdfVersion};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::tagging::{TableHeaderScope, Tag, TagGroup, TagKind, TagTree};
use krilla::{Document, SerializeSettings};

use super::letters::pen::{Face, Fonts, Pen, BLACK, BLUE, GREY};
use super::letters::{french_date, wording};
use crate::accounts::AccountState;
use crate::establishments::model::IdentifierRow;
use crate::establishments::IdentifiersFile;
use crate::siecle::Date;

const HEADER: [&str; 6] = ["Identifiant", "Nom", "Prénom", "Classe", "Profil", "État"];

/// What a file calls an account's state.
fn state_label(state: AccountState) -> &'static str {
    match state {
        AccountState::Created => "créé (à notifier)",
        AccountState::Notified => "notifié",
        AccountState::Active => "activé",
        AccountState::Disabled => "désactivé",
    }
}

fn cells(row: &IdentifierRow) -> [String; 6] {
    [
        row.login.clone(),
        row.family_name.clone(),
        row.given_name.clone(),
        row.class.clone().unwrap_or_default(),
        wording::profile_label(row.profile).to_owned(),
        state_label(row.state).to_owned(),
    ]
}

/// The file as CSV: a header line, then one line per account, `\r\n` line ends (RFC 4180).
pub fn csv(file: &IdentifiersFile) -> String {
    let mut out = String::from("\u{feff}");
    let mut line = |fields: &[String]| {
        let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&quoted.join(";"));
        out.push_str("\r\n");
    };
    line(&HEADER.map(str::to_owned));
    for row in &file.rows {
        line(&cells(row));
    }
    out
}

/// One field: quoted when it holds the separator, a quote or a line break (RFC 4180 §2); a
/// leading `=`, `+`, `-` or `@` is preceded by `'` so that a spreadsheet never reads a name as
/// a formula (OWASP, CSV injection).
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// Landscape A4, in points.
const PAGE: (f32, f32) = (841.89, 595.28);
const LEFT: f32 = 40.0;
const WIDTH: f32 = PAGE.0 - 2.0 * LEFT;
const FIRST_ROW: f32 = 128.0;
const LAST_ROW: f32 = PAGE.1 - 40.0;
const ROW: f32 = 15.0;
const SIZE: f32 = 9.0;
/// Each column's width; a value wider than its column is set smaller, never cut.
const COLUMNS: [f32; 6] = [150.0, 150.0, 140.0, 90.0, 130.0, 101.0];

/// How many accounts one page holds.
pub fn rows_per_page() -> usize {
    ((LAST_ROW - FIRST_ROW) / ROW) as usize
}

/// The file as PDF: a title, the establishment and date on each page, then the table.
pub fn pdf(file: &IdentifiersFile, establishment: &str) -> anyhow::Result<Vec<u8>> {
    let fonts = Fonts::load()?;
    let mut document = Document::new_with(SerializeSettings {
        configuration: Configuration::new_with_version(PdfVersion::Pdf17),
        ..SerializeSettings::default()
    });
    document.set_metadata(
        Metadata::new()
            .title("Fichier des nouveaux identifiants EduConnect".to_owned())
            .language("fr-FR".to_owned())
            .creator("educonnect".to_owned()),
    );
    let mut tags = TagTree::new();
    let pages: Vec<&[IdentifierRow]> = if file.rows.is_empty() {
        vec![&[]]
    } else {
        file.rows.chunks(rows_per_page()).collect()
    };
    let count = pages.len();
    for (n, rows) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(
            PageSettings::from_wh(PAGE.0, PAGE.1).expect("A4 is a valid page size"),
        );
        let mut surface = page.surface();
        let mut pen = Pen {
            surface: &mut surface,
        };
        let mut section = TagGroup::new(Tag::Section);
        heading(
            &mut pen,
            &fonts,
            file,
            establishment,
            (n + 1, count),
            &mut section,
        );
        if file.rows.is_empty() {
            let line = "Aucun nouvel identifiant depuis le dernier fichier.";
            let id = pen.text((LEFT, FIRST_ROW), &fonts.sans, 11.0, BLACK, line);
            section.push(TagGroup::with_children(Tag::P, vec![id.into()]));
        } else {
            section.push(table(&mut pen, &fonts, rows));
        }
        surface.finish();
        page.finish();
        tags.push(section);
    }
    document.set_tag_tree(tags);
    document.finish().map_err(|error| {
        anyhow::anyhow!("the identifiers file cannot be written as PDF: {error:?}")
    })
}

fn heading(
    pen: &mut Pen,
    fonts: &Fonts,
    file: &IdentifiersFile,
    establishment: &str,
    (page, pages): (usize, usize),
    section: &mut TagGroup,
) {
    let title = "Fichier des nouveaux identifiants EduConnect";
    let id = pen.text((LEFT, 52.0), &fonts.bold, 16.0, BLUE, title);
    section.push(TagGroup::with_children(
        Tag::Hn(std::num::NonZeroU16::MIN, Some(title.to_owned())),
        vec![id.into()],
    ));
    let about = format!(
        "{establishment} (UAI {}) — le {} — {} compte(s) créé(s) ou arrivé(s) depuis le \
         fichier précédent — page {page} sur {pages}",
        file.uai,
        french_date(Date::from_epoch_ms(file.created_at)),
        file.rows.len(),
    );
    let size = fitted(&fonts.sans, &about, 10.0, WIDTH);
    let id = pen.text((LEFT, 74.0), &fonts.sans, size, GREY, &about);
    section.push(TagGroup::with_children(Tag::P, vec![id.into()]));
}

fn table(pen: &mut Pen, fonts: &Fonts, rows: &[IdentifierRow]) -> TagGroup {
    let mut table = TagGroup::new(Tag::Table);
    let mut line = |pen: &mut Pen, y: f32, values: &[String; 6], header: bool| {
        let face: &Face = if header { &fonts.bold } else { &fonts.sans };
        let mut tr = TagGroup::new(Tag::TR);
        let mut x = LEFT;
        for (value, width) in values.iter().zip(COLUMNS) {
            let size = fitted(face, value, SIZE, width - 6.0);
            let id = pen.text((x, y), face, size, BLACK, value);
            let kind: TagKind = if header {
                Tag::TH(TableHeaderScope::Column).into()
            } else {
                Tag::TD.into()
            };
            tr.push(TagGroup::with_children(kind, vec![id.into()]));
            x += width;
        }
        table.push(tr);
    };
    let header = HEADER.map(str::to_owned);
    line(pen, FIRST_ROW - ROW - 4.0, &header, true);
    pen.rule((LEFT, FIRST_ROW - ROW + 1.0), WIDTH);
    for (i, row) in rows.iter().enumerate() {
        line(pen, FIRST_ROW + i as f32 * ROW, &cells(row), false);
    }
    table
}

/// `size`, or smaller (down to 5 pt) until `text` fits in `width`.
fn fitted(face: &Face, text: &str, size: f32, width: f32) -> f32 {
    let natural = face.width(text, size);
    if natural <= width {
        size
    } else {
        (size * width / natural).max(5.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("Martin"), "Martin");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("O\"Neil"), "\"O\"\"Neil\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-x;y"), "\"'-x;y\"");
    }
}
