//! Notification letters: one A4 page per person, in French, with the identifier, the temporary
//! password (or the sentence saying the current one stays valid), the address of the service
//! and the activation steps. A pure renderer: the caller has chosen the accounts, generated
//! and stored the passwords; this module only lays them out. It never logs a password.
//!
//! `wording` holds the text, `page` the layout of one letter, `pen` the drawing primitives.

mod page;
pub(in crate::notify) mod pen;
pub mod wording;

use krilla::configure::{Configuration, PdfVersion};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::tagging::TagTree;
use krilla::{Document, SerializeSettings};

use crate::accounts::{LoginId, Profile};
use crate::secrets::Secret;
use crate::siecle::{Date, Uai};

pub use wording::french_date;

/// One person's letter.
#[derive(Clone, Debug)]
pub struct Letter {
    pub establishment: EstablishmentHeading,
    pub given_name: String,
    pub family_name: String,
    pub profile: Profile,
    pub login: LoginId,
    pub password: LetterPassword,
    /// Where to log in (the establishment's ENT, or the service's own address).
    pub service_url: String,
    pub issued_on: Date,
    /// A guardian's (or person in charge's) children in this establishment, in the order
    /// they are listed; empty for a pupil.
    pub children: Vec<Child>,
}

/// The establishment that hands out the letter, as printed at its top.
#[derive(Clone, Debug)]
pub struct EstablishmentHeading {
    pub name: String,
    pub uai: Uai,
}

#[derive(Clone, Debug)]
pub enum LetterPassword {
    /// A new temporary password, printed as given (already grouped for reading).
    Temporary { password: Secret, valid_until: Date },
    /// An active account notified without a reset: no password on the letter.
    Unchanged,
}

#[derive(Clone, Debug)]
pub struct Child {
    pub given_name: String,
    pub family_name: String,
    /// The class (division), e.g. `6B`.
    pub class: String,
}

/// One PDF holding one A4 page per letter, in the order given (the caller sorts them by class
/// then name so that they can be handed out). Fails if a letter cannot fit on its page.
pub fn render(letters: &[Letter]) -> anyhow::Result<Vec<u8>> {
    let fonts = pen::Fonts::load()?;
    let mut document = Document::new_with(SerializeSettings {
        // PDF 1.7 with tagging: the reading order for screen readers (issue #15).
        configuration: Configuration::new_with_version(PdfVersion::Pdf17),
        ..SerializeSettings::default()
    });
    document.set_metadata(
        Metadata::new()
            .title("Notification de compte EduConnect".to_owned())
            .language("fr-FR".to_owned())
            .creator("educonnect".to_owned()),
    );
    let mut tags = TagTree::new();
    for letter in letters {
        let mut page = document.start_page_with(
            PageSettings::from_wh(page::A4.0, page::A4.1).expect("A4 is a valid page size"),
        );
        let mut surface = page.surface();
        let drawn = page::draw(
            &mut pen::Pen {
                surface: &mut surface,
            },
            &fonts,
            letter,
        );
        surface.finish();
        page.finish();
        tags.push(drawn?);
    }
    document.set_tag_tree(tags);
    document
        .finish()
        .map_err(|error| anyhow::anyhow!("the letters cannot be written as PDF: {error:?}"))
}
