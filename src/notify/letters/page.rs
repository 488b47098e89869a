//! The layout of one letter, top to bottom: the establishment and the date, the title, the
//! person, the identifier and password panel, the steps, the children, the safety note. Each
//! block adds its lines to the letter's tag group in reading order.

use std::num::NonZeroU16;

use krilla::geom::Rect;
use krilla::tagging::{ListNumbering, TableHeaderScope, Tag, TagGroup, TagKind};

use super::pen::{Color, Face, Fonts, Pen, BLACK, BLUE, GREY};
use super::{wording, Letter, LetterPassword};

/// A4 in points.
pub(super) const A4: (f32, f32) = (595.28, 841.89);
const LEFT: f32 = 62.0;
const WIDTH: f32 = A4.0 - 2.0 * LEFT;
const TOP: f32 = 70.0;
/// Where the safety note starts: no block may run past it.
const FOOTER: f32 = A4.1 - 100.0;
const BODY: f32 = 10.5;
const LEADING: f32 = 14.5;

/// Draws `letter` on the pen's page; returns its tag group (a section of the document).
pub(super) fn draw(pen: &mut Pen, fonts: &Fonts, letter: &Letter) -> anyhow::Result<TagGroup> {
    let mut section = TagGroup::new(Tag::Section);
    let mut y = heading(pen, fonts, letter, &mut section);
    y = person(pen, fonts, letter, &mut section, y);
    y = credentials(pen, fonts, letter, &mut section, y);
    y = steps(pen, fonts, letter, &mut section, y);
    if !letter.children.is_empty() {
        y = children(pen, fonts, letter, &mut section, y);
    }
    anyhow::ensure!(
        y <= FOOTER,
        "the letter of {} does not fit on one page ({} children listed)",
        letter.login.as_str(),
        letter.children.len()
    );
    pen.rule((LEFT, FOOTER), WIDTH);
    let mut note = TagGroup::new(Tag::P);
    paragraph(
        pen,
        &fonts.sans,
        (9.0, 12.5, GREY),
        (LEFT, FOOTER + 20.0),
        wording::KEEP_SAFE,
        &mut note,
    );
    section.push(note);
    Ok(section)
}

/// The establishment (name, UAI) on the left, the date on the right, then the title.
fn heading(pen: &mut Pen, fonts: &Fonts, letter: &Letter, section: &mut TagGroup) -> f32 {
    let establishment = &letter.establishment;
    let mut group = TagGroup::new(Tag::P);
    let mut ids = Vec::new();
    let name = fonts.bold.wrap(&establishment.name, 12.0, WIDTH * 0.62);
    let y = pen.lines(
        (LEFT, TOP),
        (&fonts.bold, 12.0, 15.0, BLACK),
        &name,
        &mut ids,
    );
    let uai = format!("UAI {}", establishment.uai);
    let y = pen.lines(
        (LEFT, y.max(TOP + 15.0)),
        (&fonts.sans, 9.5, 14.0, GREY),
        &[uai],
        &mut ids,
    );
    ids.into_iter().for_each(|id| group.push(id));
    // Below the sender, right-aligned, as French letters date themselves.
    let date = wording::issued_on(letter);
    let x = LEFT + WIDTH - fonts.sans.width(&date, BODY);
    group.push(pen.text((x, y + 8.0), &fonts.sans, BODY, BLACK, &date));
    section.push(group);

    let y = y + 44.0;
    let title = pen.text((LEFT, y), &fonts.bold, 20.0, BLUE, wording::TITLE);
    section.push(TagGroup::with_children(
        Tag::Hn(NonZeroU16::MIN, Some(wording::TITLE.to_owned())),
        vec![title.into()],
    ));
    y + 30.0
}

/// The person's name and profile, then the introduction.
fn person(pen: &mut Pen, fonts: &Fonts, letter: &Letter, section: &mut TagGroup, y: f32) -> f32 {
    let mut group = TagGroup::new(Tag::P);
    let name = format!("{} {}", letter.given_name, letter.family_name);
    group.push(pen.text((LEFT, y), &fonts.bold, 13.0, BLACK, &name));
    let profile = format!("Profil : {}", wording::profile_label(letter.profile));
    group.push(pen.text((LEFT, y + 17.0), &fonts.sans, BODY, GREY, &profile));
    section.push(group);
    let mut intro = TagGroup::new(Tag::P);
    let y = paragraph(
        pen,
        &fonts.sans,
        (BODY, LEADING, BLACK),
        (LEFT, y + 42.0),
        wording::INTRODUCTION,
        &mut intro,
    );
    section.push(intro);
    y + 10.0
}

