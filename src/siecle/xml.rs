//! Reading one Siècle XML export into raw records: the bytes decoded from the encoding the file
//! declares (ISO-8859-15 in real exports), the XML checked to be complete and well formed, the
//! records of the known collections gathered with their line numbers. Unknown elements are
//! ignored; nothing is interpreted here (see `validate.rs`).

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::limits::{Budget, Interrupt, Limits};
use super::FileError;

/// One record: an element of a collection (`ELEVE`, `PERSONNE`...), the attributes and the text
/// of the child elements that `Layout::kept` names, and its sub-records (`STRUCTURE` of a
/// `STRUCTURES_ELEVE`). Attributes and fields are short lists (a dozen at most: one entry per
/// kept name, the last of two same-named elements winning), read by name: a vector costs less
/// than a map built per record, and the names are the layout's, not copies.
#[derive(Debug, Default, Clone)]
pub struct RawRecord {
    pub line: usize,
    pub attributes: Vec<(&'static str, String)>,
    pub fields: Vec<(&'static str, String)>,
    pub children: Vec<RawRecord>,
}

fn value_of<'a>(pairs: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|s| !s.is_empty())
}

/// Sets `name` to `value`, replacing an earlier value: a record holds one value per kept name
/// however many times the file repeats it.
fn set(pairs: &mut Vec<(&'static str, String)>, name: &'static str, value: String) {
    match pairs.iter_mut().find(|(key, _)| *key == name) {
        Some(pair) => pair.1 = value,
        None => pairs.push((name, value)),
    }
}

impl RawRecord {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        value_of(&self.attributes, name)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        value_of(&self.fields, name)
    }
}

/// A file's parameters (`PARAMETRES`) and its records, by collection element name.
#[derive(Debug, Default)]
pub struct RawFile {
    pub parameters: RawRecord,
    pub records: HashMap<&'static str, Vec<RawRecord>>,
}

impl RawFile {
    pub fn records(&self, element: &str) -> &[RawRecord] {
        self.records.get(element).map_or(&[], Vec::as_slice)
    }
}

/// What to gather from one kind of file.
pub struct Layout {
    pub root: &'static str,
    /// Paths (from the root's children) of the collections' elements, e.g. `DONNEES/ELEVES/ELEVE`.
    pub collections: &'static [&'static str],
    /// Elements that are sub-records inside a record (`STRUCTURE`).
    pub sub_records: &'static [&'static str],
    /// The attributes and fields (child elements of a record or of `PARAMETRES`) read by
    /// `validate.rs`. Review #13.4: the others are skipped, never stored, so memory follows the
    /// records rather than the document.
    pub kept: &'static [&'static str],
}

impl Layout {
    fn kept(&self, name: &str) -> Option<&'static str> {
        self.kept.iter().copied().find(|k| *k == name)
    }
}

/// Decodes `bytes` as the XML declaration says (UTF-8 when it says nothing), refusing a file
/// declared ISO-8859-15 (or Latin-1) whose bytes are in fact UTF-8: its accents would be read as
/// `Ã©`.
pub fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<Cow<'a, str>, FileError> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    let declared = head
        .split("encoding=")
        .nth(1)
        .and_then(|rest| {
            rest.trim_start_matches(['"', '\''])
                .split(['"', '\''])
                .next()
        })
        .unwrap_or("utf-8")
        .to_owned();
    let encoding = encoding_rs::Encoding::for_label(declared.as_bytes())
        .ok_or_else(|| FileError::new(file, 1, format!("encodage « {declared} » inconnu")))?;
    let utf8_multibyte = std::str::from_utf8(bytes).is_ok() && bytes.iter().any(|b| *b >= 0x80);
    if encoding != encoding_rs::UTF_8 && utf8_multibyte {
        return Err(FileError::new(
            file,
            1,
            format!(
                "le fichier se déclare en {declared} mais ses caractères accentués sont encodés \
                 en UTF-8 (fichier ré-enregistré ?) : exportez-le de nouveau depuis Siècle"
            ),
        ));
    }
    let (text, _, malformed) = encoding.decode(bytes);
    if malformed {
        return Err(FileError::new(
            file,
            1,
            format!("des octets ne sont pas valides en {declared}"),
        ));
    }
    // Review #13.4: an ASCII or UTF-8 file is read in place, not copied.
    Ok(text)
}

fn line_of(text: &str, position: usize) -> usize {
    text.as_bytes()[..position.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Line numbers of increasing positions, counting each byte once (a file holds hundreds of
/// thousands of events: counting from the start at each one would be quadratic).
struct Lines<'a> {
    text: &'a [u8],
    position: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, position: usize) -> usize {
        let position = position.min(self.text.len()).max(self.position);
        self.line += self.text[self.position..position]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.position = position;
        self.line
    }
}

fn name_of(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.name().as_ref()).into_owned()
}

/// The kept attributes of a record's element (their number already bounded by `Budget`, so
/// quick-xml's duplicate check, quadratic in it, stays cheap and keeps refusing duplicates).
fn attributes(
    file: &str,
    line: usize,
    e: &BytesStart<'_>,
    layout: &Layout,
) -> Result<Vec<(&'static str, String)>, FileError> {
    let mut out = Vec::new();
    for attribute in e.attributes() {
        let attribute = attribute
            .map_err(|err| FileError::new(file, line, format!("attribut mal formé : {err}")))?;
        let key = String::from_utf8_lossy(attribute.key.as_ref());
        let Some(name) = layout.kept(&key) else {
            continue;
        };
        let value = attribute
            .unescape_value()
            .map_err(|err| FileError::new(file, line, format!("attribut mal formé : {err}")))?;
        set(&mut out, name, value.into_owned());
    }
    Ok(out)
}

