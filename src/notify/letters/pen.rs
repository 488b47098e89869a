//! What a letter is drawn with: the embedded DejaVu faces (subset by krilla, with a ToUnicode
//! map, so that the text copies and extracts as written), measured and wrapped lines, boxes,
//! and the tag tree that gives screen readers the reading order (docs/adr/0009-pdf-letters.md).

use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{ArtifactType, ContentTag, Identifier, SpanTag};
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{charmap::Charmap, FontRef, MetadataProvider};

// DejaVu fonts (Bitstream Vera licence): assets/fonts/LICENSE.
static SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
static MONO_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// DSFR's "bleu France" for titles and frames, a dark grey for secondary text.
pub(in crate::notify) const BLUE: Color = (0, 0, 145);
pub(in crate::notify) const GREY: Color = (88, 88, 88);
pub(in crate::notify) const BLACK: Color = (22, 22, 22);
const PANEL: Color = (238, 238, 255);

/// Red, green, blue.
pub(in crate::notify) type Color = (u8, u8, u8);

/// One typeface: krilla's handle (what is embedded) and skrifa's metrics (what we measure).
pub(in crate::notify) struct Face {
    pub font: Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> anyhow::Result<Face> {
        let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(data);
        let font = Font::new(bytes.into(), 0)
            .ok_or_else(|| anyhow::anyhow!("an embedded font cannot be read"))?;
        let parsed = FontRef::new(data)?;
        Ok(Face {
            font,
            charmap: parsed.charmap(),
            // Advances in em: multiplied by the font size when measuring.
            metrics: parsed.glyph_metrics(Size::new(1.0), LocationRef::default()),
        })
    }

    /// The advance of `text` at `size` points (no kerning: close enough to wrap and align).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let em: f32 = text
            .chars()
            .filter_map(|c| self.charmap.map(c))
            .filter_map(|glyph| self.metrics.advance_width(glyph))
            .sum();
        em * size
    }

    /// Greedy word wrapping into lines no wider than `width`; a word longer than a line (a URL)
    /// stays whole on its own line rather than being cut where a reader would not expect it.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(&candidate, size) > width {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

pub(in crate::notify) struct Fonts {
    pub sans: Face,
    pub bold: Face,
    pub mono: Face,
}

impl Fonts {
    pub fn load() -> anyhow::Result<Fonts> {
        Ok(Fonts {
            sans: Face::load(SANS)?,
            bold: Face::load(SANS_BOLD)?,
            mono: Face::load(MONO_BOLD)?,
        })
    }
}

/// Draws on one page, each line a tagged span whose identifier the caller places in the tag
/// tree; frames and rules are artifacts, which screen readers skip.
pub(in crate::notify) struct Pen<'a, 'p> {
    pub surface: &'a mut Surface<'p>,
}

impl Pen<'_, '_> {
    /// One line of text with its baseline at `y`.
    pub fn text(
        &mut self,
        (x, y): (f32, f32),
        face: &Face,
        size: f32,
        color: Color,
        text: &str,
    ) -> Identifier {
        let id = self
            .surface
            .start_tagged(ContentTag::Span(SpanTag::empty()));
        self.surface.set_fill(Some(fill(color)));
        self.surface.draw_text(
            Point::from_xy(x, y),
            face.font.clone(),
            size,
            text,
            false,
            TextDirection::LeftToRight,
        );
        self.surface.end_tagged();
        id
    }

    /// Lines already wrapped, from the baseline `y`, `leading` apart; returns the next baseline.
    pub fn lines(
        &mut self,
        (x, y): (f32, f32),
        style: (&Face, f32, f32, Color),
        lines: &[String],
        ids: &mut Vec<Identifier>,
    ) -> f32 {
        let (face, size, leading, color) = style;
        let mut baseline = y;
        for line in lines {
            ids.push(self.text((x, baseline), face, size, color, line));
            baseline += leading;
        }
        baseline
    }

    /// A tinted panel with a coloured left border, behind the identifier and password.
    pub fn panel(&mut self, rect: Rect) {
        self.artifact(|surface| {
            surface.set_stroke(None);
            surface.set_fill(Some(fill(PANEL)));
            surface.draw_path(&rectangle(rect));
            let border = Rect::from_xywh(rect.left(), rect.top(), 4.0, rect.height());
            if let Some(border) = border {
                surface.set_fill(Some(fill(BLUE)));
                surface.draw_path(&rectangle(border));
            }
        });
    }

    /// A thin horizontal rule.
    pub fn rule(&mut self, (x, y): (f32, f32), width: f32) {
        self.artifact(|surface| {
            let mut path = PathBuilder::new();
            path.move_to(x, y);
            path.line_to(x + width, y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(GREY.0, GREY.1, GREY.2).into(),
                    width: 0.5,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        });
    }

    fn artifact(&mut self, draw: impl FnOnce(&mut Surface<'_>)) {
        self.surface
            .start_tagged(ContentTag::Artifact(ArtifactType::Other));
        draw(self.surface);
        self.surface.end_tagged();
    }
}

fn fill((red, green, blue): Color) -> Fill {
    Fill {
        paint: rgb::Color::new(red, green, blue).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn rectangle(rect: Rect) -> krilla::geom::Path {
    let mut path = PathBuilder::new();
    path.push_rect(rect);
    path.finish().expect("a rectangle is a path")
}
