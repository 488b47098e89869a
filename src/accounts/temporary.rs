//! Temporary passwords: what a notification letter prints, to be replaced at the first login.
//! Drawn from the CSPRNG in an alphabet without look-alikes (no `0`/`o`, `1`/`l`/`i`; lower case
//! only, so nothing depends on reading a capital off paper), twelve characters (about 59 bits:
//! enough behind the login throttle), shown in groups of four. Only the argon2id hash of the
//! characters is kept; what a person types is read back without the separators or the case.

use rand::Rng;

use crate::secrets::Secret;

const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 12;
const GROUP: usize = 4;

/// A temporary password: its characters, and the grouped form a letter prints.
pub struct TemporaryPassword {
    characters: Secret,
}

impl TemporaryPassword {
    pub fn generate() -> TemporaryPassword {
        let mut rng = rand::rngs::OsRng;
        let characters: String = (0..LENGTH)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        TemporaryPassword {
            characters: Secret::from_presented(&characters),
        }
    }

    /// What is hashed and checked (`typed` reads a typed password back to it).
    pub fn characters(&self) -> &Secret {
        &self.characters
    }

    /// As printed: `abcd-efgh-jkmn`.
    pub fn shown(&self) -> Secret {
        let grouped = self
            .characters
            .expose()
            .as_bytes()
            .chunks(GROUP)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-");
        Secret::from_presented(&grouped)
    }
}

/// A password typed for an account whose password is temporary, read back to its characters:
/// the letter's dashes, spaces, and capitals typed by habit do not matter.
pub fn typed(password: &Secret) -> Secret {
    let characters: String = password
        .expose()
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{a0}'))
        .flat_map(char::to_lowercase)
        .collect();
    Secret::from_presented(&characters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_password_has_no_look_alikes_and_reads_back_as_printed() {
        let password = TemporaryPassword::generate();
        let characters = password.characters().expose().to_owned();
        assert_eq!(characters.len(), LENGTH);
        assert!(characters.bytes().all(|c| ALPHABET.contains(&c)));
        assert!(!characters.contains(['0', 'o', '1', 'l', 'i']));
        let shown = password.shown().expose().to_owned();
        assert_eq!(shown.len(), LENGTH + 2);
        assert_eq!(shown.matches('-').count(), 2);
        assert_eq!(typed(&Secret::from_presented(&shown)).expose(), characters);
        let sloppy = format!(" {} ", shown.to_uppercase().replace('-', " "));
        assert_eq!(typed(&Secret::from_presented(&sloppy)).expose(), characters);
        assert_ne!(
            TemporaryPassword::generate().characters().expose(),
            characters
        );
    }
}
