//! Levels (*niveaux*) and the MEF code they are read from. Siècle gives each pupil a
//! `CODE_MEF` (*module élémentaire de formation*, the BCN's `N_MEF` table): 11 characters, of
//! which the first three are the *dispositif de formation* — the year of schooling, `100` for
//! sixième up to `202` for terminale générale — followed by the speciality group (3), an order
//! number (2), the duration of the cycle (1), the year in it (1) and a status (1). Two classes of
//! one level share the dispositif (`6A`, `6B`: `100`), whatever their options, so a level is
//! that prefix; operators name it as they say it (`6E`, `2NDE`, `TLE`), or by the prefix for the
//! other formations (technological, vocational, SEGPA).

use std::fmt;

/// The named levels of the general collège and lycée, with their dispositif de formation.
const NAMED: &[(&str, &str)] = &[
    ("6E", "100"),
    ("5E", "101"),
    ("4E", "102"),
    ("3E", "103"),
    ("2NDE", "200"),
    ("1ERE", "201"),
    ("TLE", "202"),
];

/// Other ways an operator writes a named level, read after folding case and accents.
const ALIASES: &[(&str, &str)] = &[
    ("6", "6E"),
    ("6EME", "6E"),
    ("SIXIEME", "6E"),
    ("5", "5E"),
    ("5EME", "5E"),
    ("CINQUIEME", "5E"),
    ("4", "4E"),
    ("4EME", "4E"),
    ("QUATRIEME", "4E"),
    ("3", "3E"),
    ("3EME", "3E"),
    ("TROISIEME", "3E"),
    ("2DE", "2NDE"),
    ("2NDE", "2NDE"),
    ("SECONDE", "2NDE"),
    ("1RE", "1ERE"),
    ("1ERE", "1ERE"),
    ("PREMIERE", "1ERE"),
    ("T", "TLE"),
    ("TERM", "TLE"),
    ("TERMINALE", "TLE"),
];

/// A level: the dispositif de formation of the pupils' MEF codes (three digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Level(String);

/// A `CODE_MEF` as Siècle writes it: 10 or 11 digits (the BCN's 10-character form has no
/// status). Anything else is not a MEF and is not kept.
pub fn mef(value: &str) -> Option<String> {
    let value = value.trim();
    ((10..=11).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.to_owned())
}

impl Level {
    /// The level of a pupil whose MEF code is `mef` (already checked by [`mef`]).
    pub fn of_mef(mef: &str) -> Option<Level> {
        mef.get(..3).map(|prefix| Level(prefix.to_owned()))
    }

    /// A level as an operator says it: a named one (`6E`, `6ème`, `5e`, `2nde`, `1ère`, `Tle`,
    /// `terminale`…) or a dispositif de formation (three digits, `100`), or a whole MEF code.
    pub fn parse(said: &str) -> Result<Level, String> {
        let folded: String = deunicode::deunicode(said.trim())
            .to_ascii_uppercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if folded.len() == 3 && folded.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Level(folded));
        }
        if let Some(code) = mef(&folded) {
            return Ok(Level(code[..3].to_owned()));
        }
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == folded)
            .map(|(_, name)| *name)
            .or_else(|| NAMED.iter().find(|(n, _)| *n == folded).map(|(n, _)| *n));
        match name.and_then(|n| NAMED.iter().find(|(named, _)| *named == n)) {
            Some((_, code)) => Ok(Level((*code).to_owned())),
            None => Err(format!(
                "niveau « {said} » inconnu : 6E, 5E, 4E, 3E, 2NDE, 1ERE, TLE, ou les trois \
                 premiers chiffres du code MEF (dispositif de formation, par exemple 100)"
            )),
        }
    }

    /// The dispositif de formation (three digits).
    pub fn code(&self) -> &str {
        &self.0
    }

    /// `6E`, `2NDE`…, for a named level.
    pub fn name(&self) -> Option<&'static str> {
        NAMED.iter().find(|(_, c)| *c == self.0).map(|(n, _)| *n)
    }

    /// Whether a pupil with this MEF code is of this level.
    pub fn holds(&self, mef: Option<&str>) -> bool {
        mef.is_some_and(|m| m.starts_with(self.0.as_str()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_read_as_operators_write_it() {
        let code = |s: &str| Level::parse(s).map(|l| l.code().to_owned());
        for said in ["6E", "6e", "6ème", "6EME", "sixième", " 6 "] {
            assert_eq!(code(said), Ok("100".into()), "{said}");
        }
        assert_eq!(code("5E"), Ok("101".into()));
        assert_eq!(code("2nde"), Ok("200".into()));
        assert_eq!(code("Seconde"), Ok("200".into()));
        assert_eq!(code("1ère"), Ok("201".into()));
        assert_eq!(code("Tle"), Ok("202".into()));
        assert_eq!(code("terminale"), Ok("202".into()));
        assert_eq!(code("247"), Ok("247".into()), "a dispositif by its code");
        assert_eq!(code("10010012110"), Ok("100".into()), "a whole MEF code");
        assert!(Level::parse("7E")
            .unwrap_err()
            .contains("niveau « 7E » inconnu"));
        assert!(Level::parse("").is_err());
        assert_eq!(Level::parse("6ème").unwrap().to_string(), "6E");
        assert_eq!(Level::parse("247").unwrap().to_string(), "247");
    }

    #[test]
    fn a_pupil_is_of_the_level_of_their_mef_code() {
        let sixth = Level::parse("6E").unwrap();
        assert!(sixth.holds(Some("10010012110")));
        assert!(!sixth.holds(Some("10110001110")));
        assert!(!sixth.holds(None));
        assert_eq!(Level::of_mef("20010018110"), Level::parse("2NDE").ok());
        assert_eq!(mef(" 10010012110 ").as_deref(), Some("10010012110"));
        assert_eq!(mef("1001001211"), Some("1001001211".into()));
        assert_eq!(mef("6EME"), None);
        assert_eq!(mef("100100121101"), None);
    }
}
