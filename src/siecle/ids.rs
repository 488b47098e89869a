//! The national identifiers of the Siècle exports: the establishment's UAI and the pupil's INE.

use std::fmt;

/// Letters of the UAI check character, indexed by the 7-digit number modulo 23.
const UAI_CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// An establishment's UAI (unité administrative immatriculée, formerly RNE): 7 digits and a
/// check letter, the letter being `ABCDEFGHJKLMNPRSTUVWXYZ`[number mod 23] (`0750001A`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uai(String);

impl Uai {
    /// Parses a UAI; lower-case check letters are accepted and normalized.
    pub fn parse(value: &str) -> Result<Uai, String> {
        let value = value.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        if bytes.len() != 8 || !bytes[..7].iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "UAI « {value} » invalide : 7 chiffres et une lettre de contrôle attendus"
            ));
        }
        let number: usize = value[..7].parse().expect("seven digits");
        let expected = UAI_CHECK_LETTERS[number % 23];
        if bytes[7] != expected {
            return Err(format!(
                "UAI « {value} » invalide : la lettre de contrôle devrait être {}",
                expected as char
            ));
        }
        Ok(Uai(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The académie of the establishment, from the département its UAI starts with (`075` Paris,
    /// `620`/`720` Corse, `971`... overseas); `None` for a code that is no département.
    pub fn academy(&self) -> Option<&'static str> {
        let code = &self.0[..3];
        ACADEMIES
            .iter()
            .find(|(_, departements)| departements.contains(&code))
            .map(|(academy, _)| *academy)
    }
}

/// The académie of this name, as `Uai::academy` spells it (what an `assistance` role records).
pub fn academy_named(name: &str) -> Option<&'static str> {
    ACADEMIES
        .iter()
        .find(|(academy, _)| *academy == name)
        .map(|(academy, _)| *academy)
}

/// Every académie's name.
pub fn academies() -> impl Iterator<Item = &'static str> {
    ACADEMIES.iter().map(|(academy, _)| *academy)
}

/// The académies (since the 2020 Normandie merger) and the département codes of their UAIs.
const ACADEMIES: &[(&str, &[&str])] = &[
    ("Aix-Marseille", &["004", "005", "013", "084"]),
    ("Amiens", &["002", "060", "080"]),
    ("Besançon", &["025", "039", "070", "090"]),
    ("Bordeaux", &["024", "033", "040", "047", "064"]),
    ("Clermont-Ferrand", &["003", "015", "043", "063"]),
    ("Corse", &["620", "720"]),
    ("Créteil", &["077", "093", "094"]),
    ("Dijon", &["021", "058", "071", "089"]),
    ("Grenoble", &["007", "026", "038", "073", "074"]),
    ("Lille", &["059", "062"]),
    ("Limoges", &["019", "023", "087"]),
    ("Lyon", &["001", "042", "069"]),
    ("Montpellier", &["011", "030", "034", "048", "066"]),
    ("Nancy-Metz", &["054", "055", "057", "088"]),
    ("Nantes", &["044", "049", "053", "072", "085"]),
    ("Nice", &["006", "083"]),
    ("Normandie", &["014", "027", "050", "061", "076"]),
    ("Orléans-Tours", &["018", "028", "036", "037", "041", "045"]),
    ("Paris", &["075"]),
    ("Poitiers", &["016", "017", "079", "086"]),
    ("Reims", &["008", "010", "051", "052"]),
    ("Rennes", &["022", "029", "035", "056"]),
    ("Strasbourg", &["067", "068"]),
    (
        "Toulouse",
        &["009", "012", "031", "032", "046", "065", "081", "082"],
    ),
    ("Versailles", &["078", "091", "092", "095"]),
    ("Guadeloupe", &["971"]),
    ("Martinique", &["972"]),
    ("Guyane", &["973"]),
    ("La Réunion", &["974"]),
    ("Mayotte", &["976"]),
];

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pupil's INE (identifiant national élève), 11 characters: the INE-RNIE form (9 digits and 2
/// letters, as the exports carry) or the INE-BEA form (10 digits or letters and a check letter).
/// It identifies a pupil nationally, across establishments and years.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ine(String);

impl Ine {
    pub fn parse(value: &str) -> Result<Ine, String> {
        let value = value.trim().to_ascii_uppercase();
        let b = value.as_bytes();
        let rnie = b.len() == 11
            && b[..9].iter().all(u8::is_ascii_digit)
            && b[9..].iter().all(u8::is_ascii_uppercase);
        let bea = b.len() == 11
            && b[..10].iter().all(u8::is_ascii_alphanumeric)
            && b[..10].iter().any(u8::is_ascii_digit)
            && b[10].is_ascii_uppercase();
        if rnie || bea {
            Ok(Ine(value))
        } else {
            Err(format!(
                "INE « {value} » invalide : 11 caractères attendus (9 chiffres et 2 lettres, ou \
                 10 chiffres ou lettres et une lettre de contrôle)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_departement_belongs_to_one_academie() {
        let uai = |code: &str| {
            let number: usize = format!("{code}0001").parse().unwrap();
            Uai::parse(&format!(
                "{code}0001{}",
                UAI_CHECK_LETTERS[number % 23] as char
            ))
            .unwrap()
        };
        for departement in (1..=95).filter(|d| *d != 20) {
            let code = format!("{departement:03}");
            let found: Vec<_> = ACADEMIES
                .iter()
                .filter(|(_, d)| d.contains(&code.as_str()))
                .collect();
            assert_eq!(found.len(), 1, "{code}");
        }
        assert_eq!(uai("075").academy(), Some("Paris"));
        assert_eq!(uai("620").academy(), Some("Corse"));
        assert_eq!(uai("974").academy(), Some("La Réunion"));
        assert_eq!(uai("999").academy(), None);
    }

    #[test]
    fn a_uai_has_seven_digits_and_its_check_letter() {
        let number = 750_001usize;
        let letter = UAI_CHECK_LETTERS[number % 23] as char;
        let valid = format!("0750001{letter}");
        assert_eq!(Uai::parse(&valid).unwrap().as_str(), valid);
        assert_eq!(
            Uai::parse(&valid.to_lowercase()).unwrap().as_str(),
            valid,
            "normalized"
        );
        let wrong = if letter == 'A' { 'B' } else { 'A' };
        let error = Uai::parse(&format!("0750001{wrong}")).unwrap_err();
        assert!(error.contains(&format!("devrait être {letter}")), "{error}");
        for bad in ["", "075000", "07500011", "A750001M", "0750001"] {
            assert!(Uai::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_fixtures_uais_are_valid() {
        assert!(Uai::parse("2530829B").is_ok());
        assert!(Uai::parse("5433012Y").is_ok());
    }

    #[test]
    fn an_ine_has_eleven_characters_in_one_of_its_forms() {
        for good in ["280119790DK", "1234567890A", "12345ABCDEF"] {
            assert!(Ine::parse(good).is_ok(), "{good}");
        }
        assert_eq!(Ine::parse("280119790dk").unwrap().as_str(), "280119790DK");
        for bad in [
            "",
            "28011979DK",
            "280119790DK1",
            "ABCDEFGHIJK",
            "2801197900-",
        ] {
            assert!(Ine::parse(bad).is_err(), "{bad}");
        }
    }
}
