//! Request parameters (`application/x-www-form-urlencoded`, query or body) decoded without
//! altering them: OAuth parameters are UTF-8 (RFC 6749 Appendix B), and a value that is not is
//! reported, never replaced with U+FFFD (review #13.13: an invalid `state` came back altered).

/// The decoded pairs, in order, and the names whose value was not UTF-8 (left out of `pairs`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FormPairs {
    pub pairs: Vec<(String, String)>,
    pub malformed: Vec<String>,
}

pub fn decode(raw: &[u8]) -> FormPairs {
    let mut form = FormPairs::default();
    for piece in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|b| *b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &[][..]),
        };
        let name = String::from_utf8_lossy(&unescape(name)).into_owned();
        match String::from_utf8(unescape(value)) {
            Ok(value) => form.pairs.push((name, value)),
            Err(_) => {
                if !form.malformed.contains(&name) {
                    form.malformed.push(name);
                }
            }
        }
    }
    form
}

fn unescape(bytes: &[u8]) -> Vec<u8> {
    let plus_as_space: Vec<u8> = bytes
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus_as_space).collect()
}

/// The names that appear more than once among `pairs` (RFC 6749 §3.1: parameters must not).
pub fn repeated(pairs: &[(String, String)]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut repeated = Vec::new();
    for (name, _) in pairs {
        if !seen.insert(name.as_str()) && !repeated.contains(name) {
            repeated.push(name.clone());
        }
    }
    repeated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_untouched_and_invalid_utf8_is_reported() {
        let form = decode(b"state=a%26b+c%C3%A9&nonce=%FF%FE&flag&x=%E2%82");
        assert_eq!(
            form.pairs,
            vec![
                ("state".into(), "a&b cé".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(form.malformed, vec!["nonce".to_owned(), "x".to_owned()]);
        // A replacement character sent on purpose is kept.
        assert_eq!(
            decode(b"s=%EF%BF%BD").pairs,
            vec![("s".into(), "\u{fffd}".into())]
        );
    }

    #[test]
    fn repeated_names_are_found_once_each() {
        let form = decode(b"a=1&b=2&a=3&a=4&c=5&b=");
        assert_eq!(repeated(&form.pairs), vec!["a".to_owned(), "b".to_owned()]);
    }
}
