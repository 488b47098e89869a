//! Reading one Siècle XML export into raw records: the bytes decoded from the encoding the file
//! declares (ISO-8859-15 in real exports), the XML checked to be complete and well formed, the
//! records of the known collections gathered with their line numbers. Unknown elements are
//! ignored; nothing is interpreted here (see `validate.rs`).

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::FileError;

/// One record: an element of a collection (`ELEVE`, `PERSONNE`...), its attributes, the text of
/// its child elements, and its sub-records (`STRUCTURE` of a `STRUCTURES_ELEVE`).
/// Attributes and fields are short lists (a dozen at most), read by name: a vector searched from
/// its end (the last of two same-named elements wins) costs less than a map built per record.
#[derive(Debug, Default, Clone)]
pub struct RawRecord {
    pub line: usize,
    pub attributes: Vec<(String, String)>,
    pub fields: Vec<(String, String)>,
    pub children: Vec<RawRecord>,
}

fn last<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .filter(|s| !s.is_empty())
}

impl RawRecord {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        last(&self.attributes, name)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        last(&self.fields, name)
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
}

/// Decodes `bytes` as the XML declaration says (UTF-8 when it says nothing), refusing a file
/// declared ISO-8859-15 (or Latin-1) whose bytes are in fact UTF-8: its accents would be read as
/// `Ã©`.
pub fn decode(file: &str, bytes: &[u8]) -> Result<String, FileError> {
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
    Ok(text.into_owned())
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

fn attributes(
    file: &str,
    line: usize,
    e: &BytesStart<'_>,
) -> Result<Vec<(String, String)>, FileError> {
    let mut out = Vec::new();
    for attribute in e.attributes() {
        let attribute = attribute
            .map_err(|err| FileError::new(file, line, format!("attribut mal formé : {err}")))?;
        let value = attribute
            .unescape_value()
            .map_err(|err| FileError::new(file, line, format!("attribut mal formé : {err}")))?;
        out.push((
            String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(out)
}

/// An open record while reading: its depth in the element path, the record, and its kind.
struct Open {
    depth: usize,
    record: RawRecord,
    collection: Option<&'static str>,
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

/// Reads `text` (already decoded) as a file of `layout`.
pub fn parse(file: &str, text: &str, layout: &Layout) -> Result<RawFile, FileError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
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
        let line = lines.at(position);
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
                let sub_record = open.last().is_some_and(|o| o.depth + 1 == path.depth)
                    && layout.sub_records.contains(&&*name);
                if collection.is_some() || sub_record {
                    open.push(Open {
                        depth: path.depth,
                        record: RawRecord {
                            line,
                            attributes: attributes(file, line, &e)?,
                            ..RawRecord::default()
                        },
                        collection,
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
                let value = t
                    .unescape()
                    .map_err(|err| FileError::new(file, line, format!("texte mal formé : {err}")))?
                    .into_owned();
                let Some(element) = path.last() else {
                    continue;
                };
                if let Some(o) = open.last_mut().filter(|o| o.depth + 1 == path.depth) {
                    o.record.fields.push((element.to_owned(), value));
                } else if in_parameters && path.depth == 3 {
                    out.parameters.fields.push((element.to_owned(), value));
                }
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