/// The panel with the identifier and the temporary password in large monospace, as given, or
/// the sentence saying the current password stays valid.
fn credentials(
    pen: &mut Pen,
    fonts: &Fonts,
    letter: &Letter,
    section: &mut TagGroup,
    y: f32,
) -> f32 {
    let inner = WIDTH - 36.0;
    let note = match &letter.password {
        LetterPassword::Temporary { valid_until, .. } => wording::validity(*valid_until),
        LetterPassword::Unchanged => wording::PASSWORD_UNCHANGED.to_owned(),
    };
    let note_lines = fonts.sans.wrap(&note, BODY, inner);
    let values = if wording::password_label(&letter.password).is_some() {
        2.0
    } else {
        1.0
    };
    let height = 18.0 + values * 46.0 + note_lines.len() as f32 * LEADING + 8.0;
    if let Some(rect) = Rect::from_xywh(LEFT, y, WIDTH, height) {
        pen.panel(rect);
    }
    let x = LEFT + 20.0;
    let mut baseline = y + 26.0;
    let mut value = |pen: &mut Pen, label: &str, value: &str, baseline: &mut f32| {
        let mut group = TagGroup::new(Tag::P);
        group.push(pen.text((x, *baseline), &fonts.sans, 9.5, GREY, label));
        group.push(pen.text((x, *baseline + 24.0), &fonts.mono, 20.0, BLACK, value));
        section.push(group);
        *baseline += 46.0;
    };
    value(pen, "Identifiant", letter.login.as_str(), &mut baseline);
    if let (Some(label), LetterPassword::Temporary { password, .. }) =
        (wording::password_label(&letter.password), &letter.password)
    {
        value(pen, label, password.expose(), &mut baseline);
    }
    let mut group = TagGroup::new(Tag::P);
    let mut ids = Vec::new();
    pen.lines(
        (x, baseline),
        (&fonts.sans, BODY, LEADING, BLACK),
        &note_lines,
        &mut ids,
    );
    ids.into_iter().for_each(|id| group.push(id));
    section.push(group);
    y + height + 30.0
}

/// The numbered steps, as an ordered list.
fn steps(pen: &mut Pen, fonts: &Fonts, letter: &Letter, section: &mut TagGroup, y: f32) -> f32 {
    let (title, steps) = wording::steps(letter);
    subheading(pen, fonts, section, (LEFT, y), title);
    let mut list = TagGroup::new(Tag::L(ListNumbering::Decimal));
    let mut y = y + 22.0;
    for (number, step) in steps.iter().enumerate() {
        let label = pen.text(
            (LEFT, y),
            &fonts.bold,
            BODY,
            BLUE,
            &format!("{}.", number + 1),
        );
        let mut body = TagGroup::new(Tag::LBody);
        y = paragraph(
            pen,
            &fonts.sans,
            (BODY, LEADING, BLACK),
            (LEFT + 18.0, y),
            step,
            &mut body,
        );
        let item = vec![
            TagGroup::with_children(Tag::Lbl, vec![label.into()]).into(),
            body.into(),
        ];
        list.push(TagGroup::with_children(Tag::LI, item));
        y += 4.0;
    }
    section.push(list);
    y + 18.0
}

/// A guardian's children in this establishment: a table of given name, family name, class.
fn children(pen: &mut Pen, fonts: &Fonts, letter: &Letter, section: &mut TagGroup, y: f32) -> f32 {
    let title = wording::children_heading(letter.profile);
    subheading(pen, fonts, section, (LEFT, y), title);
    let columns = [LEFT, LEFT + 170.0, LEFT + 360.0];
    let mut table = TagGroup::new(Tag::Table);
    let mut row = |pen: &mut Pen, y: f32, cells: [&str; 3], header: bool| {
        let face: &Face = if header { &fonts.bold } else { &fonts.sans };
        let mut tr = TagGroup::new(Tag::TR);
        for (x, cell) in columns.iter().zip(cells) {
            let id = pen.text((*x, y), face, BODY, BLACK, cell);
            let kind: TagKind = if header {
                Tag::TH(TableHeaderScope::Column).into()
            } else {
                Tag::TD.into()
            };
            tr.push(TagGroup::with_children(kind, vec![id.into()]));
        }
        table.push(tr);
    };
    let mut y = y + 22.0;
    row(pen, y, ["Prénom", "Nom", "Classe"], true);
    pen.rule((LEFT, y + 5.0), WIDTH);
    for child in &letter.children {
        y += LEADING + 2.0;
        row(
            pen,
            y,
            [&child.given_name, &child.family_name, &child.class],
            false,
        );
    }
    section.push(table);
    y + 20.0
}

/// A second-level heading in blue.
fn subheading(pen: &mut Pen, fonts: &Fonts, section: &mut TagGroup, at: (f32, f32), title: &str) {
    let heading = pen.text(at, &fonts.bold, 13.0, BLUE, title);
    let level = NonZeroU16::new(2).expect("2 is not zero");
    section.push(TagGroup::with_children(
        Tag::Hn(level, Some(title.to_owned())),
        vec![heading.into()],
    ));
}

/// A wrapped paragraph from the baseline `at`; returns the next baseline.
fn paragraph(
    pen: &mut Pen,
    face: &Face,
    (size, leading, color): (f32, f32, Color),
    at: (f32, f32),
    text: &str,
    group: &mut TagGroup,
) -> f32 {
    let width = LEFT + WIDTH - at.0;
    let lines = face.wrap(text, size, width);
    let mut ids = Vec::new();
    let next = pen.lines(at, (face, size, leading, color), &lines, &mut ids);
    ids.into_iter().for_each(|id| group.push(id));
    next
}