/// An open record while reading: its depth in the element path, the record, its element's
/// name, its kind, and the child elements seen so far.
struct Open {
    depth: usize,
    record: RawRecord,
    name: &'static str,
    collection: Option<&'static str>,
    children: usize,
}

/// The element path while reading: the depth, and the path below the root (`DONNEES/ELEVES`)
/// in one string, each element's name pushed on its start and cut off on its end.
#[derive(Default)]
struct Path {
    relative: String,
    /// The length of `relative` before each open element below the root.
    starts: Vec<usize>,
    /// Open elements, the root included.
    depth: usize,
}

impl Path {
    fn push(&mut self, name: &str) {
        if self.depth > 0 {
            self.starts.push(self.relative.len());
            if !self.relative.is_empty() {
                self.relative.push('/');
            }
            self.relative.push_str(name);
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        if self.depth > 1 {
            let start = self.starts.pop().expect("open element");
            self.relative.truncate(start);
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// The innermost open element below the root.
    fn last(&self) -> Option<&str> {
        let start = *self.starts.last()?;
        let name = &self.relative[start..];
        Some(name.strip_prefix('/').unwrap_or(name))
    }
}

/// Reads `text` (already decoded) as a file of `layout`, within `limits`, until `interrupt`.
pub fn parse(
    file: &str,
    text: &str,
    layout: &Layout,
    limits: &Limits,
    interrupt: &Interrupt,
) -> Result<RawFile, FileError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut budget = Budget::new(file, limits, interrupt);
    let mut out = RawFile::default();
    let mut path = Path::default();
    let mut root: Option<String> = None;
    let mut open: Vec<Open> = Vec::new();
    let mut in_parameters = false;
    let mut lines = Lines {
        text: text.as_bytes(),
        position: 0,
        line: 1,
    };
    loop {
        let position = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|err| {
            let at = reader.error_position() as usize;
            // An error in the last bytes is a file cut short (a copy or an upload interrupted).
            let what = if at + 64 >= text.trim_end().len() {
                "fichier tronqué"
            } else {
                "XML mal formé"
            };
            FileError::new(file, line_of(text, at), format!("{what} : {err}"))
        })?;
        // The event starts after the whitespace `trim_text` dropped (the line break before a tag).
        let start = position
            + text.as_bytes()[position..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        let line = lines.at(start);
        budget.event(line)?;
        if let Event::Start(e) | Event::Empty(e) = &event {
            let name = String::from_utf8_lossy(e.name().into_inner());
            let depth = path.depth + 1;
            budget.element(line, &name, depth, e)?;
            if let Some(o) = open.last_mut().filter(|o| o.depth + 1 == depth) {
                o.children += 1;
                budget.child(line, o.name, o.record.line, o.children)?;
            }
        }
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().into_inner());
                if path.depth == 0 {
                    if name != layout.root {
                        return Err(FileError::new(
                            file,
                            line,
                            format!(
                                "élément racine <{name}> inattendu : <{}> attendu",
                                layout.root
                            ),
                        ));
                    }
                    root = Some(name.clone().into_owned());
                }
                path.push(&name);
                let collection = layout
                    .collections
                    .iter()
                    .find(|c| **c == path.relative)
                    .map(|c| c.rsplit('/').next().expect("element"));
                let sub_record = layout
                    .sub_records
                    .iter()
                    .copied()
                    .find(|s| *s == name)
                    .filter(|_| open.last().is_some_and(|o| o.depth + 1 == path.depth));
                if let Some(record) = collection.or(sub_record) {
                    budget.record(line, record)?;
                    open.push(Open {
                        depth: path.depth,
                        record: RawRecord {
                            line,
                            attributes: attributes(file, line, &e, layout)?,
                            ..RawRecord::default()
                        },
                        name: record,
                        collection,
                        children: 0,
                    });
                } else if path.relative == "PARAMETRES" {
                    in_parameters = true;
                }
            }
            Event::Empty(e) if path.depth == 0 => {
                return Err(FileError::new(
                    file,
                    line,
                    format!("élément racine <{}> vide", name_of(&e)),
                ));
            }
            Event::Text(t) => {
                let Some(element) = path.last().and_then(|name| layout.kept(name)) else {
                    continue;
                };
                let fields = match open.last_mut().filter(|o| o.depth + 1 == path.depth) {
                    Some(o) => &mut o.record.fields,
                    None if in_parameters && path.depth == 3 => &mut out.parameters.fields,
                    None => continue,
                };
                let value = t
                    .unescape()
                    .map_err(|err| FileError::new(file, line, format!("texte mal formé : {err}")))?
                    .into_owned();
                set(fields, element, value);
            }
            Event::End(_) => {
                if open.last().is_some_and(|o| o.depth == path.depth) {
                    let done = open.pop().expect("open record");
                    match (done.collection, open.last_mut()) {
                        (Some(collection), _) => {
                            out.records.entry(collection).or_default().push(done.record)
                        }
                        (None, Some(parent)) => parent.record.children.push(done.record),
                        (None, None) => {}
                    }
                }
                if path.depth == 2 && path.relative == "PARAMETRES" {
                    in_parameters = false;
                }
                path.pop();
            }
            Event::Eof => {
                if path.depth > 0 {
                    let unclosed = path.last().or(root.as_deref()).unwrap_or_default();
                    return Err(FileError::new(
                        file,
                        line_of(text, text.len()),
                        format!("fichier tronqué : l'élément <{unclosed}> n'est jamais fermé"),
                    ));
                }
                if root.is_none() {
                    return Err(FileError::new(
                        file,
                        1,
                        format!("fichier vide : l'élément <{}> est absent", layout.root),
                    ));
                }
                return Ok(out);
            }
            _ => {}
        }
    }
}
