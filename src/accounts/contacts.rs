//! Contact details a person types: an e-mail address, a mobile number, parsed at the edge into
//! their normal form (the form Siècle's are stored in, so that they compare). Whether they
//! reach the person is what a code proves (`accounts::one_time`).
//!
//! DESIGN.md, contact details: the account's own (verified by a code: `verified_email`,
//! `verified_phone`) are kept apart from Siècle's (`email`, `phone`, used for matching and for
//! a guardian's self-registration); an import never writes the former; recovery uses only them.

/// A plausible e-mail address, lower-cased: one `@`, a dot in the domain, no spaces, at most
/// 254 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(typed: &str) -> Option<EmailAddress> {
        let address = typed.trim().to_lowercase();
        let (local, domain) = address.split_once('@')?;
        let plausible = address.len() <= 254
            && !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !address.chars().any(|c| c.is_whitespace() || c.is_control());
        plausible.then_some(EmailAddress(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A French mobile number in its national form (`0612345678`), from what a person types
/// (`06 12 34 56 78`, `+33 6 12 34 56 78`): the form the import stores Siècle's numbers in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(typed: &str) -> Option<Mobile> {
        if typed.len() > 32 {
            return None;
        }
        crate::provisioning::names::mobile(typed).map(Mobile)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `06 •• •• •1 02`: enough for the person to recognize their number, not enough to learn
    /// someone else's.
    pub fn masked(&self) -> String {
        let n = &self.0;
        format!("{} •• •• •{} {}", &n[..2], &n[7..8], &n[8..])
    }
}

/// `c•••••@exemple.fr`: the same, for an address.
pub fn masked_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••••@{domain}")
        }
        None => "•••••".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_plausible_or_refused() {
        assert_eq!(
            EmailAddress::parse("  Lea.Martin@Exemple.FR ").map(|a| a.0),
            Some("lea.martin@exemple.fr".into())
        );
        for bad in [
            "",
            "lea",
            "lea@",
            "@exemple.fr",
            "lea@exemple",
            "lea@.fr",
            "le a@x.fr",
            "a@b@c.fr",
        ] {
            assert_eq!(EmailAddress::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_mobile_is_read_in_its_usual_forms_and_shown_masked() {
        let m = Mobile::parse("+33 6 39 98 01 02").unwrap();
        assert_eq!(m.as_str(), "0639980102");
        assert_eq!(Mobile::parse("06.39.98.01.02"), Some(m.clone()));
        assert_eq!(m.masked(), "06 •• •• •1 02");
        assert_eq!(Mobile::parse("01 45 67 89 01"), None, "a landline");
        assert_eq!(Mobile::parse(&"0".repeat(40)), None);
        assert_eq!(masked_address("claire@exemple.fr"), "c•••••@exemple.fr");
    }
}
