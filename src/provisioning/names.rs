//! Normal forms of what Siècle records about a person: the keys the import compares to find a
//! guardian again in another establishment, and the stem of a login identifier.
//!
//! Secretaries type the same name differently from one establishment to the next (accents,
//! hyphens, apostrophes, case), so comparisons use folded forms: ASCII, upper case, letters and
//! digits only.

use crate::siecle::{Address, Person};

/// `Hélène` → `HELENE`, `N'DIAYE` → `NDIAYE`, `De la Tour` → `DELATOUR`.
pub fn fold(name: &str) -> String {
    deunicode::deunicode(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A French mobile number as ten digits (`+33 6 12 34 56 78` → `0612345678`); `None` when the
/// value is not one (a landline or a placeholder proves nothing about who the person is).
pub fn mobile(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let international = digits.strip_prefix("0033").or_else(|| {
        digits
            .strip_prefix("33")
            .filter(|_| raw.trim_start().starts_with('+'))
    });
    let national = match international {
        Some(rest) => format!("0{rest}"),
        None => digits,
    };
    let mobile = national.len() == 10
        && (national.starts_with("06") || national.starts_with("07"))
        && national[2..]
            .chars()
            .any(|c| c != national.as_bytes()[2] as char);
    mobile.then_some(national)
}

/// E-mail addresses compare case-insensitively.
pub fn email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    email.contains('@').then_some(email)
}

/// Street lines and postal code, folded: `12 rue de l'Église, 75011` → `12RUEDELEGLISE|75011`.
pub fn address_key(address: &Address) -> Option<String> {
    let street: String = address.lines.iter().map(|l| fold(l)).collect();
    let postal = address.postal_code.as_deref().map(fold).unwrap_or_default();
    (!street.is_empty()).then(|| format!("{street}|{postal}"))
}

/// One line for display and letters: street lines, postal code and town.
pub fn address_line(address: &Address) -> String {
    let mut parts: Vec<&str> = address.lines.iter().map(String::as_str).collect();
    let town = [address.postal_code.as_deref(), address.town.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !town.is_empty() {
        parts.push(&town);
    }
    parts.join(", ")
}

/// What makes a person recognizable from one establishment to another: the folded names and
/// the strong attributes (mobile, e-mail, address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traits {
    pub family_key: String,
    pub given_key: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub address_key: Option<String>,
}

impl Traits {
    pub fn of(person: &Person) -> Traits {
        Traits {
            family_key: fold(&person.family_name),
            given_key: fold(&person.given_name),
            mobile: person.mobile.as_deref().and_then(mobile),
            email: person.email.as_deref().and_then(email),
            address_key: person.address.as_ref().and_then(address_key),
        }
    }

    /// The lookup keys: the family name with each strong attribute. The given name is left out
    /// so that a misspelled given name still finds its candidates.
    pub fn mobile_key(&self) -> Option<String> {
        self.mobile
            .as_ref()
            .map(|m| format!("{}:{m}", self.family_key))
    }

    pub fn email_key(&self) -> Option<String> {
        self.email
            .as_ref()
            .map(|e| format!("{}:{e}", self.family_key))
    }

    pub fn address_key(&self) -> Option<String> {
        self.address_key
            .as_ref()
            .map(|a| format!("{}:{a}", self.family_key))
    }
}

/// The stem of a login identifier: the given name's first letter, a dot, the family name in
/// ASCII lower case without spaces or apostrophes (`Éloi`, `N'DIAYE` → `e.ndiaye`). Digits are
/// added by the import (`e.ndiaye01`).
pub fn login_stem(given_name: &str, family_name: &str) -> String {
    let initial = deunicode::deunicode(given_name)
        .chars()
        .find(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or('x');
    let mut family: String = deunicode::deunicode(family_name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    family = family.trim_matches('-').to_owned();
    while family.contains("--") {
        family = family.replace("--", "-");
    }
    if family.is_empty() {
        family.push('x');
    }
    // LoginId allows 64 characters; keep room for the digits.
    family.truncate(50);
    format!("{initial}.{family}")
}

/// A login from its stem and number: at least two digits (`j.dupont07`, `j.dupont123`).
pub fn login(stem: &str, number: i64) -> String {
    format!("{stem}{number:02}")
}

/// Whether two folded given names are plausibly the same name typed differently: one letter
/// missing, added, replaced or two swapped, or one compound name starting with the other
/// (`JEANBAPTISTE` and `JEAN`).
pub fn close_given_names(a: &str, b: &str) -> bool {
    if a == b || a.is_empty() || b.is_empty() {
        return a == b;
    }
    let allowed = if a.len().min(b.len()) >= 8 { 2 } else { 1 };
    strsim::damerau_levenshtein(a, b) <= allowed
        || (a.len().min(b.len()) >= 4 && (a.starts_with(b) || b.starts_with(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_names_ignore_accents_case_and_punctuation() {
        assert_eq!(fold("Hélène"), "HELENE");
        assert_eq!(fold("N'DIAYE"), "NDIAYE");
        assert_eq!(fold("De la Tour"), "DELATOUR");
        assert_eq!(fold("MÜLLER"), "MULLER");
        assert_eq!(fold("Jean-Baptiste"), fold("JEAN BAPTISTE"));
    }

    #[test]
    fn login_stems_follow_the_usual_form() {
        assert_eq!(login_stem("Jean", "DUPONT"), "j.dupont");
        assert_eq!(login_stem("Éloi", "N'DIAYE"), "e.ndiaye");
        assert_eq!(login_stem("Zoé", "DE LA TOUR"), "z.delatour");
        assert_eq!(login_stem("Jules", "SAINT-JUST"), "j.saint-just");
        assert_eq!(login_stem("Anaïs", "ÉTIENNE"), "a.etienne");
        assert_eq!(login_stem("Maëlys", "O'CONNOR"), "m.oconnor");
        assert_eq!(login("j.dupont", 7), "j.dupont07");
        assert_eq!(login("j.dupont", 123), "j.dupont123");
        for (given, family) in [("Noé", "MÜLLER"), ("", "''"), ("Léa", "BEN SALAH")] {
            let login = login(&login_stem(given, family), 42);
            assert!(crate::accounts::LoginId::parse(&login).is_some(), "{login}");
        }
    }

    #[test]
    fn mobiles_are_normalized_and_placeholders_refused() {
        assert_eq!(mobile("06 12 34 56 78").as_deref(), Some("0612345678"));
        assert_eq!(mobile("+33 7 12 34 56 78").as_deref(), Some("0712345678"));
        assert_eq!(mobile("0033612345678").as_deref(), Some("0612345678"));
        assert_eq!(mobile("0145678901"), None, "a landline");
        assert_eq!(mobile("0600000000"), None, "a placeholder");
    }

    #[test]
    fn given_names_one_typo_apart_are_close() {
        assert!(close_given_names("NATHALIE", "NATHLIE"));
        assert!(close_given_names("SOPHIE", "SOHPIE"));
        assert!(close_given_names("JEANBAPTISTE", "JEAN"));
        assert!(!close_given_names("MARIE", "MICHEL"));
        assert!(!close_given_names("JEAN", "ALAIN"));
        assert!(!close_given_names("ERIC", "ALICE"));
    }
}
